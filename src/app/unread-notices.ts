import { countUnacknowledged } from '../store/notices.ts';
import { type Ctx, reader, requireScope } from './context.ts';

/**
 * How many of the caller's notices are not yet acknowledged: the console's unread count. It counts
 * the caller's own inbox only, which holds just what the projection sent it, so the number is as
 * non-interfering as the notices themselves. Not audited: like the inbox's delivery counters it
 * opens no notice and names no young person (the audit log records access to a subject's data,
 * which listNotices records notice by notice when the content is shown).
 */
export async function countUnreadNotices({ ctx }: { ctx: Ctx }): Promise<number> {
  requireScope(ctx, 'notices:read');
  return countUnacknowledged(reader(ctx.deps), ctx.actor.agencyId);
}

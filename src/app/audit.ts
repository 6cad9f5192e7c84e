import { appendAudit } from '../store/audit.ts';
import type { Tx } from '../store/db.ts';
import type { Ctx } from './context.ts';

/** Records, in the caller's transaction, that the actor did `action` on a subject's data. */
export function auditAccess(
  tx: Tx,
  ctx: Ctx,
  entry: { action: string; subject: string | null; resource: string | null; outcome: string },
): void {
  appendAudit(tx, {
    at: ctx.deps.clock.now().toISOString(),
    agencyId: ctx.actor.agencyId,
    actor: ctx.actor.professional,
    requestId: ctx.requestId,
    ...entry,
  });
}

import { partyLens } from '../policy/lens.ts';
import type { Tx } from '../store/db.ts';
import type { SignalRow } from '../store/signals.ts';
import type { Actor, Ctx } from './context.ts';
import { agencyRef, MatchState, type SubjectHandle } from './matching.ts';
import type { NoticeType } from './notice-schemas.ts';

/**
 * A notice to a signal's own registrant about that signal (expiring, informing overdue). It shows
 * the match only as the policy already lets the registrant see it. `subject` is the signal's.
 */
export async function notifyRegistrant(tx: Tx, ctx: Ctx<Actor>, signal: SignalRow, subject: SubjectHandle, type: NoticeType): Promise<void> {
  const { deps } = ctx;
  // The registrant's own line of matches: what it was told, and nothing of those hidden from it.
  const state = await MatchState.load(tx, deps, subject, partyLens(deps.policy, (await agencyRef(tx, signal.agencyId)).type));
  const told = state.recipient(signal.agencyId) !== undefined;
  if (!told) state.match = undefined; // a registrant that may see nobody must not learn of a match
  await state.notify(signal.agencyId, type, { requestId: ctx.requestId, role: 'party', ...(told ? {} : { parties: [], rules: [deps.policy.informing.rule] }) });
}

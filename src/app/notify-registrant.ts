import type { Deps } from './context.ts';
import { agencyRef, MatchState } from './matching.ts';
import { partyLens } from '../policy/lens.ts';
import type { NoticeType } from './notice-schemas.ts';
import type { Tx } from '../store/db.ts';
import type { SignalRow } from '../store/signals.ts';
import { loadSubjectKey } from '../store/subjects.ts';

/**
 * A notice to a signal's own registrant about that signal (expiring, informing overdue). It shows
 * the match only as the policy already lets the registrant see it.
 */
export async function notifyRegistrant(tx: Tx, deps: Deps, signal: SignalRow, type: NoticeType): Promise<void> {
  const { dataKey, pseudonym } = await loadSubjectKey(tx, deps.keys, signal.subjectId);
  const subject = { subjectId: signal.subjectId, dataKey, pseudonym };
  // The registrant's own line of matches: what it was told, and nothing of those hidden from it.
  const state = await MatchState.load(tx, deps, subject, partyLens(deps.policy, (await agencyRef(tx, signal.agencyId)).type));
  const told = state.recipient(signal.agencyId) !== undefined;
  if (!told) state.match = undefined; // a registrant that may see nobody must not learn of a match
  await state.notify(signal.agencyId, type, { requestId: null, role: 'party', ...(told ? {} : { parties: [], rules: [deps.policy.informing.rule] }) });
}

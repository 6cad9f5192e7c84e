import { partyLens } from '../policy/lens.ts';
import type { Tx } from '../store/db.ts';
import { markOnce } from '../store/job-marks.ts';
import type { SignalRow } from '../store/signals.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { auditAccess } from './audit.ts';
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

/**
 * A job's notice to a signal's registrant (expiring, informing overdue), sent once per `mark` and
 * signal however often the job runs, and audited as the job's act. False when there is no such
 * signal any more or it was sent already.
 */
export async function notifyRegistrantOnce(
  tx: Tx,
  ctx: Ctx<Actor>,
  signal: SignalRow | undefined,
  how: { mark: string; at: string; action: string; notice: NoticeType },
): Promise<boolean> {
  if (!signal || !(await markOnce(tx, how.mark, signal.id, how.at))) return false;
  const subject = await loadSubjectKey(tx, ctx.deps.keys, signal.subjectId);
  await auditAccess(tx, ctx, { action: how.action, subject: subject.pseudonym, resource: signal.id, outcome: 'ok' });
  await notifyRegistrant(tx, ctx, signal, subject, how.notice);
  return true;
}

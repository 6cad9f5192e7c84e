import { FULL_LENS } from '../policy/lens.ts';
import { informingPendingSignal, oldestActiveSignalOf } from '../store/involvement.ts';
import { markOnce } from '../store/job-marks.ts';
import { matchById } from '../store/matches.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { auditAccess } from './audit.ts';
import { type Actor, type Ctx, requireJob, withTransaction } from './context.ts';
import { addDays, birthdayAt } from './dates.ts';
import { LIVE_STATUSES, MatchState } from './matching.ts';
import { notifyRegistrantOnce } from './notify-registrant.ts';
import { openSignal } from './signal-record.ts';

/**
 * The reminders job's verbs. Each is one transaction that answers whether it told anyone; each
 * reminder goes out once (a job mark), however often or on however many instances the job runs.
 */

/** A claimed match with no case table within the policy's period: its coordinator is reminded. */
export async function remindCaseTableDue({ ctx, matchId }: { ctx: Ctx<Actor>; matchId: string }): Promise<boolean> {
  requireJob(ctx, 'reminders');
  const { deps } = ctx;
  const now = deps.clock.now().toISOString();
  return withTransaction(deps, async (tx) => {
    const match = await matchById(tx, matchId);
    if (!match?.coordinatorId || match.status !== 'claimed' || !(await markOnce(tx, 'case_table_due', `${match.id}:${match.claimedAt}`, now))) return false;
    const subject = await loadSubjectKey(tx, deps.keys, match.subjectId);
    await auditAccess(tx, ctx, { action: 'match.remind_case_table', subject: subject.pseudonym, resource: match.id, outcome: 'ok' });
    await (await MatchState.create(tx, deps, subject, match)).notify(match.coordinatorId, 'match.case_table_due', { requestId: ctx.requestId });
    return true;
  });
}

/** informed.status still pending past the policy's period: the registrant is reminded (rule 6). */
export async function remindInformingOverdue({ ctx, signalId }: { ctx: Ctx<Actor>; signalId: string }): Promise<boolean> {
  requireJob(ctx, 'reminders');
  const { deps } = ctx;
  const now = deps.clock.now().toISOString();
  return withTransaction(deps, async (tx) =>
    notifyRegistrantOnce(tx, ctx, await informingPendingSignal(tx, signalId), { mark: 'informing_overdue', at: now, action: 'signal.remind_informing', notice: 'signal.informing_overdue' }),
  );
}

/**
 * The 18-/18+ transition: the coordinator of a live match hears ahead of its young person turning
 * 18 (within the policy's window), once.
 */
export async function noticeTurning18({ ctx, matchId }: { ctx: Ctx<Actor>; matchId: string }): Promise<boolean> {
  requireJob(ctx, 'reminders');
  const { deps } = ctx;
  const now = deps.clock.now();
  return withTransaction(deps, async (tx) => {
    const match = await matchById(tx, matchId);
    if (!match?.coordinatorId || match.lens !== FULL_LENS || !(LIVE_STATUSES as readonly string[]).includes(match.status)) return false;
    const signal = await oldestActiveSignalOf(tx, match.subjectId);
    if (!signal) return false;
    const subject = await loadSubjectKey(tx, deps.keys, match.subjectId);
    const eighteen = birthdayAt(openSignal(subject.dataKey, signal).birthDate, 18);
    if (now >= eighteen || addDays(now, deps.policy.coordination.turning18NoticeDays) < eighteen) return false;
    if (!(await markOnce(tx, 'turning_18', match.subjectId, now.toISOString()))) return false;
    await auditAccess(tx, ctx, { action: 'subject.turning_18', subject: subject.pseudonym, resource: match.id, outcome: 'ok' });
    await (await MatchState.create(tx, deps, subject, match)).notify(match.coordinatorId, 'subject.turning_18', { requestId: ctx.requestId });
    return true;
  });
}

import { type Deps, withTransaction } from '../app/context.ts';
import { addDays, birthdayAt } from '../app/dates.ts';
import { MatchState } from '../app/matching.ts';
import { openSignal } from '../app/signal-record.ts';
import { FULL_LENS } from '../policy/lens.ts';
import type { Tx } from '../store/db.ts';
import { informingPendingSignal, informingPendingSignalIds, municipalityAgencyOf, oldestActiveSignalOf } from '../store/involvement.ts';
import {
  claimedMatchesWithoutCaseTable,
  liveMatchIds,
  matchById,
  type MatchRow,
  openMatchById,
  openMatchesDueBy,
  recordMatchEvent,
  saveMatch,
} from '../store/matches.ts';
import { markOnce } from '../store/job-marks.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { notifyRegistrant } from './notify-registrant.ts';

/** The young person or family a match is about (its kind decides whose signals the match holds). */
async function subjectOf(tx: Tx, deps: Deps, subjectId: string) {
  return loadSubjectKey(tx, deps.keys, subjectId);
}

/** Runs `each` over ids in its own transaction per item, so the server keeps serving meanwhile. */
async function forEachIn<T>(deps: Deps, find: (tx: Tx) => Promise<T[]>, each: (tx: Tx, item: T) => Promise<boolean>): Promise<number> {
  let done = 0;
  for (const item of await find(deps.store.reader)) {
    if (await withTransaction(deps, (tx) => each(tx, item))) done++;
  }
  return done;
}

/**
 * Escalation: a match nobody claimed within the policy's claim period goes to the municipality's
 * own agency, which sees it in its match list; the coordinator hears of it too. Every lens's line
 * escalates on its own clock, as it would in a world without the parties that lens leaves out.
 */
export async function runEscalation(deps: Deps): Promise<number> {
  const now = deps.clock.now().toISOString();
  return forEachIn(
    deps,
    (tx) => openMatchesDueBy(tx, now),
    async (tx, { id }) => {
      const match = await openMatchById(tx, id);
      if (!match) return false; // claimed or ended meanwhile
      const municipality = await municipalityAgencyOf(tx, match.municipality);
      const escalatedTo = municipality && municipality.id !== match.coordinatorId ? municipality.id : null;
      const escalated: MatchRow = { ...match, status: 'escalated', escalatedTo, escalatedAt: now, updatedAt: now };
      await saveMatch(tx, escalated);
      await recordMatchEvent(tx, match.id, now, 'escalated', escalatedTo);
      const state = await MatchState.create(tx, deps, await subjectOf(tx, deps, match.subjectId), escalated);
      await state.notifyCoordinators('match.escalated', { requestId: null });
      return match.lens === FULL_LENS; // the count is of the matches coordinators work on
    },
  );
}

/** A claimed match with no case table within the policy's period: the coordinator is reminded. */
async function caseTableReminders(deps: Deps): Promise<number> {
  const now = deps.clock.now();
  const claimedBefore = addDays(now, -deps.policy.coordination.caseTableDays).toISOString();
  return forEachIn(
    deps,
    (tx) => claimedMatchesWithoutCaseTable(tx, FULL_LENS, claimedBefore),
    async (tx, { id }) => {
      const match = (await matchById(tx, id))!;
      if (!match.coordinatorId || !(await markOnce(tx, 'case_table_due', `${match.id}:${match.claimedAt}`, now.toISOString()))) return false;
      const state = await MatchState.create(tx, deps, await subjectOf(tx, deps, match.subjectId), match);
      await state.notify(match.coordinatorId, 'match.case_table_due', { requestId: null });
      return true;
    },
  );
}

/** informed.status pending past the policy's period: the registrant is reminded (rule 6). */
async function informingOverdue(deps: Deps): Promise<number> {
  const now = deps.clock.now();
  const registeredBefore = addDays(now, -deps.policy.informing.overdueDays).toISOString();
  return forEachIn(
    deps,
    (tx) => informingPendingSignalIds(tx, registeredBefore),
    async (tx, { id }) => {
      const signal = await informingPendingSignal(tx, id);
      if (!signal || !(await markOnce(tx, 'informing_overdue', signal.id, now.toISOString()))) return false;
      await notifyRegistrant(tx, deps, signal, 'signal.informing_overdue');
      return true;
    },
  );
}

/** The 18-/18+ transition: the coordinator hears ahead of a subject in a live match turning 18. */
async function turning18(deps: Deps): Promise<number> {
  const now = deps.clock.now();
  const windowDays = deps.policy.coordination.turning18NoticeDays;
  return forEachIn(
    deps,
    (tx) => liveMatchIds(tx, FULL_LENS),
    async (tx, { id }) => {
      const match = (await matchById(tx, id))!;
      if (!match.coordinatorId) return false;
      const subject = await subjectOf(tx, deps, match.subjectId);
      const signal = await oldestActiveSignalOf(tx, match.subjectId);
      if (!signal) return false;
      const eighteen = birthdayAt(openSignal(subject.dataKey, signal).birthDate, 18);
      if (now >= eighteen || addDays(now, windowDays) < eighteen) return false;
      if (!(await markOnce(tx, 'turning_18', match.subjectId, now.toISOString()))) return false;
      await (await MatchState.create(tx, deps, subject, match)).notify(match.coordinatorId, 'subject.turning_18', { requestId: null });
      return true;
    },
  );
}

export async function runReminders(deps: Deps): Promise<{ caseTableDue: number; informingOverdue: number; turning18: number }> {
  return { caseTableDue: await caseTableReminders(deps), informingOverdue: await informingOverdue(deps), turning18: await turning18(deps) };
}

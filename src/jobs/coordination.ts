import { type Deps, systemCtx } from '../app/context.ts';
import { addDays } from '../app/dates.ts';
import { escalateMatch } from '../app/escalate-match.ts';
import { noticeTurning18, remindCaseTableDue, remindInformingOverdue } from '../app/reminders.ts';
import { FULL_LENS } from '../policy/lens.ts';
import { informingPendingSignalIds } from '../store/involvement.ts';
import { claimedMatchesWithoutCaseTable, liveMatchIds, openMatchesDueBy } from '../store/matches.ts';

/**
 * The escalation and reminder jobs: each finds what is due (reading what was last committed) and
 * hands every item to its verb, one transaction each, so the server keeps serving meanwhile.
 */

/** Calls `verb` for each item, in turn; answers how many it acted on. */
async function countDone<T>(items: readonly T[], verb: (item: T) => Promise<boolean>): Promise<number> {
  let done = 0;
  for (const item of items) if (await verb(item)) done++;
  return done;
}

/** Escalates every open match past its claim deadline; counts those of the full lens (the matches coordinators work on). */
export async function runEscalation(deps: Deps): Promise<number> {
  const ctx = systemCtx(deps, 'escalation');
  const due = await openMatchesDueBy(deps.store.reader, deps.clock.now().toISOString());
  return countDone(due, async ({ id }) => (await escalateMatch({ ctx, id }))?.lens === FULL_LENS);
}

export async function runReminders(deps: Deps): Promise<{ caseTableDue: number; informingOverdue: number; turning18: number }> {
  const ctx = systemCtx(deps, 'reminders');
  const { policy, store } = deps;
  const claimedBefore = addDays(deps.clock.now(), -policy.coordination.caseTableDays).toISOString();
  const caseTableDue = await countDone(await claimedMatchesWithoutCaseTable(store.reader, FULL_LENS, claimedBefore), ({ id }) => remindCaseTableDue({ ctx, matchId: id }));
  const registeredBefore = addDays(deps.clock.now(), -policy.informing.overdueDays).toISOString();
  const informingOverdue = await countDone(await informingPendingSignalIds(store.reader, registeredBefore), ({ id }) => remindInformingOverdue({ ctx, signalId: id }));
  const turning18 = await countDone(await liveMatchIds(store.reader, FULL_LENS), ({ id }) => noticeTurning18({ ctx, matchId: id }));
  return { caseTableDue, informingOverdue, turning18 };
}

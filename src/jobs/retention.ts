import { type Deps, systemCtx } from '../app/context.ts';
import { addDays, addMonths } from '../app/dates.ts';
import { destroyFamiliesWithoutSignals, destroySubjects, endExpiredSignals, noticeExpiring } from '../app/retention.ts';
import { countExpiredSignals, signalsExpiringBetween, subjectsPastArchive } from '../store/retention.ts';

export interface RetentionResult {
  expiringNoticed: number;
  expired: number;
  destroyed: number;
}

export type Progress = (phase: string, done: number, total: number) => void;

/** Subjects per transaction: large enough that a sweep writes each hot index page once per batch, small enough to keep the server's pauses short (about 0.2 s). */
const BATCH = 5000;

/**
 * Retention (DESIGN rule 5): registrants hear ahead of expiry; signals past their active period
 * end and leave their match; subjects with nothing live whose last signal ended more than the
 * archive period ago are destroyed. The job finds what is due and runs the retention verbs
 * (app/retention.ts) on it as the system actor, in small transactions, so the server keeps
 * serving. Idempotent.
 */
export async function runRetention(deps: Deps, progress: Progress = () => undefined): Promise<RetentionResult> {
  const ctx = systemCtx(deps, 'retention');
  const now = deps.clock.now();
  const at = now.toISOString();
  const { retention } = deps.policy;
  const result: RetentionResult = { expiringNoticed: 0, expired: 0, destroyed: 0 };

  // 1. Expiring soon: the registrant may register again if it is still involved.
  const soon = addDays(now, retention.expiringNoticeDays).toISOString();
  const expiring = await signalsExpiringBetween(deps.store.reader, at, soon);
  for (const [i, signalId] of expiring.entries()) {
    if (await noticeExpiring({ ctx, signalId })) result.expiringNoticed++;
    progress('expiring', i + 1, expiring.length);
  }

  // 2. Expired: a batch at a time, until none is left.
  const dueTotal = await countExpiredSignals(deps.store.reader, at);
  for (;;) {
    const { found, ended } = await endExpiredSignals({ ctx, dueBy: at, limit: BATCH });
    if (found === 0) break;
    result.expired += ended;
    progress('expired', Math.min(result.expired, dueTotal), dueTotal);
  }

  // 3. Past the archive period with nothing live: destroy (crypto-shred) the subject.
  const cutoff = addMonths(now, -retention.archiveMonths).toISOString();
  const doomed = await subjectsPastArchive(deps.store.reader, cutoff);
  for (let i = 0; i < doomed.length; i += BATCH) {
    result.destroyed += await destroySubjects({ ctx, subjects: doomed.slice(i, i + BATCH) });
    progress('destroyed', Math.min(i + BATCH, doomed.length), doomed.length);
  }
  await destroyFamiliesWithoutSignals({ ctx });
  return result;
}

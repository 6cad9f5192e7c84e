import { checkpointIfDue } from '../app/audit-checkpoint.ts';
import { type Deps, JOBS, type JobName } from '../app/context.ts';
import { withJobLock } from '../store/locks.ts';
import { runEscalation, runReminders } from './coordination.ts';
import { type Progress, runRetention } from './retention.ts';

export { JOBS, type JobName };

/** Runs the named periodic jobs once (all by default) and says what each did. */
export async function runJobs(deps: Deps, names: readonly JobName[] = JOBS, progress?: Progress): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (name === 'retention') {
      const r = await runRetention(deps, progress);
      deps.metrics.recordJob('retention', r.expired + r.destroyed + r.expiringNoticed);
      out.retention = r;
    }
    if (name === 'escalation') {
      const escalated = await runEscalation(deps);
      deps.metrics.recordJob('escalation', escalated);
      out.escalation = { escalated };
    }
    if (name === 'reminders') {
      const r = await runReminders(deps);
      deps.metrics.recordJob('reminders', r.caseTableDue + r.informingOverdue + r.turning18);
      out.reminders = r;
    }
  }
  return out;
}

/** A signed checkpoint of the audit chain at most this often, while it grows (GET /v1/audit/checkpoint makes one on demand). */
export const CHECKPOINT_EVERY_MS = 3_600_000;

/**
 * Runs the jobs on a timer inside the server, then signs a checkpoint of the audit chain when
 * one is due; a failing run is logged and the next one tries again. Every instance does this;
 * each round runs under a job lock (store/locks.ts), so that with several instances on one
 * PostgreSQL database one of them runs it and the others skip that round.
 */
export function scheduleJobs(deps: Deps, intervalMs: number): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const result = await withJobLock(deps.store, 'periodic', () => runJobs(deps));
      if (result.ran) deps.logger.info({ jobs: result.value }, 'periodic jobs ran');
    } catch (err) {
      deps.logger.error({ err }, 'periodic jobs failed');
    }
    try {
      const signed = await withJobLock(deps.store, 'audit-checkpoint', () => checkpointIfDue(deps, CHECKPOINT_EVERY_MS));
      const checkpoint = signed.ran ? signed.value : undefined;
      if (checkpoint) deps.logger.info({ seq: checkpoint.seq, kid: checkpoint.kid }, 'audit checkpoint signed');
    } catch (err) {
      deps.logger.error({ err }, 'audit checkpoint failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  setTimeout(tick, 1000).unref();
  return () => clearInterval(timer);
}

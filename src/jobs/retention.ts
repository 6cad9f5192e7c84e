import { and, eq, gt, inArray, lte, max, notExists, sql } from 'drizzle-orm';
import { matches, signals, subjects } from '../../schema/tables.ts';
import type { Deps } from '../app/context.ts';
import { addDays, addMonths } from '../app/dates.ts';
import { LIVE_STATUSES, liveMatchOf, reconcileMatch } from '../app/matching.ts';
import { appendAudit } from '../store/audit.ts';
import { inTransaction } from '../store/db.ts';
import { eraseSubject } from '../store/erase.ts';
import { markOnce } from '../store/job-marks.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { notifyRegistrant } from './notify-registrant.ts';

export interface RetentionResult {
  expiringNoticed: number;
  expired: number;
  destroyed: number;
}

export type Progress = (phase: string, done: number, total: number) => void;

const BATCH = 1000;

/**
 * Retention (DESIGN rule 5): registrants hear ahead of expiry; signals past their active period
 * (or the subject's 23rd birthday, already in expiresAt) end and leave their match; subjects with
 * nothing live whose last signal ended more than the archive period ago are destroyed.
 * Idempotent; each subject in its own transaction, so the server keeps serving.
 */
export function runRetention(deps: Deps, progress: Progress = () => undefined): RetentionResult {
  const now = deps.clock.now();
  const at = now.toISOString();
  const { retention } = deps.policy;
  const result: RetentionResult = { expiringNoticed: 0, expired: 0, destroyed: 0 };

  // 1. Expiring soon: the registrant may register again if it is still involved.
  const soon = addDays(now, retention.expiringNoticeDays).toISOString();
  const expiring = deps.db
    .select({ id: signals.id })
    .from(signals)
    .where(and(eq(signals.status, 'active'), lte(signals.expiresAt, soon), gt(signals.expiresAt, at)))
    .all();
  expiring.forEach(({ id }, i) => {
    inTransaction(deps.db, (tx) => {
      const signal = tx.select().from(signals).where(and(eq(signals.id, id), eq(signals.status, 'active'))).get();
      if (!signal || !markOnce(tx, 'expiring', signal.id, at)) return;
      notifyRegistrant(tx, deps, signal, 'signal.expiring');
      result.expiringNoticed++;
    });
    progress('expiring', i + 1, expiring.length);
  });

  // 2. Expired: end the signals, one subject at a time, and bring its match in line. Signals are
  // ended by id: a query by subject and expiry lets SQLite pick the expiry index and scan.
  const dueSignals = deps.db
    .select({ id: signals.id, subjectId: signals.subjectId })
    .from(signals)
    .where(and(eq(signals.status, 'active'), lte(signals.expiresAt, at)))
    .all();
  const bySubject = new Map<string, string[]>();
  for (const d of dueSignals) bySubject.set(d.subjectId, [...(bySubject.get(d.subjectId) ?? []), d.id]);
  const due = [...bySubject.entries()];
  for (let i = 0; i < due.length; i += BATCH) {
    inTransaction(deps.db, (tx) => {
      for (const [subjectId, ids] of due.slice(i, i + BATCH)) {
        const ended = tx
          .update(signals)
          .set({ status: 'ended', endedAt: at, endReason: 'expired', updatedAt: at })
          .where(and(inArray(signals.id, ids), eq(signals.status, 'active')))
          .run().changes;
        if (ended === 0) continue;
        result.expired += ended;
        const { pseudonym } = tx.select({ pseudonym: subjects.pseudonym }).from(subjects).where(eq(subjects.id, subjectId)).get()!;
        appendAudit(tx, { at, agencyId: null, actor: 'retention', action: 'signal.expire', subject: pseudonym, resource: null, outcome: `${ended} ended`, requestId: null });
        // Ending signals only takes parties away: without a live match, none can arise.
        if (liveMatchOf(tx, subjectId)) {
          const { dataKey } = loadSubjectKey(tx, deps.keys, subjectId);
          reconcileMatch(tx, deps, { subjectId, dataKey, pseudonym }, null);
        }
      }
    });
    progress('expired', Math.min(i + BATCH, due.length), due.length);
  }

  // 3. Past the archive period with nothing live: destroy (crypto-shred) the subject.
  const cutoff = addMonths(now, -retention.archiveMonths).toISOString();
  const doomed = deps.db
    .select({ id: subjects.id, pseudonym: subjects.pseudonym })
    .from(subjects)
    .where(
      and(
        notExists(deps.db.select({ x: sql`1` }).from(signals).where(and(eq(signals.subjectId, subjects.id), eq(signals.status, 'active')))),
        notExists(deps.db.select({ x: sql`1` }).from(matches).where(and(eq(matches.subjectId, subjects.id), inArray(matches.status, [...LIVE_STATUSES])))),
        lte(deps.db.select({ last: max(signals.endedAt) }).from(signals).where(eq(signals.subjectId, subjects.id)), cutoff),
      ),
    )
    .all();
  for (let i = 0; i < doomed.length; i += BATCH) {
    inTransaction(deps.db, (tx) => {
      for (const s of doomed.slice(i, i + BATCH)) {
        const removed = eraseSubject(tx, s.id);
        appendAudit(tx, { at, agencyId: null, actor: 'retention', action: 'subject.destroy', subject: s.pseudonym, resource: null, outcome: `archive period over: ${removed.signals} signals, ${removed.notices} notices`, requestId: null });
        result.destroyed++;
      }
    });
    progress('destroyed', Math.min(i + BATCH, doomed.length), doomed.length);
  }
  return result;
}

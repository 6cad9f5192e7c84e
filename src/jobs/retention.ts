import { type Deps, withTransaction } from '../app/context.ts';
import { addDays, addMonths } from '../app/dates.ts';
import { forgetInFamilies, reconcileFamilies, reconcileMatch, type SubjectHandle } from '../app/matching.ts';
import { type AuditEntry, appendAudit } from '../store/audit.ts';
import { eraseSubject } from '../store/erase.ts';
import { markOnce } from '../store/job-marks.ts';
import {
  countExpiredSignals,
  endExpiredSignal,
  expiredSignalsBatch,
  familiesWithoutSignals,
  signalsExpiringBetween,
  subjectsPastArchive,
} from '../store/retention.ts';
import { activeSignal } from '../store/signals.ts';
import { auditName, loadSubjectKey } from '../store/subjects.ts';
import { notifyRegistrant } from './notify-registrant.ts';

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
 * (or the subject's 23rd birthday, already in expiresAt) end and leave their match; subjects with
 * nothing live whose last signal ended more than the archive period ago are destroyed.
 * Idempotent; each subject in its own transaction, so the server keeps serving.
 */
export async function runRetention(deps: Deps, progress: Progress = () => undefined): Promise<RetentionResult> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const { retention } = deps.policy;
  const result: RetentionResult = { expiringNoticed: 0, expired: 0, destroyed: 0 };

  // 1. Expiring soon: the registrant may register again if it is still involved.
  const soon = addDays(now, retention.expiringNoticeDays).toISOString();
  const expiring = await signalsExpiringBetween(deps.store.reader, at, soon);
  for (const [i, id] of expiring.entries()) {
    await withTransaction(deps, async (tx) => {
      const signal = await activeSignal(tx, id);
      if (!signal || !(await markOnce(tx, 'expiring', signal.id, at))) return;
      await notifyRegistrant(tx, deps, signal, 'signal.expiring');
      result.expiringNoticed++;
    });
    progress('expiring', i + 1, expiring.length);
  }

  // 2. Expired: end the signals, a batch at a time, and bring each subject's match in line. A
  // batch is the first due signals on the expiry index; those it ends drop out of the next. Signals
  // are ended by id: a query by subject and expiry lets SQLite pick the expiry index and scan.
  const dueTotal = await countExpiredSignals(deps.store.reader, at);
  for (;;) {
    const found = await withTransaction(deps, async (tx) => {
      const batch = await expiredSignalsBatch(tx, at, BATCH);
      const bySubject = new Map<string, { pseudonym: string; live: boolean; ids: string[] }>();
      for (const d of batch) {
        const subject = bySubject.get(d.subjectId);
        if (subject) subject.ids.push(d.id);
        else bySubject.set(d.subjectId, { pseudonym: d.pseudonym, live: Boolean(d.live), ids: [d.id] });
      }
      const audit: AuditEntry[] = [];
      const reconcile: SubjectHandle[] = [];
      for (const [subjectId, { pseudonym, live, ids }] of bySubject) {
        let ended = 0;
        for (const id of ids) ended += await endExpiredSignal(tx, id, at);
        if (ended === 0) continue;
        result.expired += ended;
        audit.push({ at, agencyId: null, actor: 'retention', action: 'signal.expire', subject: pseudonym, resource: null, outcome: `${ended} ended`, requestId: null });
        // Ending signals only takes parties away: without a live match, none can arise.
        if (live) reconcile.push(await loadSubjectKey(tx, deps.keys, subjectId));
      }
      // The expiries are recorded before the notices they cause.
      await appendAudit(tx, ...audit);
      for (const subject of reconcile) await reconcileMatch(tx, deps, subject, null);
      return batch.length;
    });
    if (found === 0) break;
    progress('expired', Math.min(result.expired, dueTotal), dueTotal);
  }

  // 3. Past the archive period with nothing live: destroy (crypto-shred) the subject.
  const cutoff = addMonths(now, -retention.archiveMonths).toISOString();
  const doomed = await subjectsPastArchive(deps.store.reader, cutoff);
  for (let i = 0; i < doomed.length; i += BATCH) {
    await withTransaction(deps, async (tx) => {
      for (const s of doomed.slice(i, i + BATCH)) {
        const families = await forgetInFamilies(tx, deps, s.id, null);
        const removed = await eraseSubject(tx, s.id);
        await reconcileFamilies(tx, deps, families, null);
        await appendAudit(tx, { at, agencyId: null, actor: 'retention', action: 'subject.destroy', subject: s.pseudonym, resource: null, outcome: `archive period over: ${removed.signals} signals, ${removed.notices} notices`, requestId: null });
        result.destroyed++;
      }
    });
    progress('destroyed', Math.min(i + BATCH, doomed.length), doomed.length);
  }
  // A family goes with the last of its children's signals (its matches ended when they did).
  await withTransaction(deps, async (tx) => {
    for (const f of await familiesWithoutSignals(tx)) {
      const removed = await eraseSubject(tx, f.id);
      await appendAudit(tx, { at, agencyId: null, actor: 'retention', action: 'subject.destroy', subject: auditName('family', f.pseudonym), resource: null, outcome: `no registrations left: ${removed.notices} notices`, requestId: null });
    }
  });
  return result;
}

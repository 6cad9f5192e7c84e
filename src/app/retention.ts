import { eraseSubject } from '../store/erase.ts';
import { endExpiredSignal, expiredSignalsBatch, familiesWithoutSignals } from '../store/retention.ts';
import { activeSignal } from '../store/signals.ts';
import { auditName, loadSubjectKey } from '../store/subjects.ts';
import { type AccessEntry, auditAccess } from './audit.ts';
import { type Actor, type Ctx, requireJob, withTransaction } from './context.ts';
import { forgetInFamilies, reconcileFamilies, reconcileMatch, type SubjectHandle } from './matching.ts';
import { notifyRegistrantOnce } from './notify-registrant.ts';

/**
 * The retention job's verbs (DESIGN rule 5). Each is one transaction; those that sweep take a
 * batch at a time, large enough that a sweep writes each hot index page once per batch.
 */

/** A signal about to expire: its registrant hears, once, so it may register again if still involved. */
export async function noticeExpiring({ ctx, signalId }: { ctx: Ctx<Actor>; signalId: string }): Promise<boolean> {
  requireJob(ctx, 'retention');
  const { deps } = ctx;
  const at = deps.clock.now().toISOString();
  return withTransaction(deps, async (tx) =>
    notifyRegistrantOnce(tx, ctx, await activeSignal(tx, signalId), { mark: 'expiring', at, action: 'signal.notice_expiring', notice: 'signal.expiring' }),
  );
}

/**
 * Ends up to `limit` signals past their active period by `dueBy` (or the subject's 23rd birthday,
 * already in expiresAt), and brings each subject's match in line. The batch is the first due
 * signals on the expiry index; those it ends drop out of the next. Signals are ended by id: a
 * query by subject and expiry lets SQLite pick the expiry index and scan. Answers how many due
 * signals it found (0: none is left) and how many it ended.
 */
export async function endExpiredSignals({ ctx, dueBy, limit }: { ctx: Ctx<Actor>; dueBy: string; limit: number }): Promise<{ found: number; ended: number }> {
  requireJob(ctx, 'retention');
  const { deps } = ctx;
  return withTransaction(deps, async (tx) => {
    const batch = await expiredSignalsBatch(tx, dueBy, limit);
    const bySubject = new Map<string, { pseudonym: string; live: boolean; ids: string[] }>();
    for (const d of batch) {
      const subject = bySubject.get(d.subjectId);
      if (subject) subject.ids.push(d.id);
      else bySubject.set(d.subjectId, { pseudonym: d.pseudonym, live: Boolean(d.live), ids: [d.id] });
    }
    const audit: AccessEntry[] = [];
    const reconcile: SubjectHandle[] = [];
    let total = 0;
    for (const [subjectId, { pseudonym, live, ids }] of bySubject) {
      let ended = 0;
      for (const id of ids) ended += await endExpiredSignal(tx, id, dueBy);
      if (ended === 0) continue;
      total += ended;
      audit.push({ action: 'signal.expire', subject: pseudonym, resource: null, outcome: `${ended} ended` });
      // Ending signals only takes parties away: without a live match, none can arise.
      if (live) reconcile.push(await loadSubjectKey(tx, deps.keys, subjectId));
    }
    // The expiries are recorded before the notices they cause.
    await auditAccess(tx, ctx, ...audit);
    for (const subject of reconcile) await reconcileMatch(tx, deps, subject, ctx.requestId);
    return { found: batch.length, ended: total };
  });
}

/**
 * Destroys (crypto-shreds) young people whose archive period is over, as the job found them; their
 * families' matches end first and are made anew from the remaining children's signals.
 */
export async function destroySubjects({ ctx, subjects }: { ctx: Ctx<Actor>; subjects: ReadonlyArray<{ id: string; pseudonym: string }> }): Promise<number> {
  requireJob(ctx, 'retention');
  const { deps } = ctx;
  return withTransaction(deps, async (tx) => {
    for (const s of subjects) {
      const families = await forgetInFamilies(tx, deps, s.id, ctx.requestId);
      const removed = await eraseSubject(tx, s.id);
      await reconcileFamilies(tx, deps, families, ctx.requestId);
      await auditAccess(tx, ctx, { action: 'subject.destroy', subject: s.pseudonym, resource: null, outcome: `archive period over: ${removed.signals} signals, ${removed.notices} notices` });
    }
    return subjects.length;
  });
}

/** A family goes with the last of its children's signals (its matches ended when they did). */
export async function destroyFamiliesWithoutSignals({ ctx }: { ctx: Ctx<Actor> }): Promise<number> {
  requireJob(ctx, 'retention');
  return withTransaction(ctx.deps, async (tx) => {
    const families = await familiesWithoutSignals(tx);
    for (const f of families) {
      const removed = await eraseSubject(tx, f.id);
      await auditAccess(tx, ctx, { action: 'subject.destroy', subject: auditName('family', f.pseudonym), resource: null, outcome: `no registrations left: ${removed.notices} notices` });
    }
    return families.length;
  });
}

import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, type SQL, sql } from 'drizzle-orm';
import { agencies, notices } from '../../schema/tables.ts';
import type { NoticeBody } from '../app/notice-schemas.ts';
import type { KeyRing } from '../crypto/key-ring.ts';
import { openJson, sealJson } from '../crypto/seal.ts';
import { type Db, placeholders, preparedQuery, type Tx } from './db.ts';
import { subjectKeys } from './subjects.ts';

export type NoticeRow = typeof notices.$inferSelect;

const aad = (id: string) => `notice:${id}`;

const recipientOf = preparedQuery((db) =>
  db.select({ url: agencies.webhookUrl, status: agencies.status }).from(agencies).where(eq(agencies.id, sql.placeholder('id'))).prepare(),
);
const insert = preparedQuery((db) =>
  db
    .insert(notices)
    .values(placeholders('id', 'agencyId', 'subjectId', 'matchId', 'type', 'sealed', 'policyId', 'policyVersion', 'createdAt', 'delivery', 'nextAttemptAt'))
    .prepare(),
);

/**
 * Writes a notice, sealed under the subject's data key. Call inside the change's transaction.
 * A disabled agency gets nothing, in its inbox or by webhook: returns false and writes nothing.
 */
export function insertNotice(
  tx: Tx,
  n: { body: NoticeBody; agencyId: string; subjectId: string; dataKey: Uint8Array },
): boolean {
  return write(tx, n.body, n.agencyId, n.subjectId, sealJson(n.dataKey, n.body, aad(n.body.id)));
}

const RECORD_PURPOSE = 'notice';

/**
 * Writes a notice that must outlive the subject's data key (subject.erased): it names no subject
 * and is sealed by the key ring instead. Its body must hold no BSN and no pseudonym.
 */
export function insertSubjectlessNotice(tx: Tx, keys: KeyRing, n: { body: NoticeBody; agencyId: string }): boolean {
  return write(tx, n.body, n.agencyId, null, keys.sealRecord(RECORD_PURPOSE, new TextEncoder().encode(JSON.stringify(n.body)), aad(n.body.id)));
}

function write(tx: Tx, body: NoticeBody, agencyId: string, subjectId: string | null, sealed: Uint8Array): boolean {
  // A notice for an agency with a webhook is also queued for delivery (the transactional outbox).
  const hook = recipientOf(tx).get({ id: agencyId });
  if (hook?.status !== 'active') return false;
  insert(tx).run({
    id: body.id,
    agencyId,
    subjectId,
    matchId: body.matchId,
    type: body.type,
    sealed: Buffer.from(sealed),
    policyId: body.policy.id,
    policyVersion: body.policy.version,
    createdAt: body.createdAt,
    delivery: hook?.url ? 'pending' : 'none',
    nextAttemptAt: hook?.url ? body.createdAt : null,
  });
  return true;
}

export function openNotice(dataKey: Uint8Array, row: NoticeRow): NoticeBody {
  return openJson<NoticeBody>(dataKey, row.sealed, aad(row.id));
}

/**
 * Opens any notice row: under its subject's data key (looked up once per subject through `cache`),
 * or by the key ring when it names no subject. `pseudonym` is null for the latter.
 */
export function openNoticeRow(
  tx: Tx,
  keys: KeyRing,
  row: NoticeRow,
  keyOf = subjectKeys(tx, keys),
): { body: NoticeBody; pseudonym: string | null } {
  if (row.subjectId === null) {
    return { body: JSON.parse(new TextDecoder().decode(keys.openRecord(RECORD_PURPOSE, row.sealed, aad(row.id)))) as NoticeBody, pseudonym: null };
  }
  const key = keyOf(row.subjectId);
  return { body: openNotice(key.dataKey, row), pseudonym: key.pseudonym };
}

/** A page of an agency's inbox, oldest first: every notice, or only those (not) yet acknowledged. */
export function listInbox(tx: Tx, agencyId: string, opts: { after?: string; limit: number; unacknowledged: boolean; acknowledged?: boolean }): NoticeRow[] {
  // Every notice id sorts after '', so one query serves the first page and the next.
  const page = opts.unacknowledged ? unacknowledgedPage : opts.acknowledged ? acknowledgedPage : inboxPage;
  return page(tx).all({ agencyId, after: opts.after ?? '', limit: opts.limit });
}

/** How many of an agency's notices are not yet acknowledged; its own inbox only. */
export function countUnacknowledged(tx: Tx, agencyId: string): number {
  return unacknowledgedCount(tx).get({ agencyId })?.n ?? 0;
}

const inboxWhere = and(eq(notices.agencyId, sql.placeholder('agencyId')), gt(notices.id, sql.placeholder('after')));
const inboxPage = preparedQuery((db) => db.select().from(notices).where(inboxWhere).orderBy(asc(notices.id)).limit(sql.placeholder('limit')).prepare());
const unacknowledgedPage = preparedQuery((db) =>
  db.select().from(notices).where(and(inboxWhere, isNull(notices.ackedAt))).orderBy(asc(notices.id)).limit(sql.placeholder('limit')).prepare(),
);
const acknowledgedPage = preparedQuery((db) =>
  db.select().from(notices).where(and(inboxWhere, isNotNull(notices.ackedAt))).orderBy(asc(notices.id)).limit(sql.placeholder('limit')).prepare(),
);
const unacknowledgedCount = preparedQuery((db) =>
  db
    .select({ n: sql<number>`count(*)` })
    .from(notices)
    .where(and(eq(notices.agencyId, sql.placeholder('agencyId')), isNull(notices.ackedAt)))
    .prepare(),
);

export function findOwnNotice(tx: Tx, agencyId: string, id: string): NoticeRow | undefined {
  return tx.select().from(notices).where(and(eq(notices.id, id), eq(notices.agencyId, agencyId))).get();
}

export function ackNotice(tx: Tx, id: string, at: string): void {
  tx.update(notices).set({ ackedAt: at }).where(and(eq(notices.id, id), isNull(notices.ackedAt))).run();
}

/** Notices whose webhook delivery is due, oldest first. */
export function dueDeliveries(tx: Tx, now: string, limit: number): NoticeRow[] {
  return tx
    .select()
    .from(notices)
    .where(and(eq(notices.delivery, 'pending'), lte(notices.nextAttemptAt, now)))
    .orderBy(asc(notices.nextAttemptAt), asc(notices.id))
    .limit(limit)
    .all();
}

export function updateDelivery(tx: Tx, id: string, changes: Partial<Pick<NoticeRow, 'delivery' | 'attempts' | 'nextAttemptAt' | 'deliveredAt' | 'lastError'>>): void {
  tx.update(notices).set(changes).where(eq(notices.id, id)).run();
}

export interface DeliveryRow {
  id: string;
  agencyId: string;
  type: string;
  createdAt: string;
  delivery: NoticeRow['delivery'];
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

/** Delivery state for operators: no notice content, only its id, type and how delivery went. */
export function listDeliveries(tx: Tx, opts: { agencyId?: string; status?: NoticeRow['delivery'] }): DeliveryRow[] {
  const where: SQL[] = [inArray(notices.delivery, opts.status ? [opts.status] : ['pending', 'failed', 'delivered'])];
  if (opts.agencyId) where.push(eq(notices.agencyId, opts.agencyId));
  return tx
    .select({
      id: notices.id,
      agencyId: notices.agencyId,
      type: notices.type,
      createdAt: notices.createdAt,
      delivery: notices.delivery,
      attempts: notices.attempts,
      nextAttemptAt: notices.nextAttemptAt,
      lastError: notices.lastError,
    })
    .from(notices)
    .where(and(...where))
    .orderBy(asc(notices.id))
    .all();
}

/** Stops an agency's queued deliveries (it was disabled): they are marked failed, never sent. */
export function cancelPendingDeliveries(tx: Tx, agencyId: string, reason: string): number {
  return tx
    .update(notices)
    .set({ delivery: 'failed', nextAttemptAt: null, lastError: reason })
    .where(and(eq(notices.agencyId, agencyId), eq(notices.delivery, 'pending')))
    .run().changes;
}

/** The agency removed its webhook: its queued notices are for the inbox only. */
export function unqueueDeliveries(tx: Tx, agencyId: string): number {
  return tx
    .update(notices)
    .set({ delivery: 'none', nextAttemptAt: null })
    .where(and(eq(notices.agencyId, agencyId), eq(notices.delivery, 'pending')))
    .run().changes;
}

/** Puts failed deliveries back in the queue, now; returns how many. */
export function requeueFailed(tx: Tx, opts: { agencyId?: string; noticeId?: string }, now: string): number {
  const where: SQL[] = [eq(notices.delivery, 'failed')];
  if (opts.agencyId) where.push(eq(notices.agencyId, opts.agencyId));
  if (opts.noticeId) where.push(eq(notices.id, opts.noticeId));
  return tx.update(notices).set({ delivery: 'pending', attempts: 0, nextAttemptAt: now, lastError: null }).where(and(...where)).run().changes;
}

/** How many notices are in each delivery state (for /metrics). */
export function deliveryCounts(tx: Tx | Db): Record<NoticeRow['delivery'], number> {
  const rows = tx.select({ delivery: notices.delivery, n: sql<number>`count(*)` }).from(notices).groupBy(notices.delivery).all();
  const out = { none: 0, pending: 0, delivered: 0, failed: 0 };
  for (const r of rows) out[r.delivery] = r.n;
  return out;
}

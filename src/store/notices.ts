import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, type SQL, sql } from 'drizzle-orm';
import type { notices } from '../../schema/tables.ts';
import type { NoticeBody } from '../app/notice-schemas.ts';
import type { KeyRing } from '../crypto/key-ring.ts';
import { openJson, sealJson } from '../crypto/seal.ts';
import { exec, first, many, placeholders, preparedQuery, type Tables, type Tx } from './db.ts';
import { type LoadedSubjectKey, subjectKeys } from './subjects.ts';

export type NoticeRow = typeof notices.$inferSelect;

const aad = (id: string) => `notice:${id}`;

const recipientOf = preparedQuery(({ db, t: { agencies } }) =>
  db.select({ url: agencies.webhookUrl, status: agencies.status }).from(agencies).where(eq(agencies.id, sql.placeholder('id'))),
);
const insert = preparedQuery(({ db, t }) =>
  db
    .insert(t.notices)
    .values(placeholders('id', 'agencyId', 'subjectId', 'matchId', 'type', 'sealed', 'policyId', 'policyVersion', 'createdAt', 'delivery', 'nextAttemptAt')),
);

/**
 * Writes a notice, sealed under the subject's data key. Call inside the change's transaction.
 * A disabled agency gets nothing, in its inbox or by webhook: returns false and writes nothing.
 */
export async function insertNotice(
  tx: Tx,
  n: { body: NoticeBody; agencyId: string; subjectId: string; dataKey: Uint8Array },
): Promise<boolean> {
  return write(tx, n.body, n.agencyId, n.subjectId, sealJson(n.dataKey, n.body, aad(n.body.id)));
}

const RECORD_PURPOSE = 'notice';

/**
 * Writes a notice that must outlive the subject's data key (subject.erased): it names no subject
 * and is sealed by the key ring instead. Its body must hold no BSN and no pseudonym.
 */
export async function insertSubjectlessNotice(tx: Tx, keys: KeyRing, n: { body: NoticeBody; agencyId: string }): Promise<boolean> {
  return write(tx, n.body, n.agencyId, null, keys.sealRecord(RECORD_PURPOSE, new TextEncoder().encode(JSON.stringify(n.body)), aad(n.body.id)));
}

async function write(tx: Tx, body: NoticeBody, agencyId: string, subjectId: string | null, sealed: Uint8Array): Promise<boolean> {
  // A notice for an agency with a webhook is also queued for delivery (the transactional outbox).
  const hook = await recipientOf(tx).first({ id: agencyId });
  if (hook?.status !== 'active') return false;
  await insert(tx).exec({
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
export async function openNoticeRow(
  tx: Tx,
  keys: KeyRing,
  row: NoticeRow,
  keyOf: (subjectId: string) => Promise<LoadedSubjectKey> = subjectKeys(tx, keys),
): Promise<{ body: NoticeBody; pseudonym: string | null }> {
  if (row.subjectId === null) {
    return { body: JSON.parse(new TextDecoder().decode(keys.openRecord(RECORD_PURPOSE, row.sealed, aad(row.id)))) as NoticeBody, pseudonym: null };
  }
  const key = await keyOf(row.subjectId);
  return { body: openNotice(key.dataKey, row), pseudonym: key.pseudonym };
}

/** A page of an agency's inbox, oldest first: every notice, or only those (not) yet acknowledged. */
export async function listInbox(tx: Tx, agencyId: string, opts: { after?: string; limit: number; unacknowledged: boolean; acknowledged?: boolean }): Promise<NoticeRow[]> {
  // Every notice id sorts after '', so one query serves the first page and the next.
  const page = opts.unacknowledged ? unacknowledgedPage : opts.acknowledged ? acknowledgedPage : inboxPage;
  return page(tx).many({ agencyId, after: opts.after ?? '', limit: opts.limit });
}

/** How many of an agency's notices are not yet acknowledged; its own inbox only. */
export async function countUnacknowledged(tx: Tx, agencyId: string): Promise<number> {
  return Number((await unacknowledgedCount(tx).first({ agencyId }))?.n ?? 0);
}

const inboxWhere = ({ notices }: Tables) => and(eq(notices.agencyId, sql.placeholder('agencyId')), gt(notices.id, sql.placeholder('after')));
const inboxPage = preparedQuery(({ db, t }) => db.select().from(t.notices).where(inboxWhere(t)).orderBy(asc(t.notices.id)).limit(sql.placeholder('limit')));
const unacknowledgedPage = preparedQuery(({ db, t }) =>
  db.select().from(t.notices).where(and(inboxWhere(t), isNull(t.notices.ackedAt))).orderBy(asc(t.notices.id)).limit(sql.placeholder('limit')),
);
const acknowledgedPage = preparedQuery(({ db, t }) =>
  db.select().from(t.notices).where(and(inboxWhere(t), isNotNull(t.notices.ackedAt))).orderBy(asc(t.notices.id)).limit(sql.placeholder('limit')),
);
const unacknowledgedCount = preparedQuery(({ db, t }) =>
  db
    .select({ n: sql<number>`count(*)` })
    .from(t.notices)
    .where(and(eq(t.notices.agencyId, sql.placeholder('agencyId')), isNull(t.notices.ackedAt))),
);

export async function findOwnNotice(tx: Tx, agencyId: string, id: string): Promise<NoticeRow | undefined> {
  const { notices } = tx.t;
  return first(tx, tx.db.select().from(notices).where(and(eq(notices.id, id), eq(notices.agencyId, agencyId))));
}

export async function ackNotice(tx: Tx, id: string, at: string): Promise<void> {
  const { notices } = tx.t;
  await exec(tx, tx.db.update(notices).set({ ackedAt: at }).where(and(eq(notices.id, id), isNull(notices.ackedAt))));
}

/** Where an agency's notices go: its webhook URL and sealed secret, and whether it is active. */
export async function webhookOfAgency(tx: Tx, agencyId: string): Promise<{ url: string | null; secret: Buffer | null; status: 'active' | 'disabled' } | undefined> {
  const { agencies } = tx.t;
  return first(tx, tx.db.select({ url: agencies.webhookUrl, secret: agencies.webhookSecret, status: agencies.status }).from(agencies).where(eq(agencies.id, agencyId)));
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
export async function listDeliveries(tx: Tx, opts: { agencyId?: string; status?: NoticeRow['delivery'] }): Promise<DeliveryRow[]> {
  const { notices } = tx.t;
  const where: SQL[] = [inArray(notices.delivery, opts.status ? [opts.status] : ['pending', 'failed', 'delivered'])];
  if (opts.agencyId) where.push(eq(notices.agencyId, opts.agencyId));
  return many(
    tx,
    tx.db
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
    .orderBy(asc(notices.id)),
  );
}

/** Stops an agency's queued deliveries (it was disabled): they are marked failed, never sent. */
export async function cancelPendingDeliveries(tx: Tx, agencyId: string, reason: string): Promise<number> {
  const { notices } = tx.t;
  return exec(
    tx,
    tx.db
      .update(notices)
      .set({ delivery: 'failed', nextAttemptAt: null, lastError: reason })
      .where(and(eq(notices.agencyId, agencyId), eq(notices.delivery, 'pending'))),
  );
}

/** The agency removed its webhook: its queued notices are for the inbox only. */
export async function unqueueDeliveries(tx: Tx, agencyId: string): Promise<number> {
  const { notices } = tx.t;
  return exec(tx, tx.db.update(notices).set({ delivery: 'none', nextAttemptAt: null }).where(and(eq(notices.agencyId, agencyId), eq(notices.delivery, 'pending'))));
}

/** Puts failed deliveries back in the queue, now; returns how many. */
export async function requeueFailed(tx: Tx, opts: { agencyId?: string; noticeId?: string }, now: string): Promise<number> {
  const { notices } = tx.t;
  const where: SQL[] = [eq(notices.delivery, 'failed')];
  if (opts.agencyId) where.push(eq(notices.agencyId, opts.agencyId));
  if (opts.noticeId) where.push(eq(notices.id, opts.noticeId));
  return exec(tx, tx.db.update(notices).set({ delivery: 'pending', attempts: 0, nextAttemptAt: now, lastError: null }).where(and(...where)));
}

/** How many notices are in each delivery state (for /metrics). */
export async function deliveryCounts(tx: Tx): Promise<Record<NoticeRow['delivery'], number>> {
  const { notices } = tx.t;
  const rows = await many(tx, tx.db.select({ delivery: notices.delivery, n: sql<number>`count(*)` }).from(notices).groupBy(notices.delivery));
  const out = { none: 0, pending: 0, delivered: 0, failed: 0 };
  for (const r of rows) out[r.delivery] = Number(r.n);
  return out;
}

import { and, asc, desc, eq, gt, gte, lt, type SQL } from 'drizzle-orm';
import type { auditLog } from '../../schema/tables.ts';
import { type AuditFields, chainHash, GENESIS_HASH } from '../crypto/audit-chain.ts';
import { exec, first, many, placeholders, preparedQuery, type Tx } from './db.ts';
import type { PgTx } from './pg-store.ts';
import { lockAuditChain } from './locks.ts';

export type AuditEntry = Omit<AuditFields, 'seq'>;
export type AuditRow = typeof auditLog.$inferSelect;

/** Which audit records to read: each given field must match; times are ISO, `from` inclusive, `to` exclusive. */
export interface AuditFilter {
  agencyId?: string;
  subject?: string;
  action?: string;
  from?: string;
  to?: string;
  /** Only records after this sequence number. */
  afterSeq?: number;
}

/** Up to `limit` records that match the filter, in chain order. */
export async function auditRecords(tx: Tx, filter: AuditFilter, limit: number): Promise<AuditRow[]> {
  await flushAudit(tx);
  const { auditLog } = tx.t;
  const where: SQL[] = [];
  if (filter.agencyId) where.push(eq(auditLog.agencyId, filter.agencyId));
  if (filter.subject) where.push(eq(auditLog.subject, filter.subject));
  if (filter.action) where.push(eq(auditLog.action, filter.action));
  if (filter.from) where.push(gte(auditLog.at, filter.from));
  if (filter.to) where.push(lt(auditLog.at, filter.to));
  if (filter.afterSeq !== undefined) where.push(gt(auditLog.seq, filter.afterSeq));
  return many(tx, tx.db.select().from(auditLog).where(and(...where)).orderBy(asc(auditLog.seq)).limit(limit));
}

/**
 * Appends records to the chain, in order. Call inside the transaction of the change they describe.
 *
 * On SQLite the one writer appends them at once. On PostgreSQL, where several instances append to
 * one chain, appends are one at a time under a lock held to COMMIT (locks.ts), and the head must
 * be read after taking it; so a transaction's records wait and are appended together just before
 * its COMMIT (lock, head, one insert), and the lock is held for that and the commit only, not for
 * the rest of the use case. A read of the log in the same transaction appends them first.
 */
export async function appendAudit(tx: Tx, ...entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const pgTx = tx.dialect === 'postgres' ? (tx as unknown as PgTx) : undefined;
  if (pgTx?.beforeCommit) {
    let pending = waiting.get(pgTx);
    if (!pending) {
      waiting.set(pgTx, (pending = []));
      pgTx.beforeCommit.push(() => flushAudit(tx));
    }
    pending.push(...entries);
    return;
  }
  await appendNow(tx, entries);
}

/** Records appended in a PostgreSQL transaction and not yet written (by the transaction's object). */
const waiting = new WeakMap<PgTx, AuditEntry[]>();

/** Writes the records waiting in this transaction, if any (before reading the log in it, and before COMMIT). */
export async function flushAudit(tx: Tx): Promise<void> {
  if (tx.dialect !== 'postgres') return;
  const pending = waiting.get(tx as unknown as PgTx);
  if (!pending?.length) return;
  const entries = pending.splice(0);
  await appendNow(tx, entries);
}

async function appendNow(tx: Tx, entries: AuditEntry[]): Promise<void> {
  // Several instances on PostgreSQL: one append at a time, the head read after the last commit.
  if (tx.dialect === 'postgres') await lockAuditChain(tx);
  const last = await chainHead(tx).first();
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  const rows: AuditRow[] = [];
  for (const entry of entries) {
    const fields: AuditFields = { ...entry, seq: ++seq };
    const hash = chainHash(prevHash, fields);
    rows.push({ ...fields, prevHash, hash } as AuditRow);
    prevHash = hash;
  }
  if (tx.dialect === 'postgres') await exec(tx, tx.db.insert(tx.t.auditLog).values(rows));
  else for (const row of rows) await insertRecord(tx).exec(row);
}

const chainHead = preparedQuery(({ db, t: { auditLog } }) => db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1));
const insertRecord = preparedQuery(({ db, t }) =>
  db.insert(t.auditLog).values(placeholders('seq', 'at', 'agencyId', 'actor', 'action', 'subject', 'resource', 'outcome', 'requestId', 'prevHash', 'hash')),
);

export type BreakReason =
  | 'record missing'
  | 'link to previous record broken'
  | 'record altered'
  /** The chain ends before the checkpoint's record: records up to it were deleted. */
  | 'truncated before the checkpoint'
  /** The checkpoint's record no longer has the hash that was signed: the chain was rewritten and re-hashed. */
  | 'head differs from the checkpoint';

export type VerifyResult = { ok: true; count: number } | { ok: false; count: number; brokenSeq: number; reason: BreakReason };

/** The record a signed checkpoint vouches for: the chain's `seq`th record hashed to `head`. */
export interface ChainAnchor {
  seq: number;
  head: string;
}

/**
 * Walks the whole chain in order; reports the first record whose links or hash do not hold.
 * With a checkpoint, the chain must also still reach the checkpoint's record with the very hash
 * that was signed, which a rewrite that re-hashes every record consistently cannot keep.
 */
export async function verifyAuditChain(tx: Tx, opts: { checkpoint?: ChainAnchor; batch?: number } = {}): Promise<VerifyResult> {
  await flushAudit(tx);
  const anchor = opts.checkpoint;
  const result = await walkChain(tx, { seq: 0, head: GENESIS_HASH }, anchor, opts.batch);
  if (!result.ok) return result;
  if (anchor && result.count < anchor.seq) return { ok: false, count: result.count, brokenSeq: result.count + 1, reason: 'truncated before the checkpoint' };
  if (anchor && anchor.seq === 0 && anchor.head !== GENESIS_HASH) return { ok: false, count: result.count, brokenSeq: 0, reason: 'head differs from the checkpoint' };
  return result;
}

/**
 * Checks only what was appended after a checkpoint: its record still has the signed hash, and
 * every later record links and hashes. `count` is the number of records after it. What the
 * service signs next therefore always extends what it signed before.
 */
export async function verifyChainSince(tx: Tx, from: ChainAnchor): Promise<VerifyResult> {
  await flushAudit(tx);
  if (from.seq > 0) {
    const { auditLog } = tx.t;
    const row = await first(tx, tx.db.select({ hash: auditLog.hash }).from(auditLog).where(eq(auditLog.seq, from.seq)));
    if (!row) return { ok: false, count: 0, brokenSeq: from.seq, reason: 'truncated before the checkpoint' };
    if (row.hash !== from.head) return { ok: false, count: 0, brokenSeq: from.seq, reason: 'head differs from the checkpoint' };
  }
  return walkChain(tx, from);
}

async function walkChain(tx: Tx, from: ChainAnchor, anchor?: ChainAnchor, batch = 5000): Promise<VerifyResult> {
  const { auditLog } = tx.t;
  let prevHash = from.head;
  let expectedSeq = from.seq + 1;
  let count = 0;
  for (;;) {
    const rows = await many(tx, tx.db.select().from(auditLog).where(gt(auditLog.seq, expectedSeq - 1)).orderBy(asc(auditLog.seq)).limit(batch));
    if (rows.length === 0) return { ok: true, count };
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, count, brokenSeq: expectedSeq, reason: 'record missing' };
      if (row.prevHash !== prevHash) return { ok: false, count, brokenSeq: row.seq, reason: 'link to previous record broken' };
      const { prevHash: _p, hash, ...fields } = row;
      if (chainHash(prevHash, fields) !== hash) return { ok: false, count, brokenSeq: row.seq, reason: 'record altered' };
      if (anchor && row.seq === anchor.seq && hash !== anchor.head) return { ok: false, count, brokenSeq: row.seq, reason: 'head differs from the checkpoint' };
      prevHash = hash;
      expectedSeq++;
      count++;
    }
  }
}

/** The last record of the chain (sequence number 0 and the genesis hash while it is empty). */
export async function readChainHead(tx: Tx): Promise<{ seq: number; hash: string }> {
  await flushAudit(tx);
  const last = await chainHead(tx).first();
  return last ?? { seq: 0, hash: GENESIS_HASH };
}

import { asc, desc, gt } from 'drizzle-orm';
import { auditLog } from '../../schema/tables.ts';
import { type AuditFields, chainHash, GENESIS_HASH } from '../crypto/audit-chain.ts';
import { type Db, placeholders, preparedQuery, type Tx } from './db.ts';

export type AuditEntry = Omit<AuditFields, 'seq'>;

/** Appends records to the chain, in order. Call inside the transaction of the change they describe. */
export function appendAudit(tx: Tx, ...entries: AuditEntry[]): void {
  const last = chainHead(tx).get();
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  for (const entry of entries) {
    const fields: AuditFields = { ...entry, seq: ++seq };
    const hash = chainHash(prevHash, fields);
    insertRecord(tx).run({ ...fields, prevHash, hash });
    prevHash = hash;
  }
}

const chainHead = preparedQuery((db) => db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1).prepare());
const insertRecord = preparedQuery((db) =>
  db.insert(auditLog).values(placeholders('seq', 'at', 'agencyId', 'actor', 'action', 'subject', 'resource', 'outcome', 'requestId', 'prevHash', 'hash')).prepare(),
);

export type VerifyResult = { ok: true; count: number } | { ok: false; count: number; brokenSeq: number; reason: string };

/** Walks the whole chain in order; reports the first record whose links or hash do not hold. */
export function verifyAuditChain(db: Db, batch = 5000): VerifyResult {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (;;) {
    const rows = db.select().from(auditLog).where(gt(auditLog.seq, expectedSeq - 1)).orderBy(asc(auditLog.seq)).limit(batch).all();
    if (rows.length === 0) return { ok: true, count };
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, count, brokenSeq: expectedSeq, reason: 'record missing' };
      if (row.prevHash !== prevHash) return { ok: false, count, brokenSeq: row.seq, reason: 'link to previous record broken' };
      const { prevHash: _p, hash, ...fields } = row;
      if (chainHash(prevHash, fields) !== hash) return { ok: false, count, brokenSeq: row.seq, reason: 'record altered' };
      prevHash = hash;
      expectedSeq++;
      count++;
    }
  }
}

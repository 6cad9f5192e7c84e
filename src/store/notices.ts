import { and, asc, eq, gt, isNull, type SQL } from 'drizzle-orm';
import { notices } from '../../schema/tables.ts';
import type { NoticeBody } from '../app/notice-schemas.ts';
import { openJson, sealJson } from '../crypto/seal.ts';
import type { Tx } from './db.ts';

export type NoticeRow = typeof notices.$inferSelect;

const aad = (id: string) => `notice:${id}`;

/** Writes a notice, sealed under the subject's data key. Call inside the change's transaction. */
export function insertNotice(
  tx: Tx,
  n: { body: NoticeBody; agencyId: string; subjectId: string; dataKey: Uint8Array },
): void {
  tx.insert(notices)
    .values({
      id: n.body.id,
      agencyId: n.agencyId,
      subjectId: n.subjectId,
      matchId: n.body.matchId,
      type: n.body.type,
      sealed: Buffer.from(sealJson(n.dataKey, n.body, aad(n.body.id))),
      policyId: n.body.policy.id,
      policyVersion: n.body.policy.version,
      rules: n.body.policy.rules,
      createdAt: n.body.createdAt,
    })
    .run();
}

export function openNotice(dataKey: Uint8Array, row: NoticeRow): NoticeBody {
  return openJson<NoticeBody>(dataKey, row.sealed, aad(row.id));
}

/** A page of an agency's inbox, oldest first. */
export function listInbox(tx: Tx, agencyId: string, opts: { after?: string; limit: number; unacknowledged: boolean }): NoticeRow[] {
  const where: SQL[] = [eq(notices.agencyId, agencyId)];
  if (opts.after) where.push(gt(notices.id, opts.after));
  if (opts.unacknowledged) where.push(isNull(notices.ackedAt));
  return tx.select().from(notices).where(and(...where)).orderBy(asc(notices.id)).limit(opts.limit).all();
}

export function findOwnNotice(tx: Tx, agencyId: string, id: string): NoticeRow | undefined {
  return tx.select().from(notices).where(and(eq(notices.id, id), eq(notices.agencyId, agencyId))).get();
}

export function ackNotice(tx: Tx, id: string, at: string): void {
  tx.update(notices).set({ ackedAt: at }).where(and(eq(notices.id, id), isNull(notices.ackedAt))).run();
}

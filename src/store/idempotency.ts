import { and, eq, lt, sql } from 'drizzle-orm';
import type { KeyRing } from '../crypto/key-ring.ts';
import { exec, placeholders, preparedQuery, type Tables, type Tx } from './db.ts';

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyRequest {
  /** Keyed digest of the client's key: a client may have put subject data in it. */
  key: string;
  /** Hash of method, path and body: the same key with another request is refused. */
  fingerprint: string;
}

export interface IdempotencyRecord {
  fingerprint: string;
  status: number;
  resourceId: string;
}

/**
 * What is kept of an Idempotency-Key and its request: keyed digests only, so that neither the
 * key nor the body (which holds a BSN) is stored in a form that could be reversed.
 */
export function idempotencyRequest(keys: KeyRing, key: string, method: string, path: string, body: unknown): IdempotencyRequest {
  return {
    key: keys.keyedDigest('idempotency-key', key),
    fingerprint: keys.keyedDigest('idempotency', `${method} ${path}\n${JSON.stringify(body)}`),
  };
}

const sameKey = ({ idempotencyKeys }: Tables) => and(eq(idempotencyKeys.agencyId, sql.placeholder('agencyId')), eq(idempotencyKeys.key, sql.placeholder('key')));
const forgetStale = preparedQuery(({ db, t }) => db.delete(t.idempotencyKeys).where(and(sameKey(t), lt(t.idempotencyKeys.createdAt, sql.placeholder('cutoff')))));
const remembered = preparedQuery(({ db, t, t: { idempotencyKeys } }) =>
  db
    .select({ fingerprint: idempotencyKeys.fingerprint, status: idempotencyKeys.status, resourceId: idempotencyKeys.resourceId })
    .from(idempotencyKeys)
    .where(sameKey(t)),
);
const remember = preparedQuery(({ db, t }) =>
  db.insert(t.idempotencyKeys).values(placeholders('agencyId', 'key', 'fingerprint', 'status', 'resourceId', 'createdAt')),
);

/** The stored answer for this agency's key, if it is younger than the TTL. */
export async function findIdempotent(tx: Tx, agencyId: string, key: string, now: Date): Promise<IdempotencyRecord | undefined> {
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString();
  await forgetStale(tx).exec({ agencyId, key, cutoff });
  return remembered(tx).first({ agencyId, key });
}

export async function rememberIdempotent(tx: Tx, agencyId: string, req: IdempotencyRequest, status: number, resourceId: string, now: Date): Promise<void> {
  await remember(tx).exec({ agencyId, key: req.key, fingerprint: req.fingerprint, status, resourceId, createdAt: now.toISOString() });
}

/** Forgets keys older than the TTL. */
export async function purgeIdempotencyKeys(tx: Tx, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString();
  return exec(tx, tx.db.delete(tx.t.idempotencyKeys).where(lt(tx.t.idempotencyKeys.createdAt, cutoff)));
}

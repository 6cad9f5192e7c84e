import { asc, desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../schema/tables.pg.ts';
import { type AuditFields, chainHash, GENESIS_HASH } from '../../src/crypto/audit-chain.ts';
import { JOB_LOCK_SPACE, jobLockKey, lockAuditChain, withJobLock } from '../../src/store/locks.ts';
import { claimDueNotices, recordDeliveryOutcome } from '../../src/store/outbox.ts';
import { postgresErrorCode } from '../../src/store/pg.ts';
import { openPgStore, type PgStore, type PgTx } from '../../src/store/pg-store.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres.ts';

/**
 * The primitives that keep several instances on one PostgreSQL database correct, each with two
 * stores (two pools, as two instances would have) on one database of a real server.
 */

let cluster: TestPostgres;
let one: PgStore;
let two: PgStore;

beforeAll(async () => {
  cluster = await startTestPostgres();
  const url = await cluster.createDatabase();
  one = openPgStore(url, { max: 6 });
  two = openPgStore(url, { max: 6 });
}, 60_000);

afterAll(async () => {
  await one?.close();
  await two?.close();
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AT = '2026-03-02T09:00:00.000Z';

/** What appendAudit does: read the head, wait a little (other work of the use case), write seq+1. */
async function append(tx: PgTx, action: string, lock: boolean): Promise<number> {
  if (lock) await lockAuditChain(tx);
  const [head] = await tx.db.select({ seq: t.auditLog.seq, hash: t.auditLog.hash }).from(t.auditLog).orderBy(desc(t.auditLog.seq)).limit(1);
  await sleep(15);
  const fields: AuditFields = { seq: (head?.seq ?? 0) + 1, at: AT, agencyId: null, actor: null, action, subject: null, resource: null, outcome: 'ok', requestId: null };
  const prevHash = head?.hash ?? GENESIS_HASH;
  await tx.db.insert(t.auditLog).values({ ...fields, prevHash, hash: chainHash(prevHash, fields) });
  return fields.seq;
}

describe('lockAuditChain', () => {
  it('makes concurrent appends from two instances one chain, in order', async () => {
    const appends = [one, two].flatMap((store, s) => Array.from({ length: 5 }, (_, i) => store.transaction((tx) => append(tx, `test.${s}.${i}`, true))));
    const seqs = await Promise.all(appends);
    expect([...seqs].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const rows = await one.reader.db.select().from(t.auditLog).orderBy(asc(t.auditLog.seq));
    let prevHash = GENESIS_HASH;
    for (const { prevHash: linked, hash, ...fields } of rows) {
      expect(linked).toBe(prevHash);
      expect(hash).toBe(chainHash(prevHash, fields));
      prevHash = hash;
    }
    expect(rows).toHaveLength(10);
  });

  it('is what keeps them apart: without it, two appends read the same head and one fails', async () => {
    const outcomes = await Promise.allSettled([one.transaction((tx) => append(tx, 'race.one', false)), two.transaction((tx) => append(tx, 'race.two', false))]);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(postgresErrorCode((failed[0] as PromiseRejectedResult).reason)).toBe('23505');
  });

  it('is held until the transaction ends', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holding = one.transaction(async (tx) => {
      await lockAuditChain(tx);
      await held;
    });
    await sleep(50);
    const waited = two.transaction(async (tx) => {
      const start = Date.now();
      await lockAuditChain(tx);
      return Date.now() - start;
    });
    await sleep(150);
    release();
    await holding;
    expect(await waited).toBeGreaterThanOrEqual(100);
  });
});

describe('claimDueNotices', () => {
  const NOTICES = 40;
  const id = (i: number) => `ntc_${String(i).padStart(4, '0')}`;

  beforeAll(async () => {
    await one.reader.db.insert(t.agencies).values({ id: 'agy_hook', name: 'hook', type: 'wijkteam', municipality: 'GM0014', districts: [], grants: [], webhookUrl: 'http://127.0.0.1:9/hook', status: 'active', createdAt: AT });
    await one.reader.db.insert(t.notices).values(
      Array.from({ length: NOTICES }, (_, i) => ({
        id: id(i),
        agencyId: 'agy_hook',
        type: 'match.created',
        sealed: Buffer.alloc(16, i),
        policyId: 'p',
        policyVersion: '1',
        createdAt: AT,
        delivery: 'pending' as const,
        nextAttemptAt: AT,
      })),
    );
  });

  it('gives every due notice to exactly one of several concurrent claimers on two instances', async () => {
    const now = '2026-03-02T09:00:01.000Z';
    const lease = '2026-03-02T09:10:00.000Z';
    const claimed: string[] = [];
    const perClaimer: number[] = [];
    const claimer = async (store: PgStore) => {
      let mine = 0;
      for (;;) {
        const rows = await store.transaction(async (tx) => {
          const got = await claimDueNotices(tx, now, 3, lease);
          await sleep(10); // the claim's row locks are held until commit
          return got;
        });
        if (rows.length === 0) break;
        for (const r of rows) expect(r.nextAttemptAt).toBe(lease);
        claimed.push(...rows.map((r) => r.id));
        mine += rows.length;
      }
      perClaimer.push(mine);
    };
    await Promise.all([one, one, one, two, two, two].map(claimer));
    expect(claimed).toHaveLength(NOTICES);
    expect(new Set(claimed).size).toBe(NOTICES);
    // They worked side by side rather than one after the other.
    expect(perClaimer.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it('records an outcome only while the claim that records it still holds the notice', async () => {
    await one.reader.db.insert(t.notices).values({ id: 'ntc_lease', agencyId: 'agy_hook', type: 'match.created', sealed: Buffer.alloc(16), policyId: 'p', policyVersion: '1', createdAt: AT, delivery: 'pending', nextAttemptAt: '2026-03-01T00:00:00.000Z' });
    const early = '2026-03-01T00:01:00.000Z';
    const late = '2026-03-01T00:02:00.000Z';
    const [first] = await one.transaction((tx) => claimDueNotices(tx, '2026-03-01T00:00:00.000Z', 1, early));
    expect(first?.id).toBe('ntc_lease');
    // The first claimer stalled past its lease; another claimed the notice and delivered it.
    const [second] = await two.transaction((tx) => claimDueNotices(tx, early, 1, late));
    expect(second?.id).toBe('ntc_lease');
    expect(await two.transaction((tx) => recordDeliveryOutcome(tx, 'ntc_lease', late, { delivery: 'delivered', attempts: 1, nextAttemptAt: null }))).toBe(true);
    expect(await one.transaction((tx) => recordDeliveryOutcome(tx, 'ntc_lease', early, { attempts: 1, nextAttemptAt: late, lastError: 'timeout' }))).toBe(false);
    const [row] = await one.reader.db.select().from(t.notices).where(eq(t.notices.id, 'ntc_lease'));
    expect(row).toMatchObject({ delivery: 'delivered', lastError: null });
    await one.reader.db.delete(t.notices).where(eq(t.notices.id, 'ntc_lease'));
  });

  it('hands a notice out again, with the same id, only when its lease has run out', async () => {
    expect(await one.transaction((tx) => claimDueNotices(tx, '2026-03-02T09:09:59.000Z', 100, '2026-03-02T09:20:00.000Z'))).toEqual([]);
    // The instance that claimed them died without recording an outcome: after the lease, another delivers.
    const again = await two.transaction((tx) => claimDueNotices(tx, '2026-03-02T09:10:00.000Z', 100, '2026-03-02T09:20:00.000Z'));
    expect(again.map((r) => r.id)).toEqual(Array.from({ length: NOTICES }, (_, i) => id(i)));
    // Recorded as delivered, a notice is not claimed again.
    await one.reader.db.update(t.notices).set({ delivery: 'delivered', nextAttemptAt: null }).where(sql`true`);
    expect(await one.transaction((tx) => claimDueNotices(tx, '2026-03-03T00:00:00.000Z', 100, '2026-03-03T00:10:00.000Z'))).toEqual([]);
  });
});

describe('withJobLock', () => {
  const jobLocks = async () =>
    Number(
      (await one.reader.db.execute<{ n: string }>(sql`select count(*) n from pg_locks where locktype = 'advisory' and classid = ${JOB_LOCK_SPACE}::oid and granted`)).rows[0]!
        .n,
    );

  it('runs a job on one of two instances that start it at once; the other skips the round', async () => {
    const ran: string[] = [];
    const job = (who: string) => async () => {
      ran.push(who);
      expect(await jobLocks()).toBe(1);
      await sleep(200);
      return who;
    };
    const [a, b] = await Promise.all([withJobLock(one, 'escalation', job('one')), withJobLock(two, 'escalation', job('two'))]);
    expect(ran).toHaveLength(1);
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
    const winner = a.ran ? a : b;
    expect(winner.ran && winner.value).toBe(ran[0]);
    expect(await jobLocks()).toBe(0);
    // Released: the next round runs wherever it starts.
    expect(await withJobLock(two, 'escalation', async () => 'again')).toEqual({ ran: true, value: 'again' });
  });

  it('lets different jobs run at once, and a job not overlap itself within one instance', async () => {
    const slow = async () => {
      await sleep(100);
      return true;
    };
    const [a, b, c] = await Promise.all([withJobLock(one, 'reminders', slow), withJobLock(two, 'retention', slow), withJobLock(one, 'reminders', slow)]);
    expect(a.ran).toBe(true);
    expect(b.ran).toBe(true);
    expect(c.ran).toBe(false);
    expect(jobLockKey('reminders')).not.toBe(jobLockKey('retention'));
  });

  it('releases the lock when the job throws', async () => {
    await expect(withJobLock(one, 'failing', async () => Promise.reject(new Error('job failed')))).rejects.toThrow('job failed');
    expect(await jobLocks()).toBe(0);
    expect((await withJobLock(two, 'failing', async () => 1)).ran).toBe(true);
  });
});

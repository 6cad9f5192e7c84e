import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../schema/tables.pg.ts';
import { postgresErrorCode } from '../../src/store/pg.ts';
import { openPgStore, type PgStore, type PgTx, retryDelay } from '../../src/store/pg-store.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres.ts';

/** The PostgreSQL store's transactions on a real server: commit, rollback, and the retries. */

let cluster: TestPostgres;
let url: string;
let store: PgStore;

beforeAll(async () => {
  cluster = await startTestPostgres();
  url = await cluster.createDatabase();
  store = openPgStore(url, { max: 4 });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

const meta = async (tx: PgTx, key: string) => (await tx.db.select().from(t.meta).where(eq(t.meta.key, key)))[0]?.value;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the PostgreSQL store', () => {
  it('hands out migrated databases copied from the template', async () => {
    const tables = await store.reader.db.execute<{ n: string }>(sql`select count(*) n from information_schema.tables where table_name = 'audit_log'`);
    expect(tables.rows[0]!.n).toBe('1');
  });

  it('commits what the function wrote, and returns its result', async () => {
    const result = await store.transaction(async (tx) => {
      expect(tx.dialect).toBe('postgres');
      await tx.db.insert(tx.t.meta).values({ key: 'commit', value: 'yes' });
      return 42;
    });
    expect(result).toBe(42);
    expect(await meta(store.reader, 'commit')).toBe('yes');
  });

  it('rolls back and rethrows when the function throws', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.db.insert(tx.t.meta).values({ key: 'rollback', value: 'no' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await meta(store.reader, 'rollback')).toBeUndefined();
  });

  it('runs in READ COMMITTED unless asked otherwise', async () => {
    const level = async (tx: PgTx) => (await tx.db.execute<{ transaction_isolation: string }>(sql`show transaction_isolation`)).rows[0]!.transaction_isolation;
    expect(await store.transaction(level)).toBe('read committed');
    expect(await store.transaction(level, { isolation: 'serializable' })).toBe('serializable');
  });

  it('does not let a reader see a write before its commit', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const writing = store.transaction(async (tx) => {
      await tx.db.insert(tx.t.meta).values({ key: 'uncommitted', value: 'x' });
      await held;
    });
    await sleep(50);
    expect(await meta(store.reader, 'uncommitted')).toBeUndefined();
    release();
    await writing;
    expect(await meta(store.reader, 'uncommitted')).toBe('x');
  });

  it('runs the function again after a serialisation failure, without what the failed run wrote', async () => {
    let runs = 0;
    await store.transaction(async (tx) => {
      runs++;
      await tx.db.insert(tx.t.meta).values({ key: `retry_${runs}`, value: String(runs) });
      if (runs < 3) throw Object.assign(new Error('could not serialize access'), { code: runs === 1 ? '40001' : '40P01' });
    });
    expect(runs).toBe(3);
    expect(await meta(store.reader, 'retry_1')).toBeUndefined();
    expect(await meta(store.reader, 'retry_2')).toBeUndefined();
    expect(await meta(store.reader, 'retry_3')).toBe('3');
  });

  it('gives up after its attempts, and retries no other error', async () => {
    const few = openPgStore(url, { max: 2, attempts: 2, retryDelayMs: 1 });
    try {
      let runs = 0;
      const fail = (code: string) => async () => {
        runs++;
        throw Object.assign(new Error(code), { code });
      };
      await expect(few.transaction(fail('40001'))).rejects.toThrow('40001');
      expect(runs).toBe(2);
      runs = 0;
      await expect(few.transaction(fail('23505'))).rejects.toThrow('23505');
      expect(runs).toBe(1);
    } finally {
      await few.close();
    }
  });

  it('gets two SERIALIZABLE read-then-write transactions on one row both through, by a retry', async () => {
    await store.reader.db.insert(t.meta).values({ key: 'counter', value: '0' });
    let runs = 0;
    const increment = () =>
      store.transaction(
        async (tx) => {
          runs++;
          const value = Number(await meta(tx, 'counter'));
          await sleep(40); // both have read before either writes
          await tx.db.update(tx.t.meta).set({ value: String(value + 1) }).where(eq(tx.t.meta.key, 'counter'));
        },
        { isolation: 'serializable' },
      );
    await Promise.all([increment(), increment()]);
    expect(await meta(store.reader, 'counter')).toBe('2');
    expect(runs).toBe(3);
  });

  it('answers a ping and commits a write probe', async () => {
    await store.ping();
    await store.probeWrite();
    expect(await meta(store.reader, 'write_probe')).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('reports the SQLSTATE of an error the database raised', async () => {
    const err = await store
      .transaction(async (tx) => {
        await tx.db.insert(tx.t.meta).values({ key: 'dup', value: '1' });
        await tx.db.insert(tx.t.meta).values({ key: 'dup', value: '2' });
      })
      .catch((e: unknown) => e);
    expect(postgresErrorCode(err)).toBe('23505');
  });

  it('waits between retries half a fixed delay and half a random one, doubling', () => {
    expect(retryDelay(1, 10, () => 0)).toBe(5);
    expect(retryDelay(1, 10, () => 1)).toBe(10);
    expect(retryDelay(3, 10, () => 0)).toBe(20);
    expect(retryDelay(30, 10, () => 1)).toBe(640);
  });
});

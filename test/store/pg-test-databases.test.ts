import pg from 'pg';
import { describe, expect, it } from 'vitest';
import * as t from '../../schema/tables.pg.ts';
import { TEST_DATABASE_URL } from '../support/postgres.ts';
import { chosenTestStore, closeTestStores, openTestPgStore } from '../support/store-choice.ts';

/** The test support for running suites on PostgreSQL: which store, and a database per test. */

describe('the store a test run uses', () => {
  it('is SQLite unless BETROKKEN_TEST_STORE names PostgreSQL, and nothing else is accepted', () => {
    expect(chosenTestStore({})).toBe('sqlite');
    expect(chosenTestStore({ BETROKKEN_TEST_STORE: 'sqlite' })).toBe('sqlite');
    expect(chosenTestStore({ BETROKKEN_TEST_STORE: 'postgres' })).toBe('postgres');
    expect(() => chosenTestStore({ BETROKKEN_TEST_STORE: 'mysql' })).toThrow(/'sqlite' or 'postgres'/);
  });
});

describe('test databases on PostgreSQL', () => {
  const exists = async (url: string) => {
    const admin = new pg.Client({ connectionString: process.env[TEST_DATABASE_URL] });
    await admin.connect();
    try {
      return (await admin.query('select 1 from pg_database where datname = $1', [new URL(url).pathname.slice(1)])).rowCount === 1;
    } finally {
      await admin.end();
    }
  };

  it('gives each store a migrated database of its own, and drops it on close', async () => {
    const a = await openTestPgStore();
    const b = await openTestPgStore();
    expect(a.url).not.toBe(b.url);
    await a.store.reader.db.insert(t.meta).values({ key: 'only-in-a', value: '1' });
    expect(await b.store.reader.db.select().from(t.meta)).toEqual([]);
    expect(await a.store.reader.db.select().from(t.meta)).toEqual([{ key: 'only-in-a', value: '1' }]);
    await a.close();
    expect(await exists(a.url)).toBe(false);
    expect(await exists(b.url)).toBe(true);
    await closeTestStores();
    expect(await exists(b.url)).toBe(false);
  });
});

import { type PgStore, openPgStore, type PgStoreOptions } from '../../src/store/pg-store.ts';
import { startTestPostgres, type TestPostgres } from './postgres.ts';

/**
 * Which store the tests of this run use: the vitest project sets BETROKKEN_TEST_STORE (see
 * vitest.config.ts), so that the scenario, policy, security and privacy suites run once per
 * store. test/support/harness.ts opens its store through here.
 */
export const TEST_STORE = 'BETROKKEN_TEST_STORE';

export type TestStoreKind = 'sqlite' | 'postgres';

/** The store named by BETROKKEN_TEST_STORE; SQLite when it is unset. Any other value is a mistake, and fails. */
export function chosenTestStore(env: NodeJS.ProcessEnv = process.env): TestStoreKind {
  const value = env[TEST_STORE]?.trim();
  if (value === undefined || value === '' || value === 'sqlite') return 'sqlite';
  if (value === 'postgres') return 'postgres';
  throw new Error(`${TEST_STORE} must be 'sqlite' or 'postgres', not '${value}'`);
}

/** A PostgreSQL store of a test, on a database of its own. */
export interface TestPgStore {
  store: PgStore;
  url: string;
  /** Closes the store's pool and drops its database (closeTestStores does it for those left open). */
  close(): Promise<void>;
}

let cluster: Promise<TestPostgres> | undefined;
const open = new Set<TestPgStore>();

/**
 * A PostgreSQL store on a fresh, migrated database (a copy of the run's template database,
 * about 0.1 s) on the cluster of this run: BETROKKEN_TEST_DATABASE_URL (set by
 * scripts/with-postgres.sh, or by the postgres project's global setup), which must be set in CI.
 * One connection to the cluster serves every database of the test process.
 */
export async function openTestPgStore(opts: PgStoreOptions = {}): Promise<TestPgStore> {
  cluster ??= startTestPostgres();
  const pg = await cluster;
  const url = await pg.createDatabase();
  const store = openPgStore(url, { max: 4, ...opts });
  const handle: TestPgStore = {
    store,
    url,
    async close() {
      if (!open.delete(handle)) return;
      await store.close();
      await pg.dropDatabase(url);
    },
  };
  open.add(handle);
  return handle;
}

/** Closes every store opened here, drops their databases and the connection to the cluster (after each test file). */
export async function closeTestStores(): Promise<void> {
  const pending = cluster;
  cluster = undefined;
  // One after another: the databases are dropped over the one connection to the cluster.
  for (const h of [...open]) await h.close();
  if (pending) await (await pending).stop();
}

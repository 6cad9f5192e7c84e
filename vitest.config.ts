import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects, one per store: `npx vitest run --project sqlite` needs nothing installed;
 * `scripts/with-postgres.sh npx vitest run --project postgres` runs the suites that must hold
 * on either store against PostgreSQL (BETROKKEN_TEST_STORE=postgres; test/support/store-choice.ts),
 * together with the tests that only PostgreSQL has. `npm test` runs both.
 */

/** Behaviour that must hold on either store: the scenario, policy, security and privacy suites, and the HTTP and webhook ones. */
const PER_STORE = [
  'test/scenarios/**/*.test.ts',
  'test/policy/**/*.test.ts',
  'test/security/**/*.test.ts',
  'test/privacy/**/*.test.ts',
  'test/app/**/*.test.ts',
  'test/http/**/*.test.ts',
  'test/notify/**/*.test.ts',
  /** The repositories' contract, and the harness's test SQL. */
  'test/store/contract.test.ts',
  'test/store/harness-sql.test.ts',
  // The console over HTTP without a browser; its browser journeys stay SQLite's (CI time).
  'test/console/instances.test.ts',
  'test/console/security.test.ts',
  'test/console/desk.test.ts',
  'test/console/oidc.test.ts',
  'test/console/oidc-signin.test.ts',
  'test/console/cli.test.ts',
];

/** Tests of PostgreSQL itself: its store, the multi-instance primitives, several instances on one database. */
const POSTGRES_ONLY = ['test/store/pg-collation.test.ts', 'test/store/pg-schema.test.ts', 'test/store/pg-store.test.ts', 'test/store/pg-locks.test.ts', 'test/store/pg-test-databases.test.ts', 'test/store/pg-roles.test.ts', 'test/multi-instance/**/*.test.ts'];

/**
 * In the per-store suites, what only SQLite has: db-encryption tests its page cipher (PostgreSQL's
 * files are the disk's to encrypt). A file named *.sqlite.test.ts is SQLite's alone, wherever it
 * is. (Elsewhere stay SQLite's alone by not being in PER_STORE: backup, data directory, key canary,
 * crash, command line, documentation and architecture tests.)
 */
const SQLITE_ONLY = [
  '**/*.sqlite.test.ts',
  'test/privacy/db-encryption.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...POSTGRES_ONLY],
          env: { BETROKKEN_TEST_STORE: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: [...PER_STORE, ...POSTGRES_ONLY],
          exclude: [...configDefaults.exclude, ...SQLITE_ONLY],
          env: { BETROKKEN_TEST_STORE: 'postgres' },
          // Every statement is a round trip to a server on a machine that runs both projects: the
          // default 5 s per test (10 s per hook) is too tight for the scenario suites there.
          testTimeout: 30_000,
          hookTimeout: 60_000,
          globalSetup: ['test/support/postgres-global.ts'],
          setupFiles: ['test/support/postgres-setup.ts'],
        },
      },
    ],
  },
});

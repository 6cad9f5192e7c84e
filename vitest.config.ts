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
  // The console over HTTP without a browser; its browser journeys stay SQLite's (CI time).
  'test/console/instances.test.ts',
  'test/console/security.test.ts',
  'test/console/desk.test.ts',
  'test/console/oidc.test.ts',
  'test/console/oidc-signin.test.ts',
  'test/console/cli.test.ts',
];

/** Tests of PostgreSQL itself: its store, the multi-instance primitives, several instances on one database. */
const POSTGRES_ONLY = ['test/store/harness-sql.test.ts', 'test/store/pg-schema.test.ts', 'test/store/pg-store.test.ts', 'test/store/pg-locks.test.ts', 'test/store/pg-test-databases.test.ts', 'test/store/pg-roles.test.ts', 'test/multi-instance/**/*.test.ts'];

/**
 * Tests of the SQLite file, in the per-store suites: page encryption, the scans of the file and
 * its WAL for what lies at rest, and the non-interference test, which copies a region as an
 * in-memory SQLite image. A file named *.sqlite.test.ts is SQLite's alone, wherever it is.
 * (Elsewhere stay SQLite's alone by not being in PER_STORE: backup, data directory, key canary,
 * crash, command line, documentation and architecture tests.)
 */
const SQLITE_ONLY = [
  '**/*.sqlite.test.ts',
  'test/privacy/db-encryption.test.ts',
  'test/privacy/sealed-at-rest.test.ts',
  'test/privacy/no-bsn-at-rest.test.ts',
  'test/privacy/non-interference.test.ts',
  'test/privacy/non-interference-broken.test.ts',
];

/**
 * Per-store files that do not yet pass on PostgreSQL (issue 15, open): most read rows through
 * SQLite's driver (`h.db.$client.prepare`) and need a harness query that runs on either store; the
 * rest have dialect differences behind that (unique violations, ordering) still to fix. They run on
 * SQLite; each file taken off this list must pass in the postgres project.
 */
const NOT_YET_ON_POSTGRES = [
  'test/http/headers.test.ts',
  'test/notify/standard-webhooks.test.ts',
  'test/notify/webhook-url.test.ts',
  'test/policy/family-matches.test.ts',
  'test/scenarios/acting-professional.test.ts',
  'test/scenarios/agency-lifecycle.test.ts',
  'test/scenarios/audit-checkpoint.test.ts',
  'test/scenarios/audit.test.ts',
  'test/scenarios/idempotency.test.ts',
  'test/scenarios/metrics.test.ts',
  'test/scenarios/notices.test.ts',
  'test/scenarios/oauth.test.ts',
  'test/scenarios/ops.test.ts',
  'test/scenarios/retention.test.ts',
  'test/scenarios/signals.test.ts',
  'test/scenarios/stock-oauth-client.test.ts',
  'test/scenarios/subject-rights.test.ts',
  'test/security/fuzz.test.ts',
  'test/security/logs.test.ts',
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
          exclude: [...configDefaults.exclude, ...SQLITE_ONLY, ...NOT_YET_ON_POSTGRES],
          env: { BETROKKEN_TEST_STORE: 'postgres' },
          globalSetup: ['test/support/postgres-global.ts'],
          setupFiles: ['test/support/postgres-setup.ts'],
        },
      },
    ],
  },
});

import { startTestPostgres, TEST_DATABASE_URL } from './postgres.ts';

/**
 * Global setup of the vitest project `postgres`: the run's tests use the cluster named by
 * BETROKKEN_TEST_DATABASE_URL (scripts/with-postgres.sh, as CI runs them). Without one, outside
 * CI, one throwaway cluster is started here for the whole run rather than one per test file; in
 * CI its absence fails the run (startTestPostgres says why).
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[TEST_DATABASE_URL]) return undefined;
  const pg = await startTestPostgres();
  process.env[TEST_DATABASE_URL] = pg.adminUrl;
  return async () => {
    delete process.env[TEST_DATABASE_URL];
    await pg.stop();
  };
}

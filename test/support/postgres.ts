import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const CLUSTER_SCRIPT = fileURLToPath(new URL('../../scripts/pg-cluster.sh', import.meta.url));

/** The variable through which CI (scripts/with-postgres.sh) hands the tests a running cluster. */
export const TEST_DATABASE_URL = 'BETROKKEN_TEST_DATABASE_URL';

export interface TestPostgres {
  /** A new, empty database on the cluster, for one test file; its URL. */
  createDatabase(): Promise<string>;
  serverVersion: string;
  /** Drops the databases made here, and stops the cluster if it was started here. */
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL for the tests: the cluster named by BETROKKEN_TEST_DATABASE_URL, or else,
 * outside CI, a throwaway one started here (scripts/pg-cluster.sh) when the server binaries are
 * installed. In CI a missing variable fails the run, as do missing binaries anywhere: a test that
 * needs PostgreSQL never passes without one.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  let url = process.env[TEST_DATABASE_URL];
  let stopCluster = async () => {};
  if (!url) {
    if (process.env.CI) {
      throw new Error(`${TEST_DATABASE_URL} is not set: in CI the tests must run inside scripts/with-postgres.sh (as .ci/run does)`);
    }
    try {
      await run(CLUSTER_SCRIPT, ['bindir']);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new Error(`${TEST_DATABASE_URL} is not set and no cluster can be started here: ${stderr || String(err)}`);
    }
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'betrokken-pg-'));
    try {
      url = (await run(CLUSTER_SCRIPT, ['start', dir])).stdout.trim();
    } catch (err) {
      await run(CLUSTER_SCRIPT, ['stop', dir]).catch(() => {});
      throw new Error(`starting a throwaway PostgreSQL cluster failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
    }
    stopCluster = async () => {
      await run(CLUSTER_SCRIPT, ['stop', dir]);
    };
  }
  const admin = new pg.Client({ connectionString: url });
  const made: string[] = [];
  try {
    await admin.connect();
    const { rows } = await admin.query<{ server_version: string }>('show server_version');
    const adminUrl = url;
    return {
      serverVersion: rows[0]!.server_version,
      async createDatabase() {
        const name = `betrokken_test_${randomBytes(6).toString('hex')}`;
        await admin.query(`create database "${name}"`);
        made.push(name);
        const dbUrl = new URL(adminUrl);
        dbUrl.pathname = `/${name}`;
        return dbUrl.toString();
      },
      async stop() {
        try {
          for (const name of made) await admin.query(`drop database if exists "${name}" with (force)`);
        } finally {
          await admin.end();
          await stopCluster();
        }
      },
    };
  } catch (err) {
    await admin.end().catch(() => {});
    await stopCluster();
    throw err;
  }
}

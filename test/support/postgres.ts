import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { PG_MIGRATIONS } from '../../src/store/pg.ts';
import { openPgStore } from '../../src/store/pg-store.ts';

const run = promisify(execFile);
const CLUSTER_SCRIPT = fileURLToPath(new URL('../../scripts/pg-cluster.sh', import.meta.url));

/** The variable through which CI (scripts/with-postgres.sh) hands the tests a running cluster. */
export const TEST_DATABASE_URL = 'BETROKKEN_TEST_DATABASE_URL';

export interface TestPostgres {
  /**
   * A new database on the cluster, for one test file; its URL. Migrated unless `empty` is asked:
   * a copy of a template database that was migrated once (templateDatabase), which takes a
   * fraction of running the migrations.
   */
  createDatabase(opts?: { empty?: boolean }): Promise<string>;
  /** Drops a database made by createDatabase (stop drops the ones left). */
  dropDatabase(url: string): Promise<void>;
  /** The cluster's administrator URL (its `postgres` database). */
  adminUrl: string;
  serverVersion: string;
  /** Drops the databases made here, and stops the cluster if it was started here. */
  stop(): Promise<void>;
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The same number for every test process: they take it to build the template one at a time. */
const TEMPLATE_LOCK = 0x62746b74;

/**
 * The name of a database that holds schema/migrations-pg applied, and nothing else, made on the
 * cluster the first time a test process asks for it: the first process of a run builds it (under
 * an advisory lock, so the others wait for it rather than build it too) and every test file copies
 * it. The name carries a digest of the migrations, so a changed migration makes a new template.
 * It is built under a temporary name and renamed when complete, and takes no connections after,
 * which CREATE DATABASE … TEMPLATE needs.
 */
async function templateDatabase(admin: pg.Client, adminUrl: string): Promise<string> {
  const files = (await fs.readdir(PG_MIGRATIONS, { recursive: true })).filter((f) => f.endsWith('.sql') || f.endsWith('.json')).sort();
  const digest = createHash('sha256');
  for (const f of files) digest.update(f).update(await fs.readFile(path.join(PG_MIGRATIONS, f)));
  const name = `betrokken_template_${digest.digest('hex').slice(0, 12)}`;
  const exists = async () => (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  if (await exists()) return name;
  await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
  try {
    if (await exists()) return name;
    const building = `${name}_${randomBytes(3).toString('hex')}`;
    await admin.query(`create database "${building}"`);
    const store = openPgStore(databaseUrl(adminUrl, building), { max: 1 });
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    await admin.query(`alter database "${building}" rename to "${name}"`);
    await admin.query(`alter database "${name}" with allow_connections false is_template true`);
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
  }
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
      adminUrl,
      async createDatabase(opts = {}) {
        const name = `betrokken_test_${randomBytes(6).toString('hex')}`;
        const template = opts.empty ? null : await templateDatabase(admin, adminUrl);
        await admin.query(template ? `create database "${name}" template "${template}"` : `create database "${name}"`);
        made.push(name);
        return databaseUrl(adminUrl, name);
      },
      async dropDatabase(dbUrl) {
        const name = decodeURIComponent(new URL(dbUrl).pathname.slice(1));
        if (!made.includes(name)) throw new Error(`${name} was not made here`);
        await admin.query(`drop database if exists "${name}" with (force)`);
        made.splice(made.indexOf(name), 1);
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

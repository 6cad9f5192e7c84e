/**
 * Which PostgreSQL driver under drizzle: node-postgres (`pg`) or postgres.js (`postgres`)?
 * Runs the shape of the hot path against a throwaway cluster with each: a registration-like
 * transaction (five selects by primary key, three inserts) and a single-row select, one at a time
 * and CONCURRENCY at a time over a pool, and prints operations per second.
 *
 *   scripts/with-postgres.sh node --import tsx test/bench/pg-driver.ts [N] [ROUNDS]
 *
 * (without BETROKKEN_TEST_DATABASE_URL it starts a cluster of its own, as the tests do).
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgresJs } from 'drizzle-orm/postgres-js/migrator';
import pg from 'pg';
import postgres from 'postgres';
import * as t from '../../schema/tables.pg.ts';
import { PG_MIGRATIONS } from '../../src/store/pg.ts';
import { startTestPostgres } from '../support/postgres.ts';

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 3);
const CONCURRENCY = 8;
const POOL = 10;

type Db = PgDatabase<PgQueryResultHKT, typeof t>;

const now = () => new Date().toISOString();
let seq = 0;

async function seed(db: Db): Promise<void> {
  const at = now();
  await db.insert(t.agencies).values({
    id: 'agy_bench',
    name: 'Bench',
    type: 'wijkteam',
    municipality: 'GM0014',
    districts: ['centrum'],
    grants: ['signal:write'],
    status: 'active',
    createdAt: at,
  });
  await db.insert(t.agencyKeys).values({ id: 'key_bench', agencyId: 'agy_bench', jwk: { kty: 'OKP' }, alg: 'EdDSA', createdAt: at });
  await db.insert(t.subjects).values({ id: 'sub_bench', pseudonym: 'p', wrappedKey: Buffer.alloc(72, 1), kekVersion: 1, createdAt: at });
  await db.insert(t.meta).values({ key: 'bench', value: '1' });
}

/** What register-signal does to the database, give or take: read its context, write three rows. */
async function registration(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.select().from(t.agencies).where(eq(t.agencies.id, 'agy_bench'));
    await tx.select().from(t.agencyKeys).where(eq(t.agencyKeys.id, 'key_bench'));
    await tx.select().from(t.subjects).where(eq(t.subjects.id, 'sub_bench'));
    await tx.select().from(t.meta).where(eq(t.meta.key, 'bench'));
    await tx.select().from(t.signals).where(eq(t.signals.id, 'sig_absent'));
    const id = randomUUID();
    const at = now();
    await tx.insert(t.signals).values({
      id: `sig_${id}`,
      agencyId: 'agy_bench',
      subjectId: 'sub_bench',
      status: 'ended',
      municipality: 'GM0014',
      informingPending: false,
      sealed: Buffer.alloc(200, 2),
      registeredAt: at,
      expiresAt: at,
      updatedAt: at,
    });
    await tx.insert(t.auditLog).values({
      seq: ++seq,
      at,
      agencyId: 'agy_bench',
      action: 'signal.register',
      outcome: 'ok',
      prevHash: 'x'.repeat(64),
      hash: 'y'.repeat(64),
    });
    await tx.insert(t.idempotencyKeys).values({ agencyId: 'agy_bench', key: id, fingerprint: 'f', status: 201, resourceId: `sig_${id}`, createdAt: at });
  });
}

async function read(db: Db): Promise<void> {
  await db.select().from(t.agencies).where(eq(t.agencies.id, 'agy_bench'));
}

async function measure(op: (db: Db) => Promise<void>, db: Db, concurrency: number): Promise<number> {
  let left = N;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await op(db);
    }),
  );
  return N / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function run(name: string, db: Db): Promise<Record<string, string>> {
  for (let i = 0; i < 200; i++) await registration(db); // warm-up
  const row: Record<string, string> = { driver: name };
  for (const [label, op] of [
    ['register tx', registration],
    ['select 1 row', read],
  ] as const) {
    row[`${label} ×1`] = (await measure(op, db, 1)).toFixed(0);
    row[`${label} ×${CONCURRENCY}`] = (await measure(op, db, CONCURRENCY)).toFixed(0);
  }
  return row;
}

const cluster = await startTestPostgres();
try {
  const results: Array<Record<string, string>> = [];
  // Each driver gets its own database; they take turns, ROUNDS times, so that neither has the quiet
  // moments of a shared machine alone, and the median of the rounds is the figure.
  const pgUrl = await cluster.createDatabase({ empty: true });
  const pool = new pg.Pool({ connectionString: pgUrl, max: POOL });
  const pgDb = drizzlePg({ client: pool, schema: t });
  await migratePg(pgDb, { migrationsFolder: PG_MIGRATIONS });
  await seed(pgDb);

  const jsUrl = await cluster.createDatabase({ empty: true });
  const client = postgres(jsUrl, { max: POOL, onnotice: () => {} });
  const jsDb = drizzlePostgresJs({ client, schema: t });
  await migratePostgresJs(jsDb, { migrationsFolder: PG_MIGRATIONS });
  await seed(jsDb);

  for (let round = 0; round < ROUNDS; round++) {
    seq = round * 10 * N;
    results.push(await run('pg (node-postgres)', pgDb));
    seq = round * 10 * N + 5 * N;
    results.push(await run('postgres (postgres.js)', jsDb));
  }
  await pool.end();
  await client.end();
  console.log(`ops/s, N=${N} per cell, pool of ${POOL}, PostgreSQL ${cluster.serverVersion} on loopback (fsync off)`);
  console.table(results);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const medians = [...new Set(results.map((r) => r.driver!))].map((driver) => {
    const rows = results.filter((r) => r.driver === driver);
    return Object.fromEntries(
      Object.keys(rows[0]!).map((k) => [k, k === 'driver' ? driver : String(median(rows.map((r) => Number(r[k]))))]),
    );
  });
  console.log(`median of ${ROUNDS} rounds:`);
  console.table(medians);
} finally {
  await cluster.stop();
}

/**
 * Is a drizzle instance per PostgreSQL transaction worth caching? Measures making one (with the
 * schema, as the store does), and transactions of one primary-key select through the store's way
 * (one instance per pooled connection) against a fresh instance each time.
 *
 *   scripts/with-postgres.sh node --import tsx test/bench/pg-drizzle.ts [N]
 */
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import * as t from '../../schema/tables.pg.ts';
import { openPgStore } from '../../src/store/pg-store.ts';
import { startTestPostgres } from '../support/postgres.ts';

const N = Number(process.argv[2] ?? 2000);

const pgServer = await startTestPostgres();
const url = await pgServer.createDatabase({ empty: true });
const store = openPgStore(url, { max: 1 });
try {
  await store.migrate();
  await store.reader.db.insert(t.meta).values({ key: 'bench', value: '1' });

  let start = performance.now();
  for (let i = 0; i < N; i++) drizzle({ client: store.pool, schema: t });
  const makeUs = ((performance.now() - start) * 1000) / N;

  const select = async (db: typeof store.reader.db) => db.select().from(t.meta).where(eq(t.meta.key, 'bench'));
  for (let i = 0; i < 200; i++) await store.transaction((tx) => select(tx.db));

  const rounds: Record<string, number[]> = { reused: [], fresh: [] };
  for (let round = 0; round < 3; round++) {
    start = performance.now();
    for (let i = 0; i < N; i++) await store.transaction((tx) => select(tx.db));
    rounds.reused!.push(((performance.now() - start) * 1000) / N);
    start = performance.now();
    for (let i = 0; i < N; i++) {
      const client = await store.pool.connect();
      try {
        await client.query('begin isolation level read committed');
        await select(drizzle({ client, schema: t }) as unknown as typeof store.reader.db);
        await client.query('commit');
      } finally {
        client.release();
      }
    }
    rounds.fresh!.push(((performance.now() - start) * 1000) / N);
  }
  const best = (xs: number[]) => Math.min(...xs).toFixed(1);
  console.log(`drizzle(): ${makeUs.toFixed(1)} µs per instance (with the schema)`);
  console.log(`transaction with one select, instance per connection reused: ${best(rounds.reused!)} µs`);
  console.log(`transaction with one select, fresh instance each time:       ${best(rounds.fresh!)} µs`);
} finally {
  await store.close();
  await pgServer.stop();
}

import Database from 'better-sqlite3';
import pg from 'pg';
import { openPgStore } from '../../src/store/pg-store.ts';
import type { Progress } from './seed.ts';

/**
 * The PostgreSQL side of `npm run bench -- --postgres`: the seeded SQLite database copied into a
 * PostgreSQL database that serves as the template of each run, so that every configuration
 * (1 instance, N instances) starts from the same rows, and the SQLite figures of the same run
 * come from the same data.
 */

const BATCH = 1000;

/** The values of one SQLite column as PostgreSQL takes them: SQLite keeps booleans as 0/1. */
function converter(pgType: string): (v: unknown) => unknown {
  if (pgType === 'boolean') return (v) => (v === null ? null : Boolean(v));
  return (v) => v;
}

/**
 * Makes `database` on the cluster at `adminUrl`, migrated, with every row of the SQLite file
 * (its keys' canaries and meta rows included, so the keys directory that belongs to the file
 * belongs to it). Foreign keys and triggers are not checked while copying (the rows come from a
 * consistent database); that takes a superuser, as the bench's throwaway cluster has.
 */
export async function copySqliteToPostgres(sqliteFile: string, adminUrl: string, database: string, progress: Progress): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.query(`create database "${database}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(adminUrl, database);
  const store = openPgStore(url, { max: 1 });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  const source = new Database(sqliteFile, { readonly: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (source.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name <> '__drizzle_migrations'").all() as Array<{ name: string }>).map((t) => t.name);
    for (const table of tables) {
      const types = new Map(
        (await client.query<{ column_name: string; data_type: string }>('select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = $2', ['public', table])).rows.map((r) => [
          r.column_name,
          r.data_type,
        ]),
      );
      if (types.size === 0) throw new Error(`table ${table} of the SQLite file is not in the PostgreSQL schema`);
      const total = (source.prepare(`select count(*) n from "${table}"`).get() as { n: number }).n;
      if (total === 0) continue;
      const columns = (source.prepare(`pragma table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name);
      const convert = columns.map((c) => converter(types.get(c) ?? 'text'));
      const insert = (rows: unknown[][]) => {
        const params: unknown[] = [];
        const tuples = rows.map((row) => `(${row.map((v, i) => (params.push(convert[i]!(v)), `$${params.length}`)).join(', ')})`);
        return client.query(`insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`, params);
      };
      await client.query('begin');
      await client.query('set local session_replication_role = replica');
      const perInsert = Math.min(BATCH, Math.floor(60_000 / columns.length));
      let batch: unknown[][] = [];
      let done = 0;
      for (const row of source.prepare(`select * from "${table}"`).raw(true).iterate() as IterableIterator<unknown[]>) {
        batch.push(row);
        if (batch.length === perInsert) {
          await insert(batch);
          done += batch.length;
          batch = [];
          if (done % 20_000 < BATCH) progress(table.slice(0, 12), done, total);
        }
      }
      if (batch.length) await insert(batch);
      await client.query('commit');
      progress(table.slice(0, 12), total, total);
    }
    await client.query('analyze');
  } finally {
    await client.end();
    source.close();
  }
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh copy of `template` for one run; returns its URL. */
export async function copyDatabase(adminUrl: string, template: string, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.query(`create database "${database}" template "${template}"`);
  } finally {
    await admin.end();
  }
  return databaseUrl(adminUrl, database);
}

/** Rows in a table of the database at `url` (to see that the service wrote there). */
export async function countRows(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(`select count(*) n from "${table}"`)).rows[0]!.n);
  } finally {
    await client.end();
  }
}

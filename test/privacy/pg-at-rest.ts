import type pg from 'pg';

/**
 * What lies at rest in a PostgreSQL database, for the privacy scans (no-bsn-at-rest,
 * sealed-at-rest): the counterpart of reading SQLite's file and WAL.
 *
 * - `rows`: every row of every table of the database's schema, found in information_schema (a new
 *   table is scanned without a change here): its columns in their text form (each type's text
 *   output, json as text: what pg_dump's COPY writes), followed by the raw bytes of its bytea
 *   columns (which pg_dump writes as hex; the raw bytes hold every form the hex would show, and
 *   scanning megabytes of hex text for hex-encoded BSNs takes minutes).
 * - `files`: the tables' files as they lie on disk after a CHECKPOINT — heap, TOAST and indexes,
 *   read through pg_read_binary_file (a superuser's, as the test cluster's is). They hold what no
 *   query returns any more: old versions of updated rows and deleted rows until VACUUM reuses their
 *   space, and the keys of every index.
 * - `numbers`: every value of a numeric column, for a BSN kept as a number.
 *
 * The WAL is not read: it is the cluster's, shared by every test database, and recycled at
 * checkpoints. What it holds of this database was, when written, a row version that `files` sees.
 */
export interface PgAtRest {
  rows: Buffer;
  files: Buffer;
  numbers: number[];
  /** The tables read, by name. */
  tables: string[];
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const NUMERIC = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);

/** Reads what lies at rest, leaving out the tables named in `skip` (and their TOAST and indexes). */
export async function pgAtRest(pool: pg.Pool, skip: string[] = []): Promise<PgAtRest> {
  const { rows: columns } = await pool.query<{ table: string; column: string; type: string }>(
    `select c.table_name as table, c.column_name as column, c.data_type as type
       from information_schema.columns c join information_schema.tables t using (table_schema, table_name)
      where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
      order by c.table_name, c.ordinal_position`,
  );
  const tables = [...new Set(columns.map((c) => c.table))].filter((t) => !skip.includes(t));
  const rows: Buffer[] = [];
  const numbers: number[] = [];
  for (const table of tables) {
    const of = columns.filter((c) => c.table === table);
    const blobs = of.filter((c) => c.type === 'bytea').map((c) => c.column);
    const others = of.filter((c) => c.type !== 'bytea').map((c) => c.column);
    const numeric = of.filter((c) => NUMERIC.has(c.type)).map((c) => c.column);
    const select = [
      // The text form of a row of its other columns: ROW(…)::text, which quotes as a record does.
      others.length > 0 ? `row(${others.map(quote).join(', ')})::text as "row"` : `'' as "row"`,
      ...blobs.map((c, i) => `${quote(c)} as b${i}`),
      ...numeric.map((c, i) => `${quote(c)}::text as n${i}`),
    ];
    const result = await pool.query<Record<string, string | Buffer | null>>(`select ${select.join(', ')} from ${quote(table)}`);
    for (const r of result.rows) {
      rows.push(Buffer.from(`${r.row as string}\n`));
      blobs.forEach((_, i) => r[`b${i}`] && rows.push(r[`b${i}`] as Buffer));
      numeric.forEach((_, i) => r[`n${i}`] !== null && numbers.push(Number(r[`n${i}`])));
    }
  }

  await pool.query('checkpoint');
  // Each relation's owning table: a TOAST table's index, an index, a TOAST table, or the table itself.
  const { rows: paths } = await pool.query<{ path: string }>(
    `select pg_relation_filepath(r.oid) as path
       from pg_class r join pg_class owner on owner.oid = coalesce(
              (select o.oid from pg_class o join pg_index i on i.indrelid = o.reltoastrelid where i.indexrelid = r.oid),
              (select i.indrelid from pg_index i where i.indexrelid = r.oid),
              (select o.oid from pg_class o where o.reltoastrelid = r.oid),
              r.oid)
      where owner.relnamespace = current_schema()::regnamespace and owner.relname = any($1) and pg_relation_filepath(r.oid) is not null`,
    [tables],
  );
  const files: Buffer[] = [];
  for (const { path } of paths) {
    files.push((await pool.query<{ bytes: Buffer }>('select pg_read_binary_file($1) as bytes', [path])).rows[0]!.bytes);
  }
  return { rows: Buffer.concat(rows), files: Buffer.concat(files), numbers, tables };
}

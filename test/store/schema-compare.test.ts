import { type Column, is, type SQL } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgDialect, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteSyncDialect, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as pgTables from '../../schema/tables.pg.ts';
import * as sqliteTables from '../../schema/tables.ts';

/**
 * schema/tables.pg.ts must describe the same tables as schema/tables.ts: each table reduced to
 * what the app relies on, in words both dialects share. A column kind this test does not know
 * fails it, so a new type is a decision made here, not drift.
 */

type Kind = 'text' | 'json' | 'bytes' | 'integer' | 'boolean';

const SQLITE_KINDS: Record<string, Kind> = {
  SQLiteText: 'text',
  SQLiteTextJson: 'json',
  SQLiteBlobBuffer: 'bytes',
  SQLiteInteger: 'integer',
  SQLiteBoolean: 'boolean',
};
const PG_KINDS: Record<string, Kind> = {
  text: 'text',
  jsonb: 'json',
  bytea: 'bytes',
  integer: 'integer',
  bigint: 'integer',
  boolean: 'boolean',
};

interface Shape {
  columns: Record<string, { kind: Kind; notNull: boolean; default: unknown; enum: string[] | undefined; generated: boolean }>;
  primaryKey: string[];
  indexes: Record<string, { columns: string[]; unique: boolean; where: string | undefined }>;
  foreignKeys: string[];
}

interface Config {
  columns: Column[];
  primaryKeys: Array<{ columns: Column[] }>;
  indexes: Array<{ config: { name: string; columns: unknown[]; unique: boolean; where?: SQL | undefined } }>;
  foreignKeys: Array<{ reference(): { columns: Column[]; foreignTable: unknown; foreignColumns: Column[] } }>;
}

function shape(config: Config, kindOf: (c: Column) => Kind | undefined, render: (s: SQL) => string, tableName: (t: unknown) => string): Shape {
  const columns: Shape['columns'] = {};
  for (const c of config.columns) {
    const kind = kindOf(c);
    if (!kind) throw new Error(`column ${c.name}: kind ${c.columnType} (${c.getSQLType()}) has no counterpart in the other dialect`);
    const generated = Boolean((c as { autoIncrement?: boolean }).autoIncrement) || c.generatedIdentity !== undefined;
    columns[c.name] = { kind, notNull: c.notNull, default: c.default, enum: c.enumValues, generated };
  }
  const primaryKey = config.columns.filter((c) => c.primary).map((c) => c.name);
  for (const pk of config.primaryKeys) primaryKey.push(...pk.columns.map((c) => c.name));
  const indexes: Shape['indexes'] = {};
  for (const { config: i } of config.indexes) {
    indexes[i.name] = {
      columns: i.columns.map((c) => (c as { name: string }).name),
      unique: i.unique,
      where: i.where ? render(i.where) : undefined,
    };
  }
  const foreignKeys = config.foreignKeys
    .map((fk) => fk.reference())
    .map((r) => `${r.columns.map((c) => c.name).join(',')} -> ${tableName(r.foreignTable)}(${r.foreignColumns.map((c) => c.name).join(',')})`)
    .sort();
  return { columns, primaryKey, indexes, foreignKeys };
}

const sqliteDialect = new SQLiteSyncDialect();
const pgDialect = new PgDialect();

function sqliteShape(table: SQLiteTable): Shape {
  const config = sqliteTableConfig(table);
  return shape(
    config as unknown as Config,
    (c) => SQLITE_KINDS[c.columnType],
    (s) => sqliteDialect.sqlToQuery(s).sql,
    (t) => sqliteTableConfig(t as SQLiteTable).name,
  );
}

function pgShape(table: PgTable): Shape {
  const config = pgTableConfig(table);
  return shape(
    config as unknown as Config,
    (c) => PG_KINDS[c.getSQLType().replace(/\(.*$/, '')],
    (s) => pgDialect.sqlToQuery(s).sql,
    (t) => pgTableConfig(t as PgTable).name,
  );
}

const sqliteByName = new Map(
  (Object.values(sqliteTables) as unknown[])
    .filter((t): t is SQLiteTable => is(t, SQLiteTable))
    .map((t) => [sqliteTableConfig(t).name, t]),
);
const pgByName = new Map(
  (Object.values(pgTables) as unknown[])
    .filter((t): t is PgTable => is(t, PgTable))
    .map((t) => [pgTableConfig(t).name, t]),
);

describe('schema/tables.pg.ts against schema/tables.ts', () => {
  it('has the same tables', () => {
    expect(sqliteByName.size).toBeGreaterThan(15);
    expect([...pgByName.keys()].sort()).toEqual([...sqliteByName.keys()].sort());
  });

  it('exports each table under the same name', () => {
    const names = (mod: object, cls: typeof SQLiteTable | typeof PgTable) =>
      Object.entries(mod)
        .filter(([, v]) => is(v, cls))
        .map(([k]) => k)
        .sort();
    expect(names(pgTables, PgTable)).toEqual(names(sqliteTables, SQLiteTable));
  });

  describe.each([...sqliteByName.keys()].sort())('%s', (name) => {
    const sqlite = sqliteShape(sqliteByName.get(name)!);
    const pg = pgByName.has(name) ? pgShape(pgByName.get(name)!) : undefined;

    it('has the same columns: names, kinds, nullability, defaults, enumerations', () => {
      expect(pg?.columns).toEqual(sqlite.columns);
    });

    it('has the same primary key', () => {
      expect(sqlite.primaryKey.length).toBeGreaterThan(0);
      expect(pg?.primaryKey).toEqual(sqlite.primaryKey);
    });

    it('has the same indexes, unique and partial ones alike', () => {
      expect(pg?.indexes).toEqual(sqlite.indexes);
    });

    it('has the same foreign keys', () => {
      expect(pg?.foreignKeys).toEqual(sqlite.foreignKeys);
    });
  });
});

describe('the comparison itself', () => {
  it('notices a column whose nullability differs', () => {
    const { signals } = sqliteTables;
    const a = sqliteShape(signals);
    const b = structuredClone(a);
    b.columns.ended_at!.notNull = true;
    expect(b).not.toEqual(a);
  });

  it('sees the partial index predicate of one active signal per agency and subject in both', () => {
    const where = pgShape(pgTables.signals).indexes.signals_one_active_per_agency?.where;
    expect(where).toBe(`"signals"."status" = 'active'`);
    expect(sqliteShape(sqliteTables.signals).indexes.signals_one_active_per_agency?.where).toBe(where);
  });
});

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Logger, pino } from 'pino';
import { addAgency } from '../../src/app/agencies.ts';
import type { Clock, Deps } from '../../src/app/context.ts';
import { parseAgencyPublicKey } from '../../src/crypto/agency-keys.ts';
import { ephemeralKeyRing, type KeyRing } from '../../src/crypto/key-ring.ts';
import { signClientAssertion } from '../../src/crypto/tokens.ts';
import { createApp } from '../../src/http/app.ts';
import { createMetricsApp } from '../../src/http/metrics-app.ts';
import { createMetrics } from '../../src/metrics.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import type { Policy } from '../../src/policy/types.ts';
import pg from 'pg';
import { type Db, migrateStore, openStore, type SqliteStore, type Store } from '../../src/store/db.ts';
import { asStore, type PgStore, pgStoreOf } from '../../src/store/pg-store.ts';
import { chosenTestStore, openTestPgStore } from './store-choice.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ISSUER = 'http://index.test';
export const policyPath = (name: string) => path.join(ROOT, 'policies', `${name}.yaml`);

/**
 * BSNs that pass the 11-test, made from a counter so that every test has its own young people.
 * Distinct for every n below 9 000 000: the first seven digits are a bijection of n, the eighth is
 * the first that leaves a check digit below 10, and the ninth is that check digit.
 */
export function validBsn(n: number): string {
  const head = String(1_000_000 + ((n * 7919) % 9_000_000));
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += (9 - i) * Number(head[i]);
  for (let eighth = 0; ; eighth++) {
    const check = (sum + 2 * eighth) % 11;
    if (check < 10) return `${head}${eighth}${check}`;
  }
}

/** A clock that stands still until a test moves it. */
export class TestClock implements Clock {
  constructor(private at = new Date('2026-03-02T09:00:00.000Z')) {}
  now(): Date {
    return new Date(this.at.getTime());
  }
  set(iso: string): void {
    this.at = new Date(iso);
  }
  advanceDays(days: number): void {
    this.at = new Date(this.at.getTime() + days * 86_400_000);
  }
}

export interface TestAgency {
  id: string;
  type: string;
  name: string;
  privateKey: KeyObject;
}

export interface Harness {
  deps: Deps;
  /**
   * The store: SQLite's, or PostgreSQL's in the vitest project `postgres` (typed as SQLite's; a
   * test that needs the SQLite store itself asks for a file or an image, which are SQLite's).
   */
  store: SqliteStore;
  /**
   * The writer connection's drizzle handle, for tests that look at or change rows directly; on
   * PostgreSQL the pool's (run its queries with first/many/exec of src/store/db.ts, or await them).
   */
  db: Db;
  clock: TestClock;
  keys: KeyRing;
  policy: Policy;
  app: ReturnType<typeof createApp>;
  /** The separate metrics listener's app (METRICS_PORT), never the API's. */
  metricsApp: ReturnType<typeof createMetricsApp>;
  /** The Prometheus text the metrics listener serves. */
  metrics(): Promise<string>;
  agency(type: string, opts?: { name?: string; municipality?: string; districts?: string[]; grants?: string[]; keyType?: 'ed25519' | 'p256'; webhookUrl?: string }): Promise<TestAgency>;
  assertion(agency: TestAgency, opts?: { audience?: string; lifetimeS?: number }): Promise<string>;
  token(agency: TestAgency, scope?: string): Promise<string>;
  call(method: string, url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /**
   * Rows of a query written once for either store: `?` placeholders (numbered for PostgreSQL),
   * column names as the schema spells them, counts as numbers on both. For tests that look at or
   * change rows directly; the service itself has its SQL in src/store only.
   */
  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** The first row of `rows`, or undefined. */
  row<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  /** Runs a statement (insert, update, delete) on either store and says how many rows it changed. */
  run(sql: string, ...params: unknown[]): Promise<number>;
  /** The names of the store's tables (SQLite's sqlite_master, PostgreSQL's current schema), for tests that look at every row. */
  tables(): Promise<string[]>;
  /**
   * Closes the store for good, at once (twice is once): on PostgreSQL its database is dropped now
   * rather than after the test file, for tests that make many harnesses (property runs).
   */
  close(): Promise<void>;
}

/**
 * A fresh service on a private database: in memory unless a file is named. `store` hands it the
 * store of an earlier harness instead (its rows as they are, closed by whoever opened it).
 */
export async function createHarness(
  opts: { policy?: string; dbFile?: string; dbImage?: Buffer; dbKey?: Uint8Array; keys?: KeyRing; clock?: TestClock; logger?: Logger; issuer?: string; store?: SqliteStore } = {},
): Promise<Harness> {
  const store = opts.store ?? (await openHarnessStore(opts));
  const db = store.db;
  const keys = opts.keys ?? (await ephemeralKeyRing());
  const clock = opts.clock ?? new TestClock();
  const policy = loadPolicy(policyPath(opts.policy ?? 'groningen'));
  const deps: Deps = { store, keys, policy, clock, logger: opts.logger ?? pino({ level: 'silent' }), issuer: opts.issuer ?? ISSUER, metrics: createMetrics(store) };
  const app = createApp(deps);
  let counter = 0;
  const raw = rawSql(store);
  let closing: Promise<void> | undefined;

  const h: Harness = {
    deps, store, db, clock, keys, policy, app,
    metricsApp: createMetricsApp(deps.metrics),
    async metrics() {
      const res = await h.metricsApp.request('/metrics');
      if (res.status !== 200) throw new Error(`metrics answered ${res.status}`);
      return res.text();
    },
    async agency(type, o = {}) {
      const pair = o.keyType === 'p256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
      const publicKey = await parseAgencyPublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
      const name = o.name ?? `${type} ${++counter}`;
      const rec = await addAgency(deps, {
        name,
        type,
        municipality: o.municipality ?? '0014',
        districts: o.districts ?? (type === 'wij' ? ['selwerd', 'paddepoel'] : []),
        grants: o.grants ?? [],
        publicKey,
        ...(o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}),
      });
      return { id: rec.id, type, name, privateKey: pair.privateKey };
    },
    assertion(agency, o = {}) {
      return signClientAssertion(agency.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
        agencyId: agency.id,
        audience: o.audience ?? deps.issuer,
        now: clock.now(),
        lifetimeS: o.lifetimeS ?? 120,
      });
    },
    async token(agency, scope) {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await h.assertion(agency),
      });
      if (scope) form.set('scope', scope);
      const res = await app.request('/oauth/token', { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    async call(method, url, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      return app.request(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    },
    rows: (sql, ...params) => raw.rows(sql, params),
    row: async <T,>(sql: string, ...params: unknown[]) => (await raw.rows<T>(sql, params))[0],
    run: (sql, ...params) => raw.run(sql, params),
    close: () => (closing ??= (disposers.get(store) ?? (() => store.close()))()),
    tables: async () => (await raw.rows<{ name: string }>(raw.tablesSql, [])).map((t) => t.name),
  };
  return h;
}

/** 64-bit integers and numerics (what count(*) and sum() give on PostgreSQL) as numbers, as SQLite gives them. */
const PG_NUMBERS = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
} as pg.CustomTypesConfig;

/** Test SQL on either store (Harness.rows and Harness.run). */
function rawSql(store: SqliteStore | (Store & PgStore)) {
  const pgs = pgStoreOf(store as Store);
  if (pgs) {
    const numbered = (sql: string) => {
      let n = 0;
      return sql.replace(/\?/g, () => `$${++n}`);
    };
    return {
      rows: async <T>(sql: string, params: unknown[]) => (await pgs.pool.query({ text: numbered(sql), values: params, types: PG_NUMBERS })).rows as T[],
      run: async (sql: string, params: unknown[]) => (await pgs.pool.query({ text: numbered(sql), values: params })).rowCount ?? 0,
      tablesSql: "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1",
    };
  }
  const client = (store as SqliteStore).db.$client;
  return {
    rows: async <T>(sql: string, params: unknown[]) => client.prepare(sql).all(...params) as T[],
    run: async (sql: string, params: unknown[]) => client.prepare(sql).run(...params).changes,
    tablesSql: "select name from sqlite_master where type = 'table' order by 1",
  };
}

/** How a harness store made here is closed for good, where that is more than closing it. */
const disposers = new WeakMap<object, () => Promise<void>>();

/**
 * The harness's store: the store of this run (test/support/store-choice.ts: a fresh, migrated
 * PostgreSQL database per harness in the project `postgres`, dropped after the test file or by
 * Harness.close), or SQLite when a file, an image or a database key is asked for, which only
 * SQLite has.
 */
async function openHarnessStore(opts: { dbFile?: string; dbImage?: Buffer; dbKey?: Uint8Array }): Promise<SqliteStore> {
  const sqliteAsked = opts.dbFile !== undefined || opts.dbImage !== undefined || opts.dbKey !== undefined;
  if (!sqliteAsked && chosenTestStore() === 'postgres') {
    const test = await openTestPgStore();
    const pgStore = asStore(test.store);
    disposers.set(pgStore, test.close);
    return Object.assign(pgStore, { db: pgStore.reader.db }) as unknown as SqliteStore;
  }
  const store = openStore(opts.dbImage ?? opts.dbFile ?? ':memory:', opts.dbKey ? { key: opts.dbKey } : {});
  if (!opts.dbImage) await migrateStore(store);
  return store;
}

/** A valid registration body for the given BSN. */
export function signalBody(bsn: string, extra: Record<string, unknown> = {}) {
  return {
    bsn,
    birthDate: '2012-04-01',
    municipality: '0014',
    district: 'selwerd',
    professional: { name: 'J. de Vries', email: 'j.devries@example.nl', phone: '050 123 4567' },
    informed: { status: 'informed' },
    ...extra,
  };
}

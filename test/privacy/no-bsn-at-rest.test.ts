import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.ts';
import { pgStoreOf } from '../../src/store/pg-store.ts';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';
import { chosenTestStore, openTestPgStore } from '../support/store-choice.ts';
import { pgAtRest } from './pg-at-rest.ts';

/** Every window of `width` characters of `text` that matches `pattern`, overlapping. */
function windows(text: string, width: number, chars: string): string[] {
  return [...text.matchAll(new RegExp(`(?=([${chars}]{${width}}))`, 'g'))].map((m) => m[1]!);
}

/**
 * Finds the first form in which any BSN sits in `bytes`: as text (ASCII, UTF-16 either way),
 * as a binary integer or double, hex- or base64-encoded, or as an unkeyed SHA-256.
 */
function findBsn(bytes: Buffer, bsns: string[]): string | undefined {
  const plain = new Set(bsns);
  const numbers = new Set(bsns.map(Number));
  const encoded = new Map<string, string>();
  for (const bsn of bsns) {
    encoded.set(Buffer.from(bsn).toString('hex'), 'hex');
    encoded.set(Buffer.from(bsn).toString('base64').slice(0, 12), 'base64');
    encoded.set(createHash('sha256').update(bsn).digest('hex'), 'unkeyed sha256');
  }
  const latin1 = bytes.toString('latin1');
  if (windows(latin1, 9, '0-9').some((w) => plain.has(w))) return 'ascii';
  for (const shift of [0, 1]) {
    const part = bytes.subarray(shift, bytes.length - ((bytes.length - shift) % 2));
    if (windows(part.toString('utf16le'), 9, '0-9').some((w) => plain.has(w))) return 'utf-16le';
    if (windows(Buffer.from(part).swap16().toString('utf16le'), 9, '0-9').some((w) => plain.has(w))) return 'utf-16be';
  }
  // Four-byte integers are checked per column value (see integerColumnsHold): in megabytes of
  // ciphertext a random four-byte window equals one of hundreds of BSNs by chance alone.
  for (let i = 0; i + 8 <= bytes.length; i++) {
    if (numbers.has(bytes.readDoubleBE(i)) || numbers.has(bytes.readDoubleLE(i))) return 'float64';
  }
  for (const [width, chars] of [[18, '0-9a-f'], [64, '0-9a-f'], [12, 'A-Za-z0-9+/']] as const) {
    const hit = windows(latin1, width, chars).find((w) => encoded.has(w));
    if (hit) return encoded.get(hit);
  }
  for (const bsn of bsns) if (bytes.includes(createHash('sha256').update(bsn).digest())) return 'unkeyed sha256 (raw)';
  return undefined;
}

/** Whether any number equals a BSN. */
function holdsBsnNumber(values: unknown[], bsns: string[]): boolean {
  const numbers = new Set(bsns.map(Number));
  return values.some((v) => typeof v === 'number' && numbers.has(v));
}

/** Whether any numeric value in any table equals a BSN (how SQLite would keep one as a number). */
function integerColumnsHold(db: Database.Database, bsns: string[]): boolean {
  const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
  return tables.some(({ name }) => (db.prepare(`select * from "${name}"`).raw().all() as unknown[][]).some((row) => holdsBsnNumber(row, bsns)));
}

/** Every BSN, in any form, in what lies at rest on PostgreSQL (pg-at-rest.ts): answers where. */
async function findBsnOnPostgres(pool: pg.Pool, bsns: string[]): Promise<string[]> {
  const rest = await pgAtRest(pool);
  const found: string[] = [];
  const inRows = findBsn(rest.rows, bsns);
  if (inRows) found.push(`rows: ${inRows}`);
  const inFiles = findBsn(rest.files, bsns);
  if (inFiles) found.push(`files: ${inFiles}`);
  if (holdsBsnNumber(rest.numbers, bsns)) found.push('numbers');
  return found;
}

describe('no BSN at rest', () => {
  it('leaves no BSN, in any form, at rest after hundreds of registrations', async () => {
    const onPostgres = chosenTestStore() === 'postgres';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-rest-'));
    const dbFile = path.join(dir, 'index.db');
    const h = await createHarness(onPostgres ? {} : { dbFile });
    await h.agency('wij', { districts: ['selwerd'] });
    const agencies = await Promise.all(['school', 'gp', 'jgz', 'youth_care'].map((t) => h.agency(t)));
    const tokens = await Promise.all(agencies.map((a) => h.token(a)));
    const bsns = Array.from({ length: 300 }, (_, i) => validBsn(5000 + i));
    // Parents named for family matches (one shared by every three children): their BSNs too.
    const parents = Array.from({ length: 100 }, (_, i) => validBsn(7000 + i));
    let n = 0;
    for (const [i, bsn] of bsns.entries()) {
      const body = signalBody(bsn, { parents: [{ bsn: parents[Math.floor(i / 3)]! }] });
      // Several agencies per subject, retried requests, updates and withdrawals: every write path.
      for (const token of tokens.slice(0, 1 + (n++ % tokens.length))) {
        const res = await h.call('POST', '/v1/signals', { token, body, headers: { 'idempotency-key': `k-${bsn}` } });
        expect([200, 201]).toContain(res.status);
      }
    }
    const first = (await (await h.call('GET', '/v1/signals?limit=1', { token: tokens[0]! })).json()) as { items: Array<{ id: string }> };
    await h.call('POST', `/v1/signals/${first.items[0]!.id}/withdraw`, { token: tokens[0]!, body: { reason: 'care_ended' } });
    // A refused registration must not leave its BSN either.
    await h.call('POST', '/v1/signals', { token: tokens[0]!, body: signalBody(validBsn(9999), { district: 'atlantis' }) });
    bsns.push(validBsn(9999));
    bsns.push(...parents);
    // Family matches were made: the parents' pseudonyms did their work.
    expect(await h.row("select count(*) as n from subjects where kind = 'family'")).toEqual({ n: 100 });

    const pgs = pgStoreOf(h.store);
    if (pgs) {
      // Every row of every table, as pg_dump would write it, and the tables' files on disk.
      const rest = await pgAtRest(pgs.pool);
      expect(rest.tables).toEqual(expect.arrayContaining(['subjects', 'signals', 'notices', 'audit_log', 'idempotency_keys']));
      expect(rest.rows.length).toBeGreaterThan(100_000);
      expect(rest.files.length).toBeGreaterThan(1_000_000);
      expect(await findBsnOnPostgres(pgs.pool, bsns)).toEqual([]);
      return;
    }
    const scan = () => {
      const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
      const bytes = Buffer.concat(files.map((f) => fs.readFileSync(f)));
      expect(bytes.length).toBeGreaterThan(100_000);
      expect(findBsn(bytes, bsns)).toBeUndefined();
      return files.length;
    };
    expect(scan()).toBeGreaterThanOrEqual(2); // the database and its WAL, read while open
    expect(integerColumnsHold(h.db.$client, bsns)).toBe(false);
    await h.store.close(); // checkpoint: everything lands in the main file
    scan();
  }, 300_000); // a privacy scan, not a timing: on a loaded two-core machine it takes minutes

  it('the scanner finds a BSN planted in each form', () => {
    const bsn = validBsn(1);
    const pad = Buffer.alloc(64, 0x20);
    const plant = (b: Buffer) => findBsn(Buffer.concat([pad, b, pad]), [bsn]);
    const dbl = Buffer.alloc(8);
    dbl.writeDoubleLE(Number(bsn));
    expect(plant(Buffer.from(bsn))).toBe('ascii');
    expect(plant(Buffer.from(bsn, 'utf16le'))).toBe('utf-16le');
    expect(plant(Buffer.concat([Buffer.from([0]), Buffer.from(bsn, 'utf16le')]))).toMatch(/^utf-16/);
    expect(plant(Buffer.from(bsn, 'utf16le').swap16())).toBe('utf-16be');
    expect(plant(dbl)).toBe('float64');
    expect(plant(Buffer.from(Buffer.from(bsn).toString('hex')))).toBe('hex');
    expect(plant(Buffer.from(Buffer.from(bsn).toString('base64')))).toBe('base64');
    expect(plant(Buffer.from(createHash('sha256').update(bsn).digest('hex')))).toBe('unkeyed sha256');
    expect(plant(createHash('sha256').update(bsn).digest())).toBe('unkeyed sha256 (raw)');
    expect(plant(Buffer.from('nothing here'))).toBeUndefined();
  });
});

describe('the integer check', () => {
  it('finds a BSN kept as a number', () => {
    const db = openDatabase(':memory:');
    db.$client.exec('create table t (a integer)');
    db.$client.prepare('insert into t values (?)').run(Number(validBsn(1)));
    expect(integerColumnsHold(db.$client, [validBsn(1)])).toBe(true);
    expect(integerColumnsHold(db.$client, [validBsn(2)])).toBe(false);
  });
});

if (chosenTestStore() === 'postgres') {
  describe('the PostgreSQL scan', () => {
    it('finds a BSN planted in any form in a table it was not told of', async () => {
      const { store } = await openTestPgStore();
      const bsn = validBsn(1);
      await store.pool.query('create table planted (t text, j jsonb, b bytea, n bigint, d double precision)');
      const plant = async (column: string, value: unknown) => {
        await store.pool.query(`insert into planted (${column}) values ($1)`, [value]);
        const found = await findBsnOnPostgres(store.pool, [bsn]);
        await store.pool.query('delete from planted');
        return found;
      };
      const dbl = Buffer.alloc(8);
      dbl.writeDoubleBE(Number(bsn));
      expect(await findBsnOnPostgres(store.pool, [bsn])).toEqual([]);
      expect(await plant('t', `bsn ${bsn} in a sentence`)).toContain('rows: ascii');
      expect(await plant('j', { parent: { bsn } })).toContain('rows: ascii');
      expect(await plant('b', Buffer.from(bsn, 'utf16le'))).toContain('rows: utf-16le');
      expect(await plant('b', dbl)).toContain('rows: float64');
      expect(await plant('n', bsn)).toContain('numbers');
      expect(await plant('d', Number(bsn))).toContain('numbers');
      // A deleted row stays in the table's file until VACUUM: the row scan no longer sees it.
      expect(await findBsnOnPostgres(store.pool, [bsn])).toEqual(['files: ascii']);
    });
  });
}

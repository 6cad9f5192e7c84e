import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { signals } from '../../schema/tables.ts';
import { resealLegacySignals } from '../../src/app/reseal-legacy-signals.ts';
import { openSignal } from '../../src/app/signal-record.ts';
import { ephemeralKeyRing } from '../../src/crypto/key-ring.ts';
import { newId } from '../../src/crypto/ids.ts';
import { newDataKey, sealJson } from '../../src/crypto/seal.ts';
import { migrateDatabase, openDatabase, openStore } from '../../src/store/db.ts';
import { loadSubjectKey } from '../../src/store/subjects.ts';
import { pgStoreOf } from '../../src/store/pg-store.ts';
import { createHarness, ROOT, signalBody, validBsn } from '../support/harness.ts';
import { chosenTestStore } from '../support/store-choice.ts';
import { pgAtRest } from './pg-at-rest.ts';

const EXEMPTIONS = ['child_safety', 'others_safety', 'unreachable'];
const DISTRICTS = ['selwerd', 'paddepoel'];
/**
 * Tables whose pages the district scan skips. agencies: which districts a WIJ team serves is public
 * and must be known to check a registration.
 */
const DISTRICT_SCAN_SKIPS = ['agencies'];

/**
 * The database file and its WAL as a stolen copy would hold them, with the pages of `skip` (tables
 * and their indexes, by `dbstat`) blanked: main-file pages by position, WAL frames by page number.
 */
function bytesAtRest(db: Database.Database, file: string, skip: string[] = []): Buffer {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const owners = db.prepare('select name from sqlite_master where tbl_name in (select value from json_each(?))').pluck().all(JSON.stringify(skip)) as string[];
  const skipped = new Set(
    db.prepare('select pageno from dbstat where name in (select value from json_each(?))').pluck().all(JSON.stringify(owners)) as number[],
  );
  const main = Buffer.from(fs.readFileSync(file));
  for (const page of skipped) if (page * pageSize <= main.length) main.fill(0, (page - 1) * pageSize, page * pageSize);
  const wal = fs.existsSync(`${file}-wal`) ? Buffer.from(fs.readFileSync(`${file}-wal`)) : Buffer.alloc(0);
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (skipped.has(wal.readUInt32BE(at))) wal.fill(0, at + 24, at + 24 + pageSize);
  }
  return Buffer.concat([main, wal]);
}

/** The values of `words` that sit in `bytes` as text (ASCII or UTF-16, either byte order). */
function plaintextIn(bytes: Buffer, words: string[]): string[] {
  return words.filter((w) => bytes.includes(Buffer.from(w)) || bytes.includes(Buffer.from(w, 'utf16le')) || bytes.includes(Buffer.from(w, 'utf16le').swap16()));
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-sealed-'));
  dirs.push(dir);
  return path.join(dir, 'index.db');
}

/** A signal's contact details, agency reference and birth date: sealed, never in the clear. */
const CONTACT = { name: 'Anna Verzegeld', email: 'anna.verzegeld@example.nl', phone: '050 987 6543' };
const REFERENCE = 'DOSSIER-7731';
const BIRTH_DATE = '2011-07-15';
const SEALED_DETAILS = [CONTACT.name, CONTACT.email, CONTACT.phone, REFERENCE, BIRTH_DATE];

describe('what a stolen database shows', () => {
  it('holds no informing exemption, district, rule list or contact detail of a signal or notice in the clear', async () => {
    const onPostgres = chosenTestStore() === 'postgres';
    const dbFile = onPostgres ? '' : tempDb();
    const h = await createHarness(onPostgres ? {} : { dbFile });
    await h.agency('wij', { districts: DISTRICTS });
    const [school, gp, jgz, youthCare] = await Promise.all(['school', 'gp', 'jgz', 'youth_care'].map((t) => h.agency(t)));
    const [ts, tg, tj, ty] = await Promise.all([school!, gp!, jgz!, youthCare!].map((a) => h.token(a)));
    const register = async (token: string, n: number, extra: Record<string, unknown>) => {
      const res = await h.call('POST', '/v1/signals', { token, body: signalBody(validBsn(n), extra) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    // Two matches: every exemption, both districts, a signal without one, an update and a withdrawal.
    const first = await register(ts!, 1, { district: 'selwerd', informed: { status: 'exempt', exemption: 'child_safety' } });
    await register(tg!, 1, { district: 'paddepoel', informed: { status: 'exempt', exemption: 'others_safety' }, professional: CONTACT, reference: REFERENCE, birthDate: BIRTH_DATE });
    await register(tj!, 2, { district: 'selwerd', informed: { status: 'exempt', exemption: 'unreachable' } });
    const pending = await register(ty!, 2, { district: undefined, informed: { status: 'pending' } });
    await register(tj!, 1, { district: 'selwerd', informed: { status: 'informed' } });
    expect((await h.call('PATCH', `/v1/signals/${pending}`, { token: ty!, body: { informed: { status: 'exempt', exemption: 'child_safety' } } })).status).toBe(200);
    expect((await h.call('POST', `/v1/signals/${first}/withdraw`, { token: ts!, body: { reason: 'care_ended' } })).status).toBe(200);

    const rules = new Set<string>();
    for (const token of [ts!, tg!, tj!, ty!]) {
      const page = (await (await h.call('GET', '/v1/notices?limit=100', { token })).json()) as { items: Array<{ policy: { rules: string[] } }> };
      for (const n of page.items) for (const r of n.policy.rules) rules.add(r);
    }
    expect(rules.size).toBeGreaterThan(1);

    const pgs = pgStoreOf(h.store);
    if (pgs) {
      // Every row of every table, as pg_dump would write it, and the tables' files on disk.
      const atRest = async (skip: string[] = []) => {
        const rest = await pgAtRest(pgs.pool, skip);
        return Buffer.concat([rest.rows, rest.files]);
      };
      const everything = await atRest();
      expect(plaintextIn(everything, EXEMPTIONS)).toEqual([]);
      expect(plaintextIn(everything, [...rules])).toEqual([]);
      expect(plaintextIn(everything, SEALED_DETAILS)).toEqual([]);
      expect(plaintextIn(await atRest(DISTRICT_SCAN_SKIPS), DISTRICTS)).toEqual([]);
      // The scan sees what is there: the WIJ team's districts, in the table it was told to skip.
      expect(plaintextIn(everything, DISTRICTS)).toEqual(DISTRICTS);
      return;
    }
    const db = h.db.$client;
    expect(fs.statSync(`${dbFile}-wal`).size).toBeGreaterThan(0); // read while open: the WAL holds the writes
    const everything = bytesAtRest(db, dbFile);
    expect(plaintextIn(everything, EXEMPTIONS)).toEqual([]);
    expect(plaintextIn(everything, [...rules])).toEqual([]);
    expect(plaintextIn(everything, SEALED_DETAILS)).toEqual([]);
    expect(plaintextIn(bytesAtRest(db, dbFile, DISTRICT_SCAN_SKIPS), DISTRICTS)).toEqual([]);
    // The scan sees what is there: the WIJ team's districts, in pages it was told to skip.
    expect(plaintextIn(everything, DISTRICTS)).toEqual(DISTRICTS);

    await h.store.close(); // checkpoint: everything lands in the main file
    const reopened = openDatabase(dbFile);
    const after = bytesAtRest(reopened.$client, dbFile, DISTRICT_SCAN_SKIPS);
    expect(plaintextIn(after, [...EXEMPTIONS, ...DISTRICTS, ...rules, ...SEALED_DETAILS])).toEqual([]);
    reopened.$client.close();
  }, 30_000);
});

// PostgreSQL's schema was sealed from its first migration: it has no database of before to reseal.
if (chosenTestStore() === 'sqlite') describe('a database of before sealing', () => {
  it('a database made before the fields were sealed has them sealed at the next start, and nothing left in the clear', async () => {
    const dbFile = tempDb();
    const keys = await ephemeralKeyRing();
    // The schema as it stood before migration 0004, from the migrations up to it.
    const old = path.join(path.dirname(dbFile), 'migrations');
    fs.cpSync(path.join(ROOT, 'schema/migrations'), old, { recursive: true });
    const journal = JSON.parse(fs.readFileSync(path.join(old, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === '0004_seal_signal_fields'));
    fs.writeFileSync(path.join(old, 'meta/_journal.json'), JSON.stringify(journal));
    const store = openStore(dbFile);
    const db = store.db;
    migrate(db, { migrationsFolder: old });

    const now = new Date('2026-03-02T09:00:00.000Z');
    // The subject as that schema held it (no kind column yet).
    const subjectId = newId('sub', now);
    const dataKey = newDataKey();
    const { wrapped, kekVersion } = keys.wrapDataKey(dataKey, subjectId);
    db.$client
      .prepare('insert into subjects (id, pseudonym, wrapped_key, kek_version, created_at) values (?, ?, ?, ?, ?)')
      .run(subjectId, keys.pseudonymize(validBsn(1)), Buffer.from(wrapped), kekVersion, now.toISOString());
    const at = now.toISOString();
    const insert = db.$client.prepare(
      `insert into signals (id, agency_id, subject_id, kind, status, municipality, district, informed_status, informed_exemption, sealed, registered_at, expires_at, updated_at)
       values (?, ?, ?, ?, 'active', '0014', ?, ?, ?, ?, ?, ?, ?)`,
    );
    const legacy = [
      ['sig_a', 'concern', 'selwerd', 'exempt', 'child_safety'],
      ['sig_b', 'involvement', 'paddepoel', 'pending', null],
      ['sig_c', 'involvement', null, 'exempt', 'unreachable'],
    ] as const;
    for (const [id, kind, district, status, exemption] of legacy) {
      db.$client.prepare("insert into agencies values (?, ?, 'gp', '0014', '[]', '[]', null, 'active', ?)").run(`agy_${id}`, `gp ${id}`, at);
      const sealed = Buffer.from(sealJson(dataKey, { professional: { name: 'J. de Vries', email: 'j@example.nl' }, reference: null, birthDate: '2012-04-01' }, `signal:${id}`));
      insert.run(id, `agy_${id}`, subjectId, kind, district, status, exemption, sealed, at, at, at);
    }
    db.$client
      .prepare(
        `insert into notices (id, agency_id, subject_id, type, sealed, policy_id, policy_version, rules, created_at)
         values ('ntc_a', 'agy_sig_a', ?, 'match.created', x'00', 'groningen', '1', '["disclosure.school","builtin.match-two-or-more-agencies"]', ?)`,
      )
      .run(subjectId, at);

    const leftInTheClear = ['child_safety', 'unreachable', ...DISTRICTS, 'disclosure.school', 'builtin.match-two-or-more-agencies', 'concern'];
    expect(plaintextIn(bytesAtRest(db.$client, dbFile), leftInTheClear)).toEqual(leftInTheClear);

    migrateDatabase(db);
    expect(await resealLegacySignals(store, keys)).toBe(3);
    expect(await resealLegacySignals(store, keys)).toBe(0);

    const rows = db.$client.prepare('select * from signals order by id').all() as Array<Record<string, unknown>>;
    expect(Object.keys(rows[0]!).sort()).toEqual(
      ['agency_id', 'end_reason', 'ended_at', 'expires_at', 'id', 'informing_pending', 'municipality', 'registered_at', 'sealed', 'status', 'subject_id', 'updated_at'],
    );
    expect(rows.map((r) => r.informing_pending)).toEqual([0, 1, 0]);
    const key = (await loadSubjectKey(store.reader, keys, subjectId)).dataKey;
    const opened = db.select().from(signals).all().map((s) => openSignal(key, s));
    expect(opened.map((s) => [s.kind, s.district, s.informed])).toEqual([
      ['concern', 'selwerd', { status: 'exempt', exemption: 'child_safety' }],
      ['involvement', 'paddepoel', { status: 'pending' }],
      ['involvement', null, { status: 'exempt', exemption: 'unreachable' }],
    ]);
    expect(opened[0]!.professional.name).toBe('J. de Vries');
    expect(db.$client.prepare('select count(*) from legacy_signal_fields').pluck().get()).toBe(0);

    const bytes = bytesAtRest(db.$client, dbFile);
    expect(plaintextIn(bytes, leftInTheClear)).toEqual([]);
    await store.close();
  });
});

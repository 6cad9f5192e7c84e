import fs from 'node:fs';
import path from 'node:path';
import { and, eq, getTableColumns, getTableName, is, type SQL, sql } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../schema/tables.pg.ts';
import { migratePostgres, openPostgres, PG_MIGRATIONS, type PgStore, postgresErrorCode } from '../../src/store/pg.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres.ts';

/**
 * The PostgreSQL schema on a real server: a fresh database migrated from empty, the rules the
 * database itself enforces, and every table's row written and read back unchanged.
 */

let cluster: TestPostgres;
let store: PgStore;

beforeAll(async () => {
  cluster = await startTestPostgres();
  store = openPostgres(await cluster.createDatabase({ empty: true }), { max: 4 });
  await migratePostgres(store.db);
  await seedFixtures();
}, 60_000);

afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

const AT = '2026-03-02T09:00:00.000Z';
const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

/** Rows that the tests of rules lean on, apart from the round-trip rows so that no test needs another to run first. */
async function seedFixtures(): Promise<void> {
  const agency = (id: string) => ({ id, name: id, type: 'wijkteam', municipality: 'GM0014', districts: [], grants: [], status: 'active' as const, createdAt: AT });
  await store.db.insert(t.agencies).values([agency('agy_r1'), agency('agy_r2')]);
  await store.db
    .insert(t.subjects)
    .values(['sub_r1', 'sub_r2', 'sub_r3', 'sub_r4'].map((id) => ({ id, pseudonym: id, wrappedKey: bytes(72, 1), kekVersion: 1, createdAt: AT })));
  await store.db.insert(t.matches).values({
    id: 'mat_r',
    subjectId: 'sub_r4',
    status: 'open',
    municipality: 'GM0014',
    policyVersion: '2026.1',
    createdAt: AT,
    updatedAt: AT,
    claimBy: AT,
  });
}

const TABLES = (Object.values(t) as unknown[]).filter((v): v is PgTable => is(v, PgTable));

function byPrimaryKey(table: PgTable, row: Record<string, unknown>): SQL | undefined {
  const keyColumns = new Set(getTableConfig(table).primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)));
  const conditions = Object.entries(getTableColumns(table))
    .filter(([, column]) => column.primary || keyColumns.has(column.name))
    .map(([key, column]) => eq(column, row[key]));
  expect(conditions.length).toBeGreaterThan(0);
  return and(...conditions);
}

/** One row of each table with every column set, in an order that satisfies the foreign keys. */
const ROWS: Array<[PgTable, Record<string, unknown>]> = [
  [t.meta, { key: 'schema', value: '1' }],
  [
    t.agencies,
    {
      id: 'agy_a',
      name: 'WIJ Centrum',
      type: 'wijkteam',
      municipality: 'GM0014',
      districts: ['centrum', 'oost'],
      grants: ['signal:write'],
      webhookUrl: 'https://a.example/hook',
      webhookSecret: Buffer.from([1, 2, 3]),
      status: 'active',
      createdAt: AT,
    },
  ],
  [t.agencies, { id: 'agy_b', name: 'School', type: 'onderwijs', municipality: 'GM0014', districts: [], grants: [], webhookUrl: null, webhookSecret: null, status: 'disabled', createdAt: AT }],
  [t.agencyKeys, { id: 'key_a', agencyId: 'agy_a', jwk: { kty: 'OKP', crv: 'Ed25519', x: 'abc' }, alg: 'EdDSA', createdAt: AT, revokedAt: AT }],
  [t.usedAssertions, { agencyId: 'agy_a', jti: 'jti-1', expiresAt: AT }],
  [t.agencyOidc, { agencyId: 'agy_a', issuer: 'https://login.agency.example', clientId: 'betrokken', createdAt: AT }],
  [t.subjects, { id: 'sub_a', kind: 'person', pseudonym: 'ps-a', wrappedKey: bytes(72, 7), kekVersion: 2, createdAt: AT }],
  [t.subjects, { id: 'sub_f', kind: 'family', pseudonym: 'ps-a', wrappedKey: bytes(72, 8), kekVersion: 2, createdAt: AT }],
  [
    t.signals,
    {
      id: 'sig_a',
      agencyId: 'agy_a',
      subjectId: 'sub_a',
      status: 'ended',
      municipality: 'GM0014',
      informingPending: true,
      sealed: bytes(300, 0xfe),
      registeredAt: AT,
      expiresAt: '2028-03-02T09:00:00.000Z',
      updatedAt: AT,
      endedAt: AT,
      endReason: 'care_ended',
    },
  ],
  [t.signalFamilies, { signalId: 'sig_a', familyId: 'sub_f' }],
  [t.idempotencyKeys, { agencyId: 'agy_a', key: 'idem-1', fingerprint: 'fp', status: 201, resourceId: 'sig_a', createdAt: AT }],
  [
    t.auditLog,
    {
      seq: 1,
      at: AT,
      agencyId: 'agy_a',
      actor: 'client:agy_a',
      action: 'signal.register',
      subject: 'sub_a',
      resource: 'sig_a',
      outcome: 'ok',
      requestId: 'req-1',
      prevHash: '0'.repeat(64),
      hash: 'a'.repeat(64),
    },
  ],
  [t.auditCheckpoints, { seq: 1, head: 'a'.repeat(64), at: AT, kid: 'kid-1', jws: 'e30.e30.sig' }],
  [
    t.matches,
    {
      id: 'mat_a',
      subjectId: 'sub_a',
      lens: 'veilig_thuis',
      status: 'closed',
      municipality: 'GM0014',
      coordinatorId: 'agy_a',
      policyVersion: '2026.1',
      createdAt: AT,
      updatedAt: AT,
      claimBy: AT,
      claimedAt: AT,
      claimSealed: bytes(90, 3),
      escalatedTo: 'agy_b',
      escalatedAt: AT,
      endedAt: AT,
      closeReason: 'resolved',
      coveredSignals: ['sig_a'],
    },
  ],
  [t.matchRecipients, { matchId: 'mat_a', agencyId: 'agy_b', role: 'party_coordinator', visibleSealed: bytes(64, 4), updatedAt: AT }],
  [
    t.notices,
    {
      id: 'ntc_a',
      agencyId: 'agy_b',
      subjectId: 'sub_a',
      matchId: 'mat_a',
      type: 'match.created',
      sealed: bytes(120, 5),
      policyId: 'groningen',
      policyVersion: '2026.1',
      createdAt: AT,
      ackedAt: AT,
      delivery: 'failed',
      attempts: 7,
      nextAttemptAt: AT,
      deliveredAt: AT,
      lastError: 'HTTP 503',
    },
  ],
  [t.legacySignalFields, { signalId: 'sig_a', kind: 'zorg', district: 'centrum', informedStatus: 'exempt', informedExemption: 'safety' }],
  [t.shieldMarkers, { tag: 'tag-a', sealed: bytes(48, 6) }],
  [t.matchEvents, { id: 1_000_000, matchId: 'mat_a', at: AT, type: 'match.claimed', agencyId: 'agy_a' }],
  [
    t.caseTables,
    {
      id: 'cas_a',
      matchId: 'mat_a',
      rootId: 'cas_a',
      scheduledFor: AT,
      invited: ['agy_a', 'agy_b'],
      createdAt: AT,
      held: false,
      attendedBy: ['agy_a'],
      leadAgencyId: 'agy_a',
      nextReviewOn: '2026-04-01',
      outcomeAt: AT,
    },
  ],
  [t.jobMarks, { kind: 'reminder', ref: 'sig_a', at: AT }],
  [
    t.professionals,
    { id: 'prf_a', agencyId: 'agy_a', name: 'Jet de Vries', email: 'jet@example.nl', phone: '050-1234567', roles: ['registrant', 'admin'], status: 'active', webauthnUserId: 'wu-a', oidcIssuer: 'https://login.school.example', oidcSubject: 'sub-a', createdAt: AT },
  ],
  [t.professionalInvitations, { tokenHash: 'h-a', professionalId: 'prf_a', invitedBy: 'prf_a', createdAt: AT, expiresAt: AT, usedAt: AT }],
  [t.passkeys, { id: 'cred-a', professionalId: 'prf_a', publicKey: bytes(77, 3), counter: 2 ** 40, transports: ['internal', 'hybrid'], backedUp: true, createdAt: AT, lastUsedAt: AT }],
  [
    t.consoleSessions,
    { id: 'ses_a', tokenHash: 'th-a', professionalId: 'prf_a', csrfToken: 'csrf-a', device: 'Chrome · Linux', createdAt: AT, lastSeenAt: AT, expiresAt: AT, revokedAt: AT },
  ],
  [t.passkeyChallenges, { challenge: 'chl-a', purpose: 'register', professionalId: 'prf_a', expiresAt: AT }],
  [t.signInAttempts, { key: 'k'.repeat(64), count: 20, windowEndsAt: AT }],
];

describe('PostgreSQL schema', () => {
  it('migrates an empty database to every table of schema/tables.pg.ts, and a second run changes nothing', async () => {
    const names = await store.db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(names.rows.map((r) => r.table_name)).toEqual(TABLES.map((x) => getTableName(x)).sort());
    await migratePostgres(store.db);
    const applied = await store.db.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const journal = JSON.parse(fs.readFileSync(path.join(PG_MIGRATIONS, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(applied.rows[0]?.n).toBe(journal.entries.length); // each migration once
  });

  describe('one row of every table, every column set', () => {
    beforeAll(async () => {
      for (const [table, row] of ROWS) await store.db.insert(table).values(row);
    });

    it.each(ROWS.map(([table, row], i) => [`${getTableName(table)} #${i}`, table, row] as const))(
      'reads back the row of %s as it was written',
      async (_name, table, row) => {
        const back = await store.db.select().from(table).where(byPrimaryKey(table, row));
        expect(back).toEqual([row]);
      },
    );
  });

  it('has a round-trip row for every table', () => {
    expect(new Set(ROWS.map(([table]) => getTableName(table)))).toEqual(new Set(TABLES.map((x) => getTableName(x))));
  });

  it('numbers match events itself, in order', async () => {
    const ids = [];
    for (const type of ['match.created', 'match.escalated']) {
      const [row] = await store.db.insert(t.matchEvents).values({ matchId: 'mat_r', at: AT, type }).returning({ id: t.matchEvents.id });
      ids.push(row!.id);
    }
    expect(ids[0]).toBeGreaterThan(0);
    expect(ids[1]).toBe(ids[0]! + 1);
  });
});

describe('rules the database enforces', () => {
  const auditRow = (seq: number) => ({ seq, at: AT, action: 'audit.test', outcome: 'ok', prevHash: 'p', hash: `h${seq}` });

  it('keeps the audit log append-only: no update, delete or truncate', async () => {
    await store.db.insert(t.auditLog).values(auditRow(100));
    for (const attempt of [
      () => store.db.update(t.auditLog).set({ outcome: 'denied' }).where(sql`${t.auditLog.seq} = 100`),
      () => store.db.delete(t.auditLog).where(sql`${t.auditLog.seq} = 100`),
      () => store.db.execute(sql`truncate audit_log`),
    ]) {
      const err = await attempt().then(() => undefined, (e: unknown) => e);
      expect(postgresErrorCode(err)).toBe('23001');
    }
    const [row] = await store.db.select().from(t.auditLog).where(sql`${t.auditLog.seq} = 100`);
    expect(row?.outcome).toBe('ok');
  });

  it('still appends to the audit log, and refuses a second record of the same sequence number', async () => {
    await store.db.insert(t.auditLog).values(auditRow(101));
    const err = await store.db.insert(t.auditLog).values(auditRow(101)).then(() => undefined, (e: unknown) => e);
    expect(postgresErrorCode(err)).toBe('23505');
  });

  describe('one active signal per agency and subject', () => {
    const signal = (id: string, subjectId: string, status: 'active' | 'ended', agencyId = 'agy_r1') => ({
      id,
      agencyId,
      subjectId,
      status,
      municipality: 'GM0014',
      informingPending: false,
      sealed: bytes(10, 1),
      registeredAt: AT,
      expiresAt: AT,
      updatedAt: AT,
    });
    const insert = (row: ReturnType<typeof signal>) => store.db.insert(t.signals).values(row).then(() => undefined, (e: unknown) => e);

    it('refuses a second active signal of the same agency for the same subject', async () => {
      expect(await insert(signal('sig_r1a', 'sub_r1', 'active'))).toBeUndefined();
      expect(postgresErrorCode(await insert(signal('sig_r1b', 'sub_r1', 'active')))).toBe('23505');
    });

    it('allows ended signals beside the active one, and another agency its own active signal', async () => {
      for (const row of [
        signal('sig_r2a', 'sub_r2', 'active'),
        signal('sig_r2b', 'sub_r2', 'ended'),
        signal('sig_r2c', 'sub_r2', 'ended'),
        signal('sig_r2d', 'sub_r2', 'active', 'agy_r2'),
      ]) {
        expect(await insert(row)).toBeUndefined();
      }
      const rows = await store.db.select({ id: t.signals.id }).from(t.signals).where(eq(t.signals.subjectId, 'sub_r2'));
      expect(rows.map((r) => r.id).sort()).toEqual(['sig_r2a', 'sig_r2b', 'sig_r2c', 'sig_r2d']);
    });

    it('allows a new active signal once the old one has ended', async () => {
      expect(await insert(signal('sig_r3a', 'sub_r3', 'active'))).toBeUndefined();
      await store.db.update(t.signals).set({ status: 'ended' }).where(eq(t.signals.id, 'sig_r3a'));
      expect(await insert(signal('sig_r3b', 'sub_r3', 'active'))).toBeUndefined();
      const active = await store.db
        .select({ id: t.signals.id })
        .from(t.signals)
        .where(and(eq(t.signals.subjectId, 'sub_r3'), eq(t.signals.status, 'active')));
      expect(active).toEqual([{ id: 'sig_r3b' }]);
    });
  });
});

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore } from '../../src/store/pg-store.ts';
import { postgresErrorCode } from '../../src/store/pg.ts';
import { ROOT } from '../support/harness.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres.ts';

/**
 * The role setup of README "Beyond one machine": the tables owned by the role that migrates, the
 * service connected as `betrokken_app` with scripts/pg-grants.sql applied, which can append to
 * the audit log but neither change it nor switch its append-only triggers off.
 */

let cluster: TestPostgres;
let admin: pg.Client;
const suffix = randomBytes(4).toString('hex');
const owner = `betrokken_owner_${suffix}`;
const database = `betrokken_roles_${suffix}`;
const password = randomBytes(12).toString('hex');
let ownerUrl: string;
let appUrl: string;

const urlAs = (user: string) => {
  const url = new URL(cluster.adminUrl);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
};

async function as<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (err: unknown) => postgresErrorCode(err));

beforeAll(async () => {
  cluster = await startTestPostgres();
  admin = new pg.Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  await admin.query(`create role "${owner}" login password '${password}'`);
  // betrokken_app is the name the grants use; roles belong to the whole cluster.
  await admin.query(`do $$ begin if not exists (select from pg_roles where rolname = 'betrokken_app') then create role betrokken_app login; end if; end $$`);
  await admin.query(`alter role betrokken_app password '${password}'`);
  await admin.query(`create database "${database}" owner "${owner}"`);
  ownerUrl = urlAs(owner);
  appUrl = urlAs('betrokken_app');
  const store = openPgStore(ownerUrl, { max: 1 });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  const grants = fs.readFileSync(path.join(ROOT, 'scripts', 'pg-grants.sql'), 'utf8');
  await as(ownerUrl, (c) => c.query(grants));
}, 60_000);

afterAll(async () => {
  if (admin) {
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.query(`drop owned by betrokken_app`).catch(() => {});
    await admin.query(`drop role if exists "${owner}"`);
    await admin.end();
  }
  await cluster?.stop();
});

const record = (seq: number) =>
  `insert into audit_log (seq, at, action, outcome, prev_hash, hash) values (${seq}, '2026-03-02T09:00:00.000Z', 'test.append', 'ok', 'p', 'h${seq}')`;

describe('the application role', () => {
  it('is set up in the README by the statements of scripts/pg-grants.sql', () => {
    const statements = fs
      .readFileSync(path.join(ROOT, 'scripts', 'pg-grants.sql'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('--'));
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(statements.length).toBeGreaterThan(5);
    expect(readme).toContain(['```sql', ...statements, '```'].join('\n'));
  });

  it('reads and writes the other tables', async () => {
    await as(appUrl, async (c) => {
      await c.query(`insert into meta (key, value) values ('roles', '1')`);
      await c.query(`update meta set value = '2' where key = 'roles'`);
      expect((await c.query(`select value from meta where key = 'roles'`)).rows).toEqual([{ value: '2' }]);
      await c.query(`delete from meta where key = 'roles'`);
      expect((await c.query('select count(*)::int n from drizzle.__drizzle_migrations')).rows[0].n).toBeGreaterThan(0);
    });
  });

  it('appends to the audit log and reads it, but cannot change, remove, empty or unprotect it', async () => {
    await as(appUrl, async (c) => {
      await c.query(record(1));
      expect((await c.query('select seq from audit_log')).rows).toEqual([{ seq: '1' }]);
      expect(await codeOf(c.query(`update audit_log set outcome = 'denied'`))).toBe('42501');
      expect(await codeOf(c.query('delete from audit_log'))).toBe('42501');
      expect(await codeOf(c.query('truncate audit_log'))).toBe('42501');
      expect(await codeOf(c.query('alter table audit_log disable trigger all'))).toBe('42501');
      expect(await codeOf(c.query('drop table audit_log'))).toBe('42501');
    });
  });

  it('is needed: the owner meets only the trigger, which it can switch off', async () => {
    await as(ownerUrl, async (c) => {
      expect(await codeOf(c.query(`update audit_log set outcome = 'denied'`))).toBe('23001');
      expect(await codeOf(c.query('alter table audit_log disable trigger audit_log_no_update'))).toBe('ok');
      expect(await codeOf(c.query(`update audit_log set outcome = 'denied'`))).toBe('ok');
    });
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/console/secrets.ts';
import { addAgenciesByCli, cli } from '../support/process.ts';
import { chosenTestStore, openTestPgStore } from '../support/store-choice.ts';

describe('betrokken professional invite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-console-cli-'));
  const env: Record<string, string> = { BETROKKEN_DATA_DIR: dir, BETROKKEN_ISSUER: 'https://betrokken.example.nl', LOG_LEVEL: 'silent' };
  /** Rows of the index the commands wrote: SQLite's file in the data directory, or the PostgreSQL database of the project `postgres`. */
  let rowsOf: (sql: string) => Promise<Array<Record<string, unknown>>>;
  beforeAll(async () => {
    if (chosenTestStore() === 'postgres') {
      const { store, url } = await openTestPgStore();
      env.BETROKKEN_DATABASE_URL = url;
      rowsOf = async (sql) => (await store.pool.query(sql)).rows;
      return;
    }
    rowsOf = async (sql) => {
      const db = new Database(path.join(dir, 'betrokken.db'), { readonly: true });
      try {
        return db.prepare(sql).all() as Array<Record<string, unknown>>;
      } finally {
        db.close();
      }
    };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints a one-time link under the issuer for the first administrator, and keeps only its hash', { timeout: 120_000 }, async () => {
    const { school } = addAgenciesByCli(dir, env, [['school', 'school', []]]);
    const res = cli(['professional', 'invite', '--agency', school!.id, '--role', 'admin', '--name', 'Anna Bakker', '--email', 'A.Bakker@example.nl'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const [about, link] = res.stdout.trim().split('\n');
    expect(about).toMatch(/^invited prf_[a-z0-9]+ \(admin\); the link works once, until 2\d{3}-/);
    const token = /^https:\/\/betrokken\.example\.nl\/console\/uitnodiging\/([0-9a-z]{52})$/.exec(link!)?.[1];
    expect(token).toBeDefined();
    expect(await rowsOf('select token_hash as "tokenHash", invited_by as "invitedBy" from professional_invitations')).toEqual([{ tokenHash: hashSecret(token!), invitedBy: null }]);
    const professionals = (await rowsOf('select email, roles, status from professionals')).map((p) => ({ ...p, roles: typeof p.roles === 'string' ? JSON.parse(p.roles) : p.roles }));
    expect(professionals).toEqual([{ email: 'a.bakker@example.nl', roles: ['admin'], status: 'invited' }]);
    // Asked again before enrolment: a new link, the old one stops working.
    const again = cli(['professional', 'invite', '--agency', school!.id, '--role', 'admin', '--name', 'Anna Bakker', '--email', 'a.bakker@example.nl'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^new invitation for prf_/);
  });

  it('refuses an unknown role, an unknown agency and a missing e-mail address', { timeout: 120_000 }, () => {
    const { gp } = addAgenciesByCli(dir, env, [['gp', 'gp', []]]);
    const role = cli(['professional', 'invite', '--agency', gp!.id, '--role', 'boss', '--name', 'X', '--email', 'x@example.nl'], env);
    expect([role.code, role.stderr]).toEqual([1, expect.stringContaining('(validation_failed)')]);
    const agency = cli(['professional', 'invite', '--agency', 'agy_nope', '--name', 'X', '--email', 'x@example.nl'], env);
    expect([agency.code, agency.stderr]).toEqual([1, expect.stringContaining('(agency_not_found)')]);
    const email = cli(['professional', 'invite', '--agency', gp!.id, '--name', 'X'], env);
    expect([email.code, email.stderr]).toEqual([2, expect.stringContaining('missing --email E')]);
    expect(cli(['professional', 'invite', '--help'], env).stdout).toContain('usage: betrokken professional invite --agency ID');
  });
});

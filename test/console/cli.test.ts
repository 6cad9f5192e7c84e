import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/console/secrets.ts';
import { addAgenciesByCli, cli } from '../support/process.ts';

describe('betrokken professional invite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-console-cli-'));
  const env = { BETROKKEN_DATA_DIR: dir, BETROKKEN_ISSUER: 'https://betrokken.example.nl', LOG_LEVEL: 'silent' };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints a one-time link under the issuer for the first administrator, and keeps only its hash', { timeout: 120_000 }, () => {
    const { school } = addAgenciesByCli(dir, env, [['school', 'school', []]]);
    const res = cli(['professional', 'invite', '--agency', school!.id, '--role', 'admin', '--name', 'Anna Bakker', '--email', 'A.Bakker@example.nl'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const [about, link] = res.stdout.trim().split('\n');
    expect(about).toMatch(/^invited prf_[a-z0-9]+ \(admin\); the link works once, until 2\d{3}-/);
    const token = /^https:\/\/betrokken\.example\.nl\/console\/uitnodiging\/([0-9a-z]{52})$/.exec(link!)?.[1];
    expect(token).toBeDefined();
    const db = new Database(path.join(dir, 'betrokken.db'), { readonly: true });
    try {
      const rows = db.prepare('select token_hash as tokenHash, invited_by as invitedBy from professional_invitations').all();
      expect(rows).toEqual([{ tokenHash: hashSecret(token!), invitedBy: null }]);
      expect(db.prepare('select email, roles, status from professionals').all()).toEqual([{ email: 'a.bakker@example.nl', roles: '["admin"]', status: 'invited' }]);
    } finally {
      db.close();
    }
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

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../src/cli-help.ts';
import { runCli } from '../../src/cli.ts';
import { ROOT } from '../support/harness.ts';
import { startOidcProvider, loopbackCertificate } from '../support/oidc-provider.ts';
import { addAgenciesByCli, BIN, type CliAgency, cli, freePort } from '../support/process.ts';
import { snapshotDir } from '../support/snapshot.ts';

let root: string;
let populated: string;
let env: Record<string, string>;
let agencies: Record<string, CliAgency>;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-cli-'));
  populated = path.join(root, 'data');
  env = { BETROKKEN_DATA_DIR: populated, LOG_LEVEL: 'silent' };
  expect(cli(['migrate'], env).code).toBe(0);
  agencies = addAgenciesByCli(populated, env, [
    ['OBS De Starter', 'school', []],
    ['WIJ Selwerd', 'wij', ['--district', 'selwerd', '--district', 'paddepoel']],
  ]);
}, 60_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Runs the command line in this process, with its output captured. */
async function run(args: string[], dataDir: string) {
  vi.stubEnv('BETROKKEN_DATA_DIR', dataDir);
  vi.stubEnv('LOG_LEVEL', 'silent');
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: await runCli(args), stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    vi.unstubAllEnvs();
  }
}

const commands = Object.keys(COMMANDS);
const groups = [...new Set(commands.filter((c) => c.includes(' ')).map((c) => c.split(' ').slice(0, -1).join(' ')))];

describe('--help prints help and does nothing else', () => {
  it.each([...commands, ...groups])('betrokken %s --help changes nothing in a data directory, populated or missing', async (command) => {
    const missing = path.join(root, 'nothing-here');
    const before = snapshotDir(populated);
    expect(Object.keys(before)).toContain('betrokken.db');
    for (const dir of [populated, missing]) {
      for (const args of [[...command.split(' '), '--help'], [...command.split(' '), '-h'], ['help', ...command.split(' ')]]) {
        const res = await run(args, dir);
        expect(res.code, args.join(' ')).toBe(0);
        expect(res.stdout).toMatch(new RegExp(`^usage: betrokken ${command}`));
        expect(res.stderr).toBe('');
      }
    }
    expect(snapshotDir(populated)).toEqual(before);
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('--help after arguments and options is still only help', async () => {
    const before = snapshotDir(populated);
    for (const args of [
      ['agency', 'disable', 'agy_x', '--help'],
      ['agency', 'add', '--name', 'X', '--type', 'school', '--help'],
      ['keys', 'rotate', '--help'],
      ['demo', '--env', '--help'],
      ['db', 'encrypt', '-h'],
    ]) {
      const res = await run(args, populated);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout).toMatch(/^usage: betrokken /);
    }
    expect(snapshotDir(populated)).toEqual(before);
  });
});

describe('the real command line', { timeout: 60_000 }, () => {
  it('--version prints the package version', () => {
    const res = cli(['--version'], env);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe(pkg.version);
  });

  it('start --help and agency add --help answer at once, without a stack trace and without serving', () => {
    const before = snapshotDir(populated);
    for (const args of [['start', '--help'], ['agency', 'add', '--help'], ['migrate', '--help'], ['demo', '--help']]) {
      const res = cli(args, env);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stderr).toBe('');
      expect(res.stdout).not.toMatch(/listening|\n\s+at /);
    }
    expect(snapshotDir(populated)).toEqual(before);
  });

  it.each([
    [['agency', 'add', '--nme', 'x'], /unknown option '--nme'.*agency add --help/i],
    [['agency', 'add', '--name', 'x'], /missing --type.*agency add --help/],
    [['agency', 'list', 'extra'], /unexpected argument extra/],
    [['agency', 'disable'], /missing ID/],
    [['agency', 'key', 'revoke', 'agy_x'], /missing KID/],
    [['start', '--port', '1'], /unknown option '--port'/i],
    [['migrate', 'now'], /unexpected argument now/],
    [['keys'], /missing keys command/],
    [['keys', 'rotate', '--force'], /unknown option '--force'/i],
    [['audit', 'verify', '--out', 'x'], /unknown option '--out'/i],
    [['policy', 'check'], /missing FILE/],
    [['jobs', 'run', 'nonsense'], /unknown job nonsense/],
    [['assertion', '--agency'], /argument missing/],
    [['agency', 'oidc', '--issuer', 'https://idp.example'], /missing --agency ID.*agency oidc --help/],
    [['agency', 'oidc', '--agency', 'agy_x'], /missing --issuer URL/],
    [['agency', 'oidc', '--agency', 'agy_x', '--issuer', 'https://idp.example'], /missing --client-id ID/],
    [['agency', 'oidc', '--agency', 'agy_x', '--remove', '--issuer', 'https://idp.example'], /--remove takes no --issuer/],
    [['frobnicate'], /unknown command frobnicate/],
  ])('betrokken %j: one clear line, exit 2, nothing changed', async (args, message) => {
    const before = snapshotDir(populated);
    const res = await run(args, populated);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
    expect(snapshotDir(populated)).toEqual(before);
  });

  it('a usage error in the real process is one line on stderr, no stack trace', () => {
    const res = cli(['agency', 'add', '--bogus'], env);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^betrokken: unknown option '--bogus'/i)]);
  });

  it('agency list prints aligned columns', () => {
    const res = cli(['agency', 'list'], env);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const columnStarts = (line: string) => [...line.matchAll(/(?:^|\s{2,})(\S)/g)].map((m) => m.index! + m[0].length - 1);
    expect(columnStarts(lines[0]!)).toEqual(columnStarts(lines[1]!));
    expect(columnStarts(lines[0]!)).toHaveLength(7);
    expect(res.stdout).toContain('districts=selwerd,paddepoel');
  });
});

/** Runs the real command line without blocking this process, which serves the provider it calls. */
function cliAsync(args: string[], extraEnv: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('agency oidc: an agency provider for console sign-in', { timeout: 60_000 }, () => {
  it("checks the issuer's discovery over https, stores it, prints what to register, and removes it", async () => {
    const tls = loopbackCertificate(root);
    const idp = await startOidcProvider({ clients: [], accounts: {}, tls });
    try {
      const school = agencies['OBS De Starter']!.id;
      const trust = { NODE_EXTRA_CA_CERTS: tls.certFile, BETROKKEN_ISSUER: 'https://index.example' };
      const set = await cliAsync(['agency', 'oidc', '--agency', school, '--issuer', idp.issuer, '--client-id', 'betrokken'], trust);
      expect(set.stderr).toBe('');
      expect(set.code).toBe(0);
      expect(set.stdout).toContain(`${school}  issuer=${idp.issuer}  client_id=betrokken`);
      expect(set.stdout).toContain('private_key_jwt');
      expect(set.stdout).toContain('jwks_uri https://index.example/.well-known/jwks.json');
      expect(set.stdout).toContain('redirect_uri https://index.example/console/inloggen/organisatie/terug');
      expect(idp.discoveryReads).toBe(1);
      // Without trust in the provider's certificate, nothing is stored.
      const untrusted = await cliAsync(['agency', 'oidc', '--agency', agencies['WIJ Selwerd']!.id, '--issuer', idp.issuer, '--client-id', 'betrokken'], {});
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/oidc_discovery_failed/);
      const removed = await cliAsync(['agency', 'oidc', '--agency', school, '--remove'], {});
      expect(removed.code).toBe(0);
      expect(removed.stdout).toMatch(/OpenID sign-in removed/);
      const again = await cliAsync(['agency', 'oidc', '--agency', agencies['WIJ Selwerd']!.id, '--remove'], {});
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/had no OpenID provider/);
    } finally {
      await idp.close();
    }
  });

  it.each([
    ['an http issuer', (port: number) => `http://127.0.0.1:${port}`, /must use https.*oidc_insecure_issuer/],
    ['an issuer that does not answer', (port: number) => `https://127.0.0.1:${port}`, /cannot be read.*oidc_discovery_failed/],
  ])('refuses %s in one line, exit 1, nothing stored', async (_label, issuer, message) => {
    const agency = agencies['OBS De Starter']!.id;
    const res = await run(['agency', 'oidc', '--agency', agency, '--issuer', issuer(await freePort()), '--client-id', 'betrokken'], populated);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(message);
    expect((await run(['agency', 'oidc', '--agency', agency, '--remove'], populated)).stdout).toMatch(/had no OpenID provider/);
  });

  it('refuses an unknown agency', async () => {
    const res = await run(['agency', 'oidc', '--agency', 'agy_nobody', '--remove'], populated);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/agency_not_found/);
  });
});

import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { addAgency } from '../../src/app/agencies.ts';
import { loadConfig } from '../../src/config.ts';
import { parseAgencyPublicKey } from '../../src/crypto/agency-keys.ts';
import { openRuntime, StartupError } from '../../src/runtime.ts';
import { policyPath } from '../support/harness.ts';
import { cli, freePort } from '../support/process.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const silent = pino({ level: 'silent' });

/** A data directory with a WIJ team and a police agency, started once under the Groningen policy. */
async function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-orphans-'));
  dirs.push(root);
  const env = { BETROKKEN_DATA_DIR: path.join(root, 'data') };
  const deps = await openRuntime(loadConfig(env), silent, undefined, { orphans: 'refuse' });
  const key = async () => parseAgencyPublicKey(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const wij = await addAgency(deps, { name: 'WIJ Selwerd', type: 'wij', municipality: '0014', districts: ['selwerd'], grants: [], publicKey: await key() });
  const police = await addAgency(deps, { name: 'Politie Noord', type: 'police', municipality: '0014', districts: [], grants: [], publicKey: await key() });
  await deps.store.close();
  const policy = (edit: (p: { agencyTypes: Record<string, { scopes: string[] }> }) => void) => {
    const doc = YAML.parse(fs.readFileSync(policyPath('groningen'), 'utf8'));
    edit(doc);
    const file = path.join(root, `policy-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(file, YAML.stringify(doc));
    return file;
  };
  return { env, wij, police, policy };
}

describe('a policy that drops what existing agencies use', { timeout: 60_000 }, () => {
  it('refuses to start when an agency type is gone, naming the agencies', async () => {
    const { env, police, policy } = await setup();
    const file = policy((p) => delete p.agencyTypes.police);
    const config = loadConfig({ ...env, BETROKKEN_POLICY: file });
    const start = openRuntime(config, silent, undefined, { orphans: 'refuse' });
    await expect(start).rejects.toThrow(StartupError);
    await expect(openRuntime(config, silent, undefined, { orphans: 'refuse' })).rejects.toThrow(
      new RegExp(`drops what existing agencies use: ${police.id} "Politie Noord" \\(type police is not in the policy\\).*--allow-orphans`),
    );
    // The operator's commands still work, so that the agency can be disabled; then it starts.
    await (await openRuntime(config, silent)).store.close();
    expect(cli(['agency', 'disable', police.id], { ...env, BETROKKEN_POLICY: file }).code).toBe(0);
    await (await openRuntime(config, silent, undefined, { orphans: 'refuse' })).store.close();
  });

  it('refuses when a type loses a scope it had, and starts with --allow-orphans (warned)', async () => {
    const { env, wij, policy } = await setup();
    const file = policy((p) => {
      p.agencyTypes.wij!.scopes = p.agencyTypes.wij!.scopes.filter((s) => s !== 'matches:coordinate');
    });
    const config = loadConfig({ ...env, BETROKKEN_POLICY: file });
    await expect(openRuntime(config, silent, undefined, { orphans: 'refuse' })).rejects.toThrow(
      new RegExp(`${wij.id} "WIJ Selwerd" \\(type wij loses matches:coordinate\\)`),
    );
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    await (await openRuntime(config, logger, undefined, { orphans: 'allow' })).store.close();
    expect(lines.join('')).toMatch(/--allow-orphans/);
    expect(lines.join('')).toContain(wij.id);
  });

  it('betrokken start with such a policy stops before listening with one line', async () => {
    const { env, police, policy } = await setup();
    const file = policy((p) => delete p.agencyTypes.police);
    const res = cli(['start'], { ...env, BETROKKEN_POLICY: file, LOG_LEVEL: 'silent', PORT: String(await freePort()), METRICS_PORT: String(await freePort()) });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(police.id);
  });
});

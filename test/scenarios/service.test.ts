import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/harness.ts';
import { cli, startServer } from '../support/process.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-svc-'));

describe('the service as operators run it', () => {
  it('runs the README quick start verbatim against a freshly started service', async () => {
    const dataDir = tmp();
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- quickstart -->\s*```sh\n([\s\S]*?)```\s*<!-- \/quickstart -->/.exec(readme)?.[1];
    expect(block).toBeTruthy();
    const server = await startServer({ BETROKKEN_DATA_DIR: dataDir });
    try {
      const port = new URL(server.url).port;
      const out = execFileSync('bash', ['-euo', 'pipefail', '-c', block!], {
        cwd: ROOT,
        env: { ...process.env, BETROKKEN_DATA_DIR: dataDir, PORT: port },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const signal = JSON.parse(out) as { id: string; status: string };
      expect(signal.id).toMatch(/^sig_/);
      expect(signal.status).toBe('active');
      // Metrics are on their own loopback listener, never on the API's.
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      const metrics = await fetch(`${server.metricsUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('betrokken_http_request_duration_seconds_count');
      expect(server.output()).toMatch(/"host":"127\.0\.0\.1".*"metrics listening"/);
      // The periodic jobs can be run by hand while the server runs.
      const jobs = cli(['jobs', 'run'], { BETROKKEN_DATA_DIR: dataDir });
      expect(jobs.code).toBe(0);
      expect(JSON.parse(jobs.stdout)).toHaveProperty('escalation.escalated', 0);
      expect(cli(['jobs', 'run', 'nonsense'], { BETROKKEN_DATA_DIR: dataDir }).code).toBe(2);
      // Keys were generated on first start, readable by the owner only.
      for (const f of fs.readdirSync(path.join(dataDir, 'keys'))) {
        expect(fs.statSync(path.join(dataDir, 'keys', f)).mode & 0o777).toBe(0o600);
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).not.toContain('111222333');
    const audit = cli(['audit', 'verify'], { BETROKKEN_DATA_DIR: dataDir });
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^audit chain intact: \d+ records/);
  }, 90_000);

  it('manages agencies from the command line with JWK and PEM keys', () => {
    const dataDir = tmp();
    const env = { BETROKKEN_DATA_DIR: dataDir };
    const ed = generateKeyPairSync('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    fs.writeFileSync(path.join(dataDir, 'gp.jwk'), JSON.stringify(ed.publicKey.export({ format: 'jwk' })));
    fs.writeFileSync(path.join(dataDir, 'school.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(path.join(dataDir, 'private.pem'), ec.privateKey.export({ type: 'pkcs8', format: 'pem' }));

    expect(cli(['migrate'], env).code).toBe(0);
    const gp = cli(['agency', 'add', '--name', 'Huisartsen Vinkhuizen', '--type', 'gp', '--municipality', '0014', '--public-key', path.join(dataDir, 'gp.jwk')], env);
    expect(gp.code).toBe(0);
    const gpId = gp.stdout.trim();
    expect(gpId).toMatch(/^agy_/);
    const wij = cli(['agency', 'add', '--name', 'WIJ Vinkhuizen', '--type', 'wij', '--municipality', '0014', '--district', 'vinkhuizen', '--public-key', path.join(dataDir, 'school.pem'), '--json'], env);
    expect(wij.code).toBe(0);
    expect(JSON.parse(wij.stdout)).toMatchObject({ type: 'wij', districts: ['vinkhuizen'], keys: [{ alg: 'ES256' }] });

    const privateKey = cli(['agency', 'add', '--name', 'X', '--type', 'gp', '--municipality', '0014', '--public-key', path.join(dataDir, 'private.pem')], env);
    expect(privateKey.code).toBe(1);
    expect(privateKey.stderr).toMatch(/private key/);
    const badType = cli(['agency', 'add', '--name', 'X', '--type', 'bakery', '--municipality', '0014', '--public-key', path.join(dataDir, 'gp.jwk')], env);
    expect(badType.code).toBe(1);

    expect(cli(['agency', 'disable', gpId], env).code).toBe(0);
    const list = JSON.parse(cli(['agency', 'list', '--json'], env).stdout) as Array<{ id: string; status: string }>;
    expect(list.map((a) => [a.id, a.status])).toContainEqual([gpId, 'disabled']);
    expect(list).toHaveLength(2);
    expect(cli(['agency', 'enable', gpId], env).code).toBe(0);

    type Listed = { id: string; status: string; webhookUrl: string | null; keys: Array<{ kid: string; revokedAt: string | null }> };
    const gpNow = () => (JSON.parse(cli(['agency', 'list', '--json'], env).stdout) as Listed[]).find((a) => a.id === gpId)!;
    expect(gpNow().status).toBe('active');
    const kid = gpNow().keys[0]!.kid;
    expect(cli(['agency', 'key', 'revoke', gpId, kid], env).code).toBe(0);
    expect(gpNow().keys[0]!.revokedAt).not.toBeNull();
    expect(cli(['agency', 'key', 'revoke', gpId, 'nonsense'], env).code).toBe(1);
    expect(cli(['agency', 'webhook', gpId, 'http://127.0.0.1:9/hook'], env).code).toBe(0);
    expect(cli(['agency', 'webhook', gpId, '--remove'], env).code).toBe(0);
    expect(gpNow().webhookUrl).toBeNull();
    expect(cli(['agency', 'webhook', gpId, 'http://127.0.0.1:9/hook', '--remove'], env).code).toBe(2);
  }, 150_000);

  it('stops before listening on a bad setting, a bad policy or keys that are not the database’s own', () => {
    const dataDir = tmp();
    const badPort = cli(['start'], { BETROKKEN_DATA_DIR: dataDir, PORT: 'eighty' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/PORT/);

    fs.writeFileSync(path.join(dataDir, 'bad.yaml'), 'id: x\nname: y\n');
    const badPolicy = cli(['start'], { BETROKKEN_DATA_DIR: dataDir, BETROKKEN_POLICY: path.join(dataDir, 'bad.yaml') });
    expect(badPolicy.code).toBe(1);
    expect(badPolicy.stderr).toMatch(/policy .* is invalid/);
    expect(cli(['policy', 'check', path.join(dataDir, 'bad.yaml')], {}).code).toBe(1);
    expect(cli(['policy', 'check', path.join(ROOT, 'policies', 'groningen.yaml')], {}).code).toBe(0);

    expect(cli(['migrate'], { BETROKKEN_DATA_DIR: dataDir }).code).toBe(0);
    const otherKeys = cli(['migrate'], { BETROKKEN_DATA_DIR: dataDir, BETROKKEN_KEYS_DIR: path.join(dataDir, 'other-keys') });
    expect(otherKeys.code).toBe(1);
    fs.rmSync(path.join(dataDir, 'keys'), { recursive: true });
    const lost = cli(['migrate'], { BETROKKEN_DATA_DIR: dataDir });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/restore them from backup/);
  }, 60_000);
});

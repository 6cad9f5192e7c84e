import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/process.ts';

/**
 * The command line's `agency webhook` on a data directory: SQLite's alone, since it runs on the
 * directory's SQLite file (the store of the postgres project plays no part) and scans that file for
 * the secret.
 */
describe('agency webhook on the command line', () => {
  it('refuses a bad URL with its code, and shows a --secret once', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-hook-'));
    const env = { BETROKKEN_DATA_DIR: dataDir };
    const keyFile = path.join(dataDir, 'school.pem');
    fs.writeFileSync(keyFile, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    expect(cli(['migrate'], env).code).toBe(0); // a new index is made only by migrate or start
    const add = cli(['agency', 'add', '--name', 'School', '--type', 'school', '--municipality', '0014', '--public-key', keyFile], env);
    expect(add.code).toBe(0);
    const id = add.stdout.trim();

    const privateRange = cli(['agency', 'webhook', id, 'https://192.168.1.20/hook'], env);
    expect(privateRange.code).toBe(1);
    expect(privateRange.stderr).toMatch(/\(webhook_address_refused\)/);
    expect(privateRange.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    const plainHttp = cli(['agency', 'webhook', id, 'http://hooks.school.example/hook'], env);
    expect(plainHttp.code).toBe(1);
    expect(plainHttp.stderr).toMatch(/\(invalid_webhook_url\)/);

    const misplaced = cli(['agency', 'add', '--name', 'X', '--type', 'school', '--municipality', '0014', '--public-key', keyFile, '--webhook', 'https://hooks.school.example/x', '--secret'], env);
    expect(misplaced.code).toBe(2); // not silently ignored
    const withSecret = cli(['agency', 'webhook', id, 'https://hooks.school.example/hook', '--secret'], env);
    expect(withSecret.code).toBe(0);
    const secret = /(whsec_[A-Za-z0-9+/=]+)/.exec(withSecret.stdout)?.[1];
    expect(secret).toBeDefined();
    const list = cli(['agency', 'list', '--json'], env);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id, webhookUrl: 'https://hooks.school.example/hook', webhookSigning: 'v1+v1a' }]);
    expect(list.stdout).not.toContain(secret!);
    for (const file of fs.readdirSync(dataDir).filter((f) => f.startsWith('betrokken.db'))) {
      const bytes = fs.readFileSync(path.join(dataDir, file));
      expect(bytes.includes(Buffer.from(secret!)), file).toBe(false);
      expect(bytes.includes(Buffer.from(secret!.slice('whsec_'.length), 'base64')), file).toBe(false);
    }
  }, 180_000); // seven CLI processes, which took 51-63 s on a loaded machine
});

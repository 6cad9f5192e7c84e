import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BackupError, backupDatabase, restoreDatabase } from '../../src/app/backup.ts';
import { loadConfig } from '../../src/config.ts';
import { openRuntime } from '../../src/runtime.ts';
import { findOrCreateSubject } from '../../src/store/subjects.ts';
import { ROOT, signalBody, validBsn } from '../support/harness.ts';
import { addAgenciesByCli, BIN, cli, serviceToken, startServer } from '../support/process.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-backup-'));
  dirs.push(dir);
  return dir;
}

/** The command line in a child process, without blocking this one (the load keeps running). */
function cliAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('backup and restore', { timeout: 120_000 }, () => {
  it('a backup taken during load, restored on a fresh directory, holds every signal acknowledged before it began', async () => {
    const root = tempDir();
    const dataDir = path.join(root, 'live');
    const env = { BETROKKEN_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    fs.mkdirSync(dataDir);
    const agencies = addAgenciesByCli(dataDir, env, [['school', 'school', []], ['gp', 'gp', []], ['wij', 'wij', ['--district', 'selwerd']]]);
    const server = await startServer(env);
    const tokens = { school: await serviceToken(server, agencies.school!), gp: await serviceToken(server, agencies.gp!) };
    const acknowledged: Array<{ agency: 'school' | 'gp'; id: string }> = [];
    let stop = false;
    let next = 0;
    const worker = async () => {
      while (!stop) {
        const n = next++;
        const agency = n % 2 === 0 ? 'school' : 'gp';
        const res = await fetch(`${server.url}/v1/signals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens[agency]}`, 'content-type': 'application/json' },
          body: JSON.stringify(signalBody(validBsn(20_000 + Math.floor(n / 2)))),
        });
        expect(res.status).toBe(201);
        acknowledged.push({ agency, id: ((await res.json()) as { id: string }).id });
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    try {
      while (acknowledged.length < 60) await new Promise((r) => setTimeout(r, 20));
      const before = [...acknowledged];
      const backupDir = path.join(root, 'backup-1');
      const backup = await cliAsync(['backup', backupDir], env);
      const during = acknowledged.length - before.length;
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      expect(backup.stdout).toMatch(/verified: integrity ok, audit chain intact \(\d+ records\), keys present for key-encryption key version 1/);
      expect(backup.stdout).toContain(`belongs with the keys directory ${path.join(dataDir, 'keys')}`);
      expect(during, 'registrations went on while the backup ran').toBeGreaterThan(0);
      stop = true;
      await Promise.all(workers);
      await server.stop();

      // Restore on a fresh machine: the keys backup first, then the database backup.
      const fresh = path.join(root, 'restored');
      fs.mkdirSync(fresh);
      fs.cpSync(path.join(dataDir, 'keys'), path.join(fresh, 'keys'), { recursive: true });
      const freshEnv = { BETROKKEN_DATA_DIR: fresh, LOG_LEVEL: 'warn' };
      const restored = cli(['restore', backupDir], freshEnv);
      expect(restored.stderr).toBe('');
      expect(restored.code).toBe(0);
      expect(cli(['restore', backupDir], freshEnv)).toMatchObject({ code: 1, stderr: expect.stringMatching(/exists: stop the service and move the current database aside/) });
      expect(cli(['audit', 'verify'], freshEnv)).toMatchObject({ code: 0 });

      const again = await startServer(freshEnv);
      try {
        const freshTokens = { school: await serviceToken(again, agencies.school!), gp: await serviceToken(again, agencies.gp!) };
        for (const a of before) {
          const res = await fetch(`${again.url}/v1/signals/${a.id}`, { headers: { authorization: `Bearer ${freshTokens[a.agency]}` } });
          expect(res.status, `acknowledged signal ${a.id} is in the restored index`).toBe(200);
        }
      } finally {
        await again.stop();
      }
    } finally {
      stop = true;
      await Promise.all(workers).catch(() => undefined);
      await server.stop();
    }
  });

  it('refuses a backup whose keys are not at hand, and an existing backup directory', async () => {
    const root = tempDir();
    const config = loadConfig({ BETROKKEN_DATA_DIR: path.join(root, 'data') });
    const deps = await openRuntime(config, pino({ level: 'silent' }));
    await deps.store.transaction(async (tx) => findOrCreateSubject(tx, deps.keys, 'd'.repeat(64), new Date()));
    await deps.store.close();
    await backupDatabase(config, path.join(root, 'b1'), new Date());
    await expect(backupDatabase(config, path.join(root, 'b1'), new Date())).rejects.toThrow(/is not empty/);
    // Restoring onto a machine whose keys directory lacks the KEK the backup was sealed under.
    const other = loadConfig({ BETROKKEN_DATA_DIR: path.join(root, 'other') });
    fs.mkdirSync(other.keysDir, { recursive: true });
    for (const f of ['pseudonym.key', 'signing-0001.jwk']) fs.copyFileSync(path.join(config.keysDir, f), path.join(other.keysDir, f));
    fs.writeFileSync(path.join(other.keysDir, 'kek-0002.key'), fs.readFileSync(path.join(config.keysDir, 'kek-0001.key')));
    await expect(restoreDatabase(other, path.join(root, 'b1'))).rejects.toThrow(/kek-0001\.key missing from/);
    expect(fs.existsSync(other.dbFile)).toBe(false);
    await expect(restoreDatabase(other, path.join(root, 'nothing'))).rejects.toThrow(BackupError);
  });

  it('with BETROKKEN_DB_ENCRYPTION=on the copy is encrypted under the same database key and restores', async () => {
    const root = tempDir();
    const env = { BETROKKEN_DATA_DIR: path.join(root, 'data'), BETROKKEN_DB_ENCRYPTION: 'on' };
    const config = loadConfig(env);
    const deps = await openRuntime(config, pino({ level: 'silent' }));
    await deps.store.close();
    const report = await backupDatabase(config, path.join(root, 'b'), new Date());
    expect(report.encrypted).toBe(true);
    expect(report.keyFiles).toContain('database.key');
    const bytes = fs.readFileSync(path.join(root, 'b', 'betrokken.db'));
    expect(bytes.subarray(0, 16).toString('latin1')).not.toContain('SQLite format 3');
    fs.renameSync(config.dbFile, path.join(root, 'moved-aside.db'));
    for (const f of [`${config.dbFile}-wal`, `${config.dbFile}-shm`]) fs.rmSync(f, { force: true });
    await restoreDatabase(config, path.join(root, 'b'));
    const reopened = await openRuntime(config, pino({ level: 'silent' }));
    await reopened.store.close();
  });
});

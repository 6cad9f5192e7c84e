import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, startServer } from '../support/process.ts';
import { snapshotDir } from '../support/snapshot.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-datadir-'));
  dirs.push(dir);
  return dir;
}

function expectOneLine(res: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(res.code).toBe(1);
  expect(res.stderr.trim().split('\n'), res.stderr).toHaveLength(1);
  expect(res.stderr).toMatch(pattern);
}

describe('a new, empty index is made only on purpose', { timeout: 60_000 }, () => {
  it('commands other than migrate and start refuse where there is no index, and make nothing', () => {
    const root = tempDir();
    const typo = path.join(root, 'dataa');
    for (const args of [['agency', 'list'], ['demo'], ['keys', 'rotate'], ['jobs', 'run']]) {
      const res = cli(args, { BETROKKEN_DATA_DIR: typo, LOG_LEVEL: 'silent' });
      expectOneLine(res, new RegExp(`there is no index at ${typo}/betrokken\\.db: check BETROKKEN_DATA_DIR`));
      expect(fs.existsSync(typo), args.join(' ')).toBe(false);
    }
  });

  it('migrate on an empty directory says it made a new, empty index; start logs it', async () => {
    const root = tempDir();
    const res = cli(['migrate'], { BETROKKEN_DATA_DIR: path.join(root, 'a'), LOG_LEVEL: 'silent' });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^created a new, empty index at .*betrokken\.db with new keys in /);
    expect(cli(['migrate'], { BETROKKEN_DATA_DIR: path.join(root, 'a'), LOG_LEVEL: 'silent' }).stdout).toMatch(/is up to date/);

    const server = await startServer({ BETROKKEN_DATA_DIR: path.join(root, 'b') });
    await server.stop();
    expect(server.output()).toMatch(/"level":"warn".*creating a new, empty index with new keys/);
  });

  it('keys without a database refuse with one line, and change nothing', () => {
    const root = tempDir();
    const env = { BETROKKEN_DATA_DIR: root, LOG_LEVEL: 'silent' };
    expect(cli(['migrate'], env).code).toBe(0);
    fs.renameSync(path.join(root, 'betrokken.db'), path.join(root, 'elsewhere.db'));
    const before = snapshotDir(root);
    for (const args of [['start'], ['migrate'], ['agency', 'list']]) {
      expectOneLine(cli(args, env), /keys but there is no database at .*betrokken\.db: restore the database that belongs with them/);
    }
    expect(snapshotDir(root)).toEqual(before);
  });

  it('a database without its keys refuses with one line', () => {
    const root = tempDir();
    const env = { BETROKKEN_DATA_DIR: root, LOG_LEVEL: 'silent' };
    expect(cli(['migrate'], env).code).toBe(0);
    fs.renameSync(path.join(root, 'keys'), path.join(root, 'keys-elsewhere'));
    expectOneLine(cli(['start'], env), /the keys for this database are missing from .*keys; restore them from backup/);
    expect(fs.existsSync(path.join(root, 'keys'))).toBe(false);
  });
});

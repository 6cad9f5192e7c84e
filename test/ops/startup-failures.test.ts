import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';
import { BIN, cli, freePort } from '../support/process.ts';
import { ROOT } from '../support/harness.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) {
    fs.chmodSync(d, 0o700);
    fs.rmSync(d, { recursive: true, force: true });
  }
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-startup-'));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

// Permissions do not bind root: as root the service is run as an unprivileged user that owns the
// data directory, so that a read-only directory is read-only for it.
const NOBODY = 65534;
const asServiceUser = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
function chownTree(dir: string): void {
  if (!('uid' in asServiceUser)) return;
  for (const entry of fs.readdirSync(dir, { recursive: true }) as string[]) fs.chownSync(path.join(dir, entry), NOBODY, NOBODY);
  fs.chownSync(dir, NOBODY, NOBODY);
}

/** `betrokken start` to its end (it must end: each case is a failure before or at listening). */
function start(env: Record<string, string>, opts: { shell?: string } = {}) {
  const args = opts.shell ? ['-c', `${opts.shell}; exec "$0" "$@"`, process.execPath, BIN, 'start'] : [BIN, 'start'];
  const res = spawnSync(opts.shell ? 'bash' : process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', HOST: '127.0.0.1', ...env },
    encoding: 'utf8',
    timeout: 30_000,
    ...asServiceUser,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

async function ports() {
  const port = await freePort();
  let metrics = await freePort();
  while (metrics === port) metrics = await freePort();
  return { PORT: String(port), METRICS_PORT: String(metrics) };
}

function migrated(): { dir: string; data: string } {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  expect(cli(['migrate'], { BETROKKEN_DATA_DIR: data, LOG_LEVEL: 'silent' }).code).toBe(0);
  chownTree(data);
  return { dir, data };
}

function expectOneLine(res: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(res.code).toBe(1);
  const lines = res.stderr.trim().split('\n');
  expect(lines, res.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^betrokken: /);
  expect(lines[0]).toMatch(pattern);
}

describe('startup failures are one line naming the path or port, and a non-zero exit', { timeout: 60_000 }, () => {
  it('port in use', async () => {
    const { data } = migrated();
    const p = await ports();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(Number(p.PORT), '127.0.0.1', r));
    try {
      const res = start({ BETROKKEN_DATA_DIR: data, ...p });
      expectOneLine(res, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${p.PORT} \\(PORT\\): the port is in use`));
    } finally {
      blocker.close();
    }
  });

  it('metrics port in use', async () => {
    const { data } = migrated();
    const p = await ports();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(Number(p.METRICS_PORT), '127.0.0.1', r));
    try {
      const res = start({ BETROKKEN_DATA_DIR: data, ...p, METRICS_HOST: '127.0.0.1' });
      expectOneLine(res, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${p.METRICS_PORT} \\(METRICS_PORT\\)`));
    } finally {
      blocker.close();
    }
  });

  it('read-only data directory', async () => {
    const { data } = migrated();
    fs.chmodSync(data, 0o500);
    expectOneLine(start({ BETROKKEN_DATA_DIR: data, ...(await ports()) }), new RegExp(`${data} is not readable and writable by this user \\(EACCES\\)`));
  });

  it('unreadable data directory', async () => {
    const { data } = migrated();
    fs.chmodSync(data, 0o000);
    expectOneLine(start({ BETROKKEN_DATA_DIR: data, ...(await ports()) }), new RegExp(`${data} is not readable and writable by this user`));
  });

  it('read-only database file', async () => {
    const { data } = migrated();
    fs.chmodSync(path.join(data, 'betrokken.db'), 0o400);
    expectOneLine(start({ BETROKKEN_DATA_DIR: data, ...(await ports()) }), /betrokken\.db is not readable and writable by this user/);
  });

  it('disk full (a file size limit: the kernel refuses to grow the files, as on a full disk)', async () => {
    const { data } = migrated();
    // SIGXFSZ ignored, so that a write past the limit fails with EFBIG as ENOSPC would, instead of killing the process.
    const res = start({ BETROKKEN_DATA_DIR: data, ...(await ports()) }, { shell: "trap '' XFSZ; ulimit -f 1" });
    expectOneLine(res, /betrokken\.db: no room to write \(SQLITE_[A-Z_]+\): the disk is full/);
  });
});

describe('a database that cannot take a write is not ready', () => {
  it('writes failing with SQLITE_FULL (max_page_count) answer 500 with a request id only, and /readyz 503 until a write succeeds', async () => {
    const h = await createHarness();
    const school = await h.agency('school');
    await h.agency('wij', { districts: ['selwerd'] });
    const token = await h.token(school);
    expect((await h.call('POST', '/v1/signals', { token, body: signalBody(validBsn(1)) })).status).toBe(201);
    expect((await h.call('GET', '/readyz')).status).toBe(200);

    const pages = (h.db.$client.pragma('page_count', { simple: true }) as number);
    h.db.$client.pragma(`max_page_count = ${pages}`);
    let failed: Response | undefined;
    for (let n = 2; n < 200 && !failed; n++) {
      const res = await h.call('POST', '/v1/signals', { token, body: signalBody(validBsn(n)) });
      if (res.status !== 201) failed = res;
    }
    expect(failed?.status).toBe(500);
    const problem = (await failed!.json()) as { code: string; detail: string };
    expect(problem.code).toBe('internal_error');
    expect(problem.detail).not.toMatch(/SQLITE|full/i);
    const ready = await h.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('not_ready');

    h.db.$client.pragma(`max_page_count = ${pages * 100}`);
    expect((await h.call('POST', '/v1/signals', { token, body: signalBody(validBsn(500)) })).status).toBe(201);
    expect((await h.call('GET', '/readyz')).status).toBe(200);
  });
});

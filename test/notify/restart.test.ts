import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { signalBody, validBsn } from '../support/harness.ts';
import { addAgenciesByCli, serviceToken, startServer } from '../support/process.ts';
import { Receiver } from '../support/receiver.ts';

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('delivery across a crash', () => {
  it('the service killed mid-backlog delivers every notice after a restart; repeats only as the same webhook-id', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-restart-'));
    const receiver = await new Receiver().start();
    receiver.respond = () => ({ status: 200, delayMs: 150 });
    const env = { BETROKKEN_DATA_DIR: dataDir, BETROKKEN_WEBHOOK_BACKOFF_MS: '50', BETROKKEN_WEBHOOK_TIMEOUT_MS: '3000', LOG_LEVEL: 'warn' };

    const agencies = addAgenciesByCli(dataDir, env, [['school', 'school', ['--webhook', receiver.url]], ['gp', 'gp', ['--webhook', receiver.url]], ['wij', 'wij', ['--district', 'selwerd']]]);

    let server = await startServer(env);
    const [schoolToken, gpToken] = [await serviceToken(server, agencies.school!), await serviceToken(server, agencies.gp!)];
    const subjects = 30;
    for (let i = 0; i < subjects; i++) {
      for (const t of [schoolToken, gpToken]) {
        const res = await fetch(`${server.url}/v1/signals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
          body: JSON.stringify(signalBody(validBsn(900 + i))),
        });
        expect(res.status).toBe(201);
      }
    }
    await until('the first deliveries', () => receiver.received.length >= 8);
    server.child.kill('SIGKILL');
    await server.stop();
    const beforeRestart = receiver.received.length;
    expect(beforeRestart).toBeLessThan(2 * subjects); // killed mid-backlog

    server = await startServer(env);
    const db = new Database(path.join(dataDir, 'betrokken.db'), { readonly: true });
    const pending = () => (db.prepare("select count(*) n from notices where delivery = 'pending'").get() as { n: number }).n;
    try {
      await until('every delivery', () => pending() === 0);
      const queued = db.prepare("select id, delivery from notices where delivery != 'none'").all() as Array<{ id: string; delivery: string }>;
      expect(queued).toHaveLength(2 * subjects);
      expect(queued.every((n) => n.delivery === 'delivered')).toBe(true);
      const receivedIds = new Set(receiver.received.map((r) => r.id));
      expect([...receivedIds].sort()).toEqual(queued.map((n) => n.id).sort());
      // Repeats are possible for a request in flight at the crash, and only as the same webhook-id.
      expect(receiver.received.length - receivedIds.size).toBeLessThanOrEqual(8);
    } finally {
      db.close();
      await server.stop();
      await receiver.stop();
    }
  }, 90_000);
});

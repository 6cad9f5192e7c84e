import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { verifyAuditChain } from '../../src/store/audit.ts';
import { signalBody, validBsn } from '../support/harness.ts';
import { addAgenciesByCli, type Server, serviceToken, startServer } from '../support/process.ts';

/**
 * Crash test: registrations in flight, the service killed with SIGKILL at a random moment,
 * restarted; every signal that got a 2xx exists, and so does every notice it caused.
 * `npm run test:faults` runs more rounds (FAULT_ROUNDS); CI runs a few.
 */
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 3);
const CONCURRENCY = 8;
const MIN_PER_ROUND = 10;

describe('kill -9 during registrations', () => {
  it(`loses nothing that was acknowledged (${ROUNDS} rounds)`, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-faults-'));
    const env = { BETROKKEN_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    const agencies = addAgenciesByCli(dataDir, env, [['school', 'school', []], ['gp', 'gp', []], ['wij', 'wij', ['--district', 'selwerd']]]);
    const acknowledged: Array<{ agency: string; signalId: string; subject: number }> = [];
    let next = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const server: Server = await startServer(env);
      const tokens = { school: await serviceToken(server, agencies.school!), gp: await serviceToken(server, agencies.gp!) };
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const n = next++;
          const subject = Math.floor(n / 2);
          const agency = n % 2 === 0 ? 'school' : 'gp';
          try {
            const res = await fetch(`${server.url}/v1/signals`, {
              method: 'POST',
              headers: { authorization: `Bearer ${tokens[agency]}`, 'content-type': 'application/json' },
              body: JSON.stringify(signalBody(validBsn(10_000 + subject))),
            });
            if (res.status === 201 || res.status === 200) acknowledged.push({ agency, signalId: ((await res.json()) as { id: string }).id, subject });
            else expect(res.status).toBeLessThan(500);
          } catch {
            return; // the server is gone: the outcome of this request is unknown, and that is allowed
          }
        }
      };
      const workers = Array.from({ length: CONCURRENCY }, worker);
      // Killed at a random moment once the round has had some acknowledgements (a fixed delay
      // killed a slow start on a loaded machine before anything was acknowledged).
      const before = acknowledged.length;
      for (const until = Date.now() + 60_000; acknowledged.length < before + MIN_PER_ROUND && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, Math.random() * 500));
      server.child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await server.stop();
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(ROUNDS * MIN_PER_ROUND);

    // A restart recovers the database (WAL); then check what was acknowledged.
    const server = await startServer(env);
    await server.stop();
    const db = new Database(path.join(dataDir, 'betrokken.db'), { readonly: true });
    try {
      const signal = db.prepare('select subject_id, agency_id, status from signals where id = ?');
      const notices = db.prepare('select count(*) n from notices where agency_id = ? and subject_id = ?');
      const bySubject = new Map<number, Set<string>>();
      for (const a of acknowledged) {
        const row = signal.get(a.signalId) as { subject_id: string; agency_id: string; status: string } | undefined;
        expect(row, `acknowledged signal ${a.signalId} exists`).toBeDefined();
        expect(row!.agency_id).toBe(agencies[a.agency]!.id);
        bySubject.set(a.subject, (bySubject.get(a.subject) ?? new Set()).add(a.signalId));
      }
      let matched = 0;
      for (const ids of bySubject.values()) {
        if (ids.size < 2) continue;
        matched++;
        const subjectId = (signal.get([...ids][0]) as { subject_id: string }).subject_id;
        for (const label of ['school', 'gp', 'wij']) {
          expect((notices.get(agencies[label]!.id, subjectId) as { n: number }).n, `${label} was told of the match`).toBeGreaterThanOrEqual(1);
        }
      }
      expect(matched).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    const check = openStore(path.join(dataDir, 'betrokken.db'));
    expect((await verifyAuditChain(check.reader)).ok).toBe(true);
    await check.close();
  }, 120_000);
});

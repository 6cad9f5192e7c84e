import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalBody, validBsn } from '../support/harness.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres.ts';
import { addAgenciesByCli, cli, type Server, serviceToken, startServer } from '../support/process.ts';
import { Receiver } from '../support/receiver.ts';

/**
 * Three instances of the service (`betrokken start`, three processes) on one PostgreSQL
 * database, sharing one keys directory, with registrations sent round-robin across them by
 * concurrent clients. One instance is killed with SIGKILL mid-load and started again. Then every
 * acknowledged signal and every notice it caused exists exactly once, no match is duplicated,
 * every webhook delivery arrived (at least once, repeats only under the same webhook-id), and
 * `audit verify` passes on the one chain all three appended to.
 */

const INSTANCES = 3;
const CONCURRENCY = 12;
/**
 * Load before the kill, and after the restart: at least this long, and until this many more
 * registrations were acknowledged (a loaded machine warms three fresh processes up slowly).
 */
const LOAD_MS = 1500;
const LOAD_REGISTRATIONS = 30;
const ISSUER = 'http://betrokken.test';

let cluster: TestPostgres;
let receiver: Receiver;
let dataDir: string;

beforeAll(async () => {
  cluster = await startTestPostgres();
  receiver = await new Receiver().start();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-multi-'));
}, 60_000);

afterAll(async () => {
  await receiver?.stop();
  await cluster?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('three instances on one PostgreSQL database', () => {
  it('lose nothing and duplicate nothing when one is killed mid-load and restarted', async () => {
    const url = await cluster.createDatabase({ empty: true });
    const env = {
      BETROKKEN_DATABASE_URL: url,
      BETROKKEN_DATA_DIR: dataDir,
      BETROKKEN_KEYS_DIR: path.join(dataDir, 'keys'),
      BETROKKEN_ISSUER: ISSUER,
      BETROKKEN_WEBHOOK_BACKOFF_MS: '50',
      BETROKKEN_WEBHOOK_TIMEOUT_MS: '2000',
      BETROKKEN_JOB_INTERVAL_S: '1',
      LOG_LEVEL: 'warn',
    };
    // `migrate` once (it makes the keys and the schema), then the agencies, as an operator would.
    const agencies = addAgenciesByCli(dataDir, env, [
      ['school', 'school', ['--webhook', receiver.url]],
      ['gp', 'gp', ['--webhook', receiver.url]],
      ['wij', 'wij', ['--district', 'selwerd', '--webhook', receiver.url]],
    ]);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const count = async (query: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(query, params)).rows[0]!.n);
    const servers: Array<Server | null> = [];
    try {
      expect(await count("select count(*) n from pg_tables where schemaname = 'public' and tablename = 'agencies'"), '`migrate` made the schema in PostgreSQL (BETROKKEN_DATABASE_URL)').toBe(1);
      expect(await count('select count(*) n from agencies'), '`agency add` wrote to PostgreSQL').toBe(3);
      expect(fs.existsSync(path.join(dataDir, 'betrokken.db')), 'no SQLite file beside PostgreSQL').toBe(false);

      for (let i = 0; i < INSTANCES; i++) servers.push(await startServer(env));
      // A token from one instance serves at every other: one issuer, one set of signing keys.
      const tokens = { school: await serviceToken(servers[0]!, agencies.school!, ISSUER), gp: await serviceToken(servers[1]!, agencies.gp!, ISSUER) };

      const acknowledged: Array<{ agency: 'school' | 'gp'; signalId: string; subject: number }> = [];
      let unknown = 0;
      let next = 0;
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const n = next++;
          const server = servers[n % INSTANCES];
          const subject = Math.floor(n / 2);
          const agency = n % 2 === 0 ? 'school' : 'gp';
          if (!server) {
            unknown++; // that instance is down: the load balancer would have sent it elsewhere
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          try {
            const res = await fetch(`${server.url}/v1/signals`, {
              method: 'POST',
              headers: { authorization: `Bearer ${tokens[agency]}`, 'content-type': 'application/json' },
              body: JSON.stringify(signalBody(validBsn(50_000 + subject))),
            });
            if (res.status === 201 || res.status === 200) acknowledged.push({ agency, signalId: ((await res.json()) as { id: string }).id, subject });
            else expect(res.status, await res.text()).toBeLessThan(500);
          } catch {
            unknown++; // the instance died under the request: its outcome is unknown, which is allowed
          }
        }
      };
      const workers = Array.from({ length: CONCURRENCY }, worker);
      const load = async () => {
        const from = acknowledged.length;
        await new Promise((r) => setTimeout(r, LOAD_MS));
        await until(`${LOAD_REGISTRATIONS} registrations`, async () => acknowledged.length - from >= LOAD_REGISTRATIONS, 30_000);
      };
      await load();
      const victim = servers[1]!;
      servers[1] = null;
      victim.child.kill('SIGKILL');
      await victim.stop();
      const killedAt = acknowledged.length;
      servers[1] = await startServer(env);
      await load();
      stop = true;
      await Promise.all(workers);
      expect(killedAt, 'registrations acknowledged before the kill').toBeGreaterThan(20);
      expect(acknowledged.length - killedAt, 'registrations acknowledged after the restart').toBeGreaterThan(20);

      // Every acknowledged signal exists, for the agency and young person it was registered for.
      const ids = acknowledged.map((a) => a.signalId);
      const rows = (await db.query<{ id: string; agency_id: string; subject_id: string }>('select id, agency_id, subject_id from signals where id = any($1)', [ids])).rows;
      const byId = new Map(rows.map((r) => [r.id, r]));
      const subjectOf = new Map<number, string>();
      for (const a of acknowledged) {
        const row = byId.get(a.signalId);
        expect(row, `acknowledged signal ${a.signalId} exists`).toBeDefined();
        expect(row!.agency_id).toBe(agencies[a.agency]!.id);
        if (subjectOf.has(a.subject)) expect(row!.subject_id, 'one young person, one subject').toBe(subjectOf.get(a.subject));
        subjectOf.set(a.subject, row!.subject_id);
      }
      // Exactly once: one active signal per agency and young person, one subject per pseudonym.
      const duplicateSignals = await count("select count(*) n from (select 1 from signals where status = 'active' group by agency_id, subject_id having count(*) > 1) d");
      const duplicateSubjects = await count('select count(*) n from (select 1 from subjects group by kind, pseudonym having count(*) > 1) d');
      // No match twice: one live match per young person and line of matches.
      const duplicateMatches = await count(
        "select count(*) n from (select 1 from matches where status in ('open', 'claimed', 'escalated') group by subject_id, lens having count(*) > 1) d",
      );
      // Every notice once: no recipient told the same thing about the same match twice.
      const duplicateNotices = await count('select count(*) n from (select 1 from notices where match_id is not null group by agency_id, match_id, type having count(*) > 1) d');

      // Every young person both agencies registered is matched, and all three agencies were told.
      const matchedSubjects = [...new Set(acknowledged.map((a) => a.subject))].filter(
        (s) => acknowledged.some((a) => a.subject === s && a.agency === 'school') && acknowledged.some((a) => a.subject === s && a.agency === 'gp'),
      );
      expect(matchedSubjects.length).toBeGreaterThan(10);
      for (const s of matchedSubjects) {
        const subjectId = subjectOf.get(s)!;
        // One live match per lens: the full one, and one per lens the policy gives some types.
        expect(await count("select count(*) n from matches where subject_id = $1 and lens = '' and status in ('open', 'claimed', 'escalated')", [subjectId]), `match of young person ${s}`).toBe(1);
        for (const label of ['school', 'gp', 'wij']) {
          expect(await count('select count(*) n from notices where agency_id = $1 and subject_id = $2 and match_id is not null', [agencies[label]!.id, subjectId]), `${label} told of match ${s}`).toBeGreaterThanOrEqual(1);
        }
      }

      // Every webhook delivery arrives, whichever instance claimed it, the killed one's included.
      await until('every webhook delivery', async () => (await count("select count(*) n from notices where delivery = 'pending'")) === 0);
      const queued = (await db.query<{ id: string; delivery: string }>("select id, delivery from notices where delivery <> 'none'")).rows;
      expect(queued.filter((n) => n.delivery !== 'delivered'), 'every queued notice delivered').toEqual([]);
      const receivedIds = new Set(receiver.received.map((r) => r.id));
      expect(queued.filter((n) => !receivedIds.has(n.id)), 'every delivered notice received').toEqual([]);
      const queuedIds = new Set(queued.map((n) => n.id));
      expect([...receivedIds].filter((id) => !queuedIds.has(id)), 'nothing received that is not a notice').toEqual([]);
      const repeatedDeliveries = receiver.received.length - receivedIds.size;

      for (const [i, s] of servers.entries()) {
        servers[i] = null;
        await s?.stop();
      }
      const verify = cli(['audit', 'verify'], env);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/audit chain intact/);

      const duplicates = duplicateSignals + duplicateSubjects + duplicateMatches + duplicateNotices;
      console.log(
        `multi-instance: ${INSTANCES} instances, acknowledged ${acknowledged.length} (${killedAt} before the kill), outcome unknown ${unknown}, killed 1, restarted 1, ` +
          `matched ${matchedSubjects.length}, notices ${queued.length} delivered (${repeatedDeliveries} repeated under the same webhook-id), duplicates: ${duplicates}`,
      );
      expect({ duplicateSignals, duplicateSubjects, duplicateMatches, duplicateNotices }).toEqual({ duplicateSignals: 0, duplicateSubjects: 0, duplicateMatches: 0, duplicateNotices: 0 });
    } finally {
      for (const s of servers) await s?.stop('SIGKILL');
      await db.end();
    }
  }, 180_000);
});

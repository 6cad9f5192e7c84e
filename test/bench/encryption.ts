/**
 * What page-level encryption of the SQLite file costs: registrations per second through the use
 * case (signal, match, notices, audit; no HTTP), on a file database without and with
 * BETROKKEN_DB_ENCRYPTION's cipher, interleaved in one run. `npm run bench:encryption [-- N]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { agencyActor, type Ctx } from '../../src/app/context.ts';
import { registerSignal } from '../../src/app/register-signal.ts';
import type { AgencyType } from '../../src/policy/types.ts';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';

const N = Number(process.argv[2] ?? 4000);
const ROUNDS = 3;

async function registrationsPerSecond(key: Uint8Array | undefined): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-bench-enc-'));
  try {
    const h = await createHarness({ dbFile: path.join(dir, 'bench.db'), ...(key ? { dbKey: key } : {}) });
    await h.agency('wij', { districts: ['selwerd'] });
    const ctxs: Ctx[] = await Promise.all(
      (['school', 'gp'] as AgencyType[]).map(async (type) => {
        const a = await h.agency(type);
        return { deps: h.deps, actor: agencyActor({ agencyId: a.id, agencyType: type, scopes: new Set(['signals:write']), professional: null }), requestId: null };
      }),
    );
    // Each young person is registered by a school and then a GP: every second registration makes a match.
    const register = async (i: number) =>
      await registerSignal({ ctx: ctxs[i % 2]!, input: { kind: 'involvement', ...signalBody(validBsn(i >> 1)) } as never });
    for (let i = 0; i < 200; i++) await register(N + i); // warm-up, other young people
    const start = performance.now();
    for (let i = 0; i < N; i++) await register(i);
    const seconds = (performance.now() - start) / 1000;
    await h.store.close();
    return N / seconds;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const key = new Uint8Array(randomBytes(32));
const plain: number[] = [];
const encrypted: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  plain.push(await registrationsPerSecond(undefined));
  encrypted.push(await registrationsPerSecond(key));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const p = median(plain);
const e = median(encrypted);
const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(`${N} registrations per run, ${ROUNDS} runs each, median (runs):`);
console.log(`  plain SQLite file        ${p.toFixed(0).padStart(6)} registrations/s  (${runs(plain)})`);
console.log(`  encrypted (ChaCha20)     ${e.toFixed(0).padStart(6)} registrations/s  (${runs(encrypted)}): ${((1 - e / p) * 100).toFixed(1)} % slower`);

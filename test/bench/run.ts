import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { signClientAssertion } from '../../src/crypto/tokens.ts';
import { runRetention } from '../../src/jobs/retention.ts';
import { openRuntime } from '../../src/runtime.ts';
import { ROOT, signalBody, validBsn } from '../support/harness.ts';
import { BIN, freePort, serviceToken } from '../support/process.ts';
import { startTestPostgres } from '../support/postgres.ts';
import { copyDatabase, copySqliteToPostgres, countRows } from './postgres.ts';
import { type Progress, seed, type SeededAgency } from './seed.ts';

/**
 * npm run bench [-- --small] [-- --postgres [--instances N]]: seeds a database, starts the
 * service and a bare Hono endpoint, loads both from a second process, and prints figures measured
 * in this one run. With --postgres the same seed is copied into PostgreSQL (a throwaway cluster,
 * or BETROKKEN_TEST_DATABASE_URL's) and the same loads run against 1 and N instances (default 3)
 * of the service on it, spread round-robin, printed beside SQLite's.
 */
const { values } = parseArgs({
  options: {
    small: { type: 'boolean' },
    subjects: { type: 'string' },
    signals: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    'sweep-signals': { type: 'string' },
    profile: { type: 'boolean' },
    postgres: { type: 'boolean' },
    instances: { type: 'string' },
  },
});
const small = values.small ?? false;
const SUBJECTS = Number(values.subjects ?? (small ? 20_000 : 2_000_000));
const SIGNALS = Number(values.signals ?? (small ? 50_000 : 5_000_000));
const SWEEP = Number(values['sweep-signals'] ?? (small ? 10_000 : 1_000_000));
const DURATION = Number(values.duration ?? (small ? 5 : 15));
const CONNECTIONS = Number(values.connections ?? 50);
const POSTGRES = values.postgres ?? false;
const INSTANCES = Number(values.instances ?? 3);
if (!Number.isInteger(INSTANCES) || INSTANCES < 1) throw new Error('--instances must be a whole number of at least 1');
/** Every PostgreSQL instance must be one issuer to the agencies (a token from one serves at all). */
const PG_ISSUER = 'http://betrokken.bench';
const PROFILE_DIR = values.profile ? path.join(ROOT, 'bench', 'results', 'profiles') : undefined;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-bench-'));

const bar: Progress = (phase, done, total) => {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r${phase.padEnd(12)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
};
const log = (s: string) => process.stderr.write(`${s}\n`);

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${url} exited`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not start`);
}

interface Service {
  url: string;
  issuer: string;
  child: ChildProcess;
}

/**
 * Starts `betrokken start` on `dataDir` (with `env` on top). `waitForJobs`: until its first round
 * of periodic jobs is done, so that the loads measure the service without them; of several
 * instances on PostgreSQL only one runs a round, so only the first waits.
 */
async function startService(dataDir: string, env: Record<string, string> = {}, waitForJobs = true): Promise<Service> {
  const port = await freePort();
  const metricsPort = await freePort();
  // --profile: the service writes a V8 CPU profile (open it in Chrome DevTools) when it stops.
  const profile = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];
  const child = spawn(process.execPath, [...profile, BIN, 'start'], {
    cwd: ROOT,
    env: { ...process.env, BETROKKEN_DATA_DIR: dataDir, PORT: String(port), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn', BETROKKEN_JOB_INTERVAL_S: '86400', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, child);
  // The server runs its periodic jobs a second after it starts; the loads measure it after that.
  for (let i = 0; waitForJobs && i < 1200 && !(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).includes('betrokken_job_items_total{job="reminders"}'); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, issuer: env.BETROKKEN_ISSUER ?? `http://localhost:${port}`, child };
}

/** Stops the service and waits for it to exit (so a --profile is written before the next phase). */
async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024);
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
}

function load(plan: Record<string, unknown>): LoadResult {
  const file = path.join(work, `plan-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify({ connections: CONNECTIONS, duration: DURATION, ...plan }));
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/bench/load.ts'), file], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult;
}

async function tokensFor(service: { url: string; issuer: string }, agencies: SeededAgency[]): Promise<string[]> {
  const registrants = agencies.filter((x) => x.type !== 'wij');
  return Promise.all(registrants.map((a) => tokenFor(service, a)));
}

function tokenFor(service: { url: string; issuer: string }, agency: SeededAgency): Promise<string> {
  return serviceToken(service, { id: agency.id, key: agency.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, service.issuer);
}

/** Form bodies for the token load: each assertion is good for one token (replays are refused), so the load has a fixed amount. */
async function assertionBodies(issuer: string, agencies: SeededAgency[]): Promise<string[]> {
  const assertions: string[] = [];
  const pems = agencies.map((a) => a.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const assertionCount = small ? 5_000 : 20_000;
  while (assertions.length < assertionCount) {
    const chunk = await Promise.all(
      Array.from({ length: 500 }, (_, j) => {
        const k = 1 + ((assertions.length + j) % (agencies.length - 1));
        return signClientAssertion(pems[k]!, { agencyId: agencies[k]!.id, audience: issuer, lifetimeS: 290 });
      }),
    );
    for (const assertion of chunk) {
      assertions.push(new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString());
    }
  }
  return assertions;
}

interface PgRun {
  instances: number;
  register: LoadResult;
  notices: LoadResult;
  tokens: LoadResult;
}

/**
 * The loads against `instances` service processes on a fresh copy of the seeded PostgreSQL
 * database, connections spread round-robin: registrations, reading notices, token issuance.
 */
async function postgresRun(adminUrl: string, keysDir: string, agencies: SeededAgency[], subjects: number, instances: number): Promise<PgRun> {
  const url = await copyDatabase(adminUrl, PG_SEED, `bench_run_${instances}`);
  const env = { BETROKKEN_DATABASE_URL: url, BETROKKEN_KEYS_DIR: keysDir, BETROKKEN_ISSUER: PG_ISSUER };
  const services: Service[] = [];
  try {
    for (let i = 0; i < instances; i++) services.push(await startService(path.join(work, `pg-${instances}-${i}`), env, i === 0));
    const urls = services.map((s) => s.url);
    const connections = Math.ceil(CONNECTIONS / instances) * instances;
    const tokens = await tokensFor(services[0]!, agencies);
    const signalsBefore = await countRows(url, 'signals');
    const register = load({ urls, connections, method: 'POST', path: '/v1/signals', contentType: 'application/json', tokens, bodies: registerBodies(subjects, 50_000, 0) });
    if ((await countRows(url, 'signals')) <= signalsBefore) throw new Error('the registrations did not reach PostgreSQL: the service does not use BETROKKEN_DATABASE_URL');
    const notices = load({ urls, connections, method: 'GET', path: '/v1/notices?limit=20', tokens });
    const bodies = await assertionBodies(PG_ISSUER, agencies);
    const tokenIssue = load({ urls, connections, method: 'POST', path: '/oauth/token', contentType: 'application/x-www-form-urlencoded', bodies, amount: bodies.length, duration: undefined });
    return { instances, register, notices, tokens: tokenIssue };
  } finally {
    for (const s of services) await stopService(s.child);
  }
}

/** The PostgreSQL database every run copies: the seed, before any load touched it. */
const PG_SEED = 'bench_seed';

/** Registration bodies: half new young people, half already registered (so matches happen). */
function registerBodies(subjects: number, count: number, offset: number): string[] {
  return Array.from({ length: count }, (_, j) =>
    JSON.stringify(signalBody(validBsn(j % 2 === 0 ? subjects + offset + j : Math.floor((j * 7919) % subjects)))),
  );
}

async function registerRun(dataDir: string, agencies: SeededAgency[], subjects: number, offset: number) {
  const service = await startService(dataDir);
  try {
    const tokens = await tokensFor(service, agencies);
    const result = load({ url: service.url, method: 'POST', path: '/v1/signals', contentType: 'application/json', tokens, bodies: registerBodies(subjects, 50_000, offset) });
    return { result, service };
  } catch (err) {
    service.child.kill('SIGKILL');
    throw err;
  }
}

async function main() {
  const results: Record<string, unknown> = { machine: { cpus: os.cpus().length, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version }, subjects: SUBJECTS, signals: SIGNALS, connections: CONNECTIONS, duration: DURATION };

  // Bare ceiling.
  const barePort = await freePort();
  const bare = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/bench/bare.ts'), String(barePort)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(`http://127.0.0.1:${barePort}/`, bare);
  const bareResult = load({ url: `http://127.0.0.1:${barePort}`, method: 'POST', path: '/v1/signals', contentType: 'application/json', bodies: registerBodies(1000, 1000, 0) });
  bare.kill();

  // Small database (10 k signals) for the size comparison.
  log('seeding 10 k signals');
  const smallDir = path.join(work, 'small');
  const smallAgencies = await seed(smallDir, { subjects: 4_000, signals: 10_000 }, bar);
  const atSmall = await registerRun(smallDir, smallAgencies, 4_000, 0);
  await stopService(atSmall.service.child);

  // Full size.
  log(`seeding ${SUBJECTS} subjects, ${SIGNALS} signals`);
  const fullDir = path.join(work, 'full');
  const seedStart = performance.now();
  const agencies = await seed(fullDir, { subjects: SUBJECTS, signals: SIGNALS }, bar);
  results.seedSeconds = Math.round((performance.now() - seedStart) / 100) / 10;
  // The same seed in PostgreSQL, copied before the SQLite loads write to it.
  const cluster = POSTGRES ? await startTestPostgres() : undefined;
  if (cluster) {
    log('copying the seed into PostgreSQL');
    const copyStart = performance.now();
    await copySqliteToPostgres(path.join(fullDir, 'betrokken.db'), cluster.adminUrl, PG_SEED, bar);
    results.pgCopySeconds = Math.round((performance.now() - copyStart) / 100) / 10;
  }
  const full = await registerRun(fullDir, agencies, SUBJECTS, 0);
  const service = full.service;
  const tokens = await tokensFor(service, agencies);
  const notices = load({ url: service.url, method: 'GET', path: '/v1/notices?limit=20', tokens });
  const assertions = await assertionBodies(service.issuer, agencies);
  const tokenIssue = load({ url: service.url, method: 'POST', path: '/oauth/token', contentType: 'application/x-www-form-urlencoded', bodies: assertions, amount: assertions.length, duration: undefined });
  const rss = peakRssMb(service.child.pid!);
  await stopService(service.child);

  // Retention sweep over expired signals.
  log(`seeding ${SWEEP} expired signals`);
  const sweepDir = path.join(work, 'sweep');
  await seed(sweepDir, { subjects: SWEEP, signals: SWEEP, expired: true }, bar);
  const deps = await openRuntime(loadConfig({ BETROKKEN_DATA_DIR: sweepDir }), pino({ level: 'silent' }));
  const sweepStart = performance.now();
  const sweep = await runRetention(deps, bar);
  const sweepSeconds = Math.round((performance.now() - sweepStart) / 100) / 10;
  await deps.store.close();

  const pgRuns: PgRun[] = [];
  if (cluster) {
    try {
      for (const n of [...new Set([1, INSTANCES])]) {
        log(`PostgreSQL, ${n} instance${n === 1 ? '' : 's'}`);
        pgRuns.push(await postgresRun(cluster.adminUrl, path.join(fullDir, 'keys'), agencies, SUBJECTS, n));
      }
    } finally {
      await cluster.stop();
    }
  }

  const ratio = (r: LoadResult) => Math.round((r.rps / bareResult.rps) * 1000) / 10;
  Object.assign(results, {
    bare: bareResult,
    register: { ...full.result, ratioToBarePct: ratio(full.result) },
    registerAt10k: { ...atSmall.result, ratioToBarePct: ratio(atSmall.result) },
    registerFullVs10kPct: Math.round((full.result.rps / atSmall.result.rps) * 1000) / 10,
    notices: { ...notices, ratioToBarePct: ratio(notices) },
    tokens: { ...tokenIssue, ratioToBarePct: ratio(tokenIssue) },
    peakRssMb: rss,
    retention: { ...sweep, seconds: sweepSeconds },
    ...(pgRuns.length ? { postgres: pgRuns.map((r) => ({ instances: r.instances, register: { ...r.register, ratioToBarePct: ratio(r.register) }, notices: { ...r.notices, ratioToBarePct: ratio(r.notices) }, tokens: { ...r.tokens, ratioToBarePct: ratio(r.tokens) } })) } : {}),
  });

  const row = (name: string, r: LoadResult) =>
    `${name.padEnd(26)} ${String(Math.round(r.rps)).padStart(8)} ${String(r.p50).padStart(7)} ${String(r.p99).padStart(7)} ${String(ratio(r)).padStart(8)}%  ${r.non2xx ? `non-2xx ${r.non2xx}` : ''}${r.errors ? ` errors ${r.errors}` : ''}`;
  console.log(`\nBetrokken benchmark — ${SUBJECTS} subjects, ${SIGNALS} signals, ${CONNECTIONS} connections, ${DURATION} s per load, ${os.cpus().length} cores\n`);
  console.log(`${'load'.padEnd(26)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'vs bare'.padStart(9)}`);
  console.log(row('bare Hono POST', bareResult));
  console.log(row('register (full size)', full.result));
  console.log(row('register (10 k signals)', atSmall.result));
  console.log(row('read notices', notices));
  console.log(row('token issuance', tokenIssue));
  console.log(`\nregister at full size vs at 10 k: ${results.registerFullVs10kPct}%`);
  console.log(`service peak RSS: ${rss} MB`);
  console.log(`retention sweep: ${sweep.expired} signals ended in ${sweepSeconds} s`);
  console.log(`seeding took ${results.seedSeconds} s`);
  if (pgRuns.length) {
    // The same loads on the same seed: SQLite (one process) beside PostgreSQL with 1 and N instances.
    const cell = (r: LoadResult) => `${String(Math.round(r.rps)).padStart(7)} ${String(r.p99).padStart(6)} ${String(ratio(r)).padStart(6)}%${r.non2xx || r.errors ? '!' : ' '}`;
    const heads = ['SQLite', ...pgRuns.map((r) => `PostgreSQL ×${r.instances}`)];
    console.log(`\nreq/s, p99 ms and share of bare Hono per store (! marks non-2xx or errors; PostgreSQL copied in ${results.pgCopySeconds} s)\n`);
    console.log(`${'load'.padEnd(16)}${heads.map((h) => h.padStart(24)).join('')}`);
    const line = (name: string, sqlite: LoadResult, pick: (r: PgRun) => LoadResult) => console.log(`${name.padEnd(16)}${[sqlite, ...pgRuns.map(pick)].map((r) => cell(r).padStart(24)).join('')}`);
    line('register', full.result, (r) => r.register);
    line('read notices', notices, (r) => r.notices);
    line('token issuance', tokenIssue, (r) => r.tokens);
  }
  const outDir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}${small ? '-small' : ''}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`figures written to ${path.relative(ROOT, file)}`);
  fs.rmSync(work, { recursive: true, force: true });
}

await main();

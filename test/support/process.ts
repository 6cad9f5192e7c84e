import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { signClientAssertion } from '../../src/crypto/tokens.ts';
import { ROOT } from './harness.ts';

export const BIN = path.join(ROOT, 'bin', 'betrokken.js');

/** Runs the `betrokken` command line to completion. */
export function cli(args: string[], env: Record<string, string>) {
  const res = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Server {
  url: string;
  /** The metrics listener (loopback), apart from the API. */
  metricsUrl: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the real service (`betrokken start`) and waits until /healthz answers. */
export async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: String(port), METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A loaded machine (CI, a suite running two projects) can take tens of seconds to start node with tsx.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliAgency {
  id: string;
  /** The agency's private key (PKCS#8 PEM); the index only ever holds the public key. */
  key: string;
}

/** Adds agencies with `betrokken agency add`, as an operator would, each with a fresh Ed25519 key. */
export function addAgenciesByCli(
  dataDir: string,
  env: Record<string, string>,
  specs: Array<[label: string, type: string, extra: readonly string[]]>,
): Record<string, CliAgency> {
  const out: Record<string, CliAgency> = {};
  // Only migrate (or start) makes a new index; agency add refuses where there is none.
  if (!fs.existsSync(env.BETROKKEN_DB ?? path.join(dataDir, 'betrokken.db'))) {
    const migrated = cli(['migrate'], env);
    if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
  }
  for (const [label, type, extra] of specs) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = path.join(dataDir, `${label}.pub.pem`);
    fs.writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
    const res = cli(['agency', 'add', '--name', label, '--type', type, '--municipality', '0014', '--public-key', file, ...extra], env);
    if (res.code !== 0) throw new Error(`agency add failed: ${res.stderr}`);
    out[label] = { id: res.stdout.trim(), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  }
  return out;
}

/**
 * An access token from a running service, through a signed client assertion. The service's issuer
 * is `http://localhost:PORT` unless BETROKKEN_ISSUER set another (several instances share one).
 */
export async function serviceToken(server: { url: string }, agency: CliAgency, issuer = `http://localhost:${new URL(server.url).port}`): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    // A fresh assertion each time: an assertion is good for one token.
    const assertion = await signClientAssertion(agency.key, { agencyId: agency.id, audience: issuer });
    try {
      const res = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
      });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status}`);
      return ((await res.json()) as { access_token: string }).access_token;
    } catch (err) {
      // A kept-alive connection the server closed while it sat idle in fetch's pool (the server's
      // keep-alive timeout racing the next request) is reset: that request was never handled.
      const reset = (err as { cause?: { code?: string } }).cause?.code === 'ECONNRESET';
      if (!reset || attempt === 3) throw err;
    }
  }
}

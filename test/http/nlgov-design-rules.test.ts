import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createHarness, ROOT } from '../support/harness.ts';

const run = promisify(execFile);

/** The NL GOV API Design Rules ruleset, kept as published beside the project (not copied into it). */
const RULESET = path.resolve(ROOT, '..', 'shared', 'nlgov-adr-ruleset.yaml');
const SPECTRAL = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'spectral.cmd' : 'spectral');

interface Finding {
  code: string;
  message: string;
  path: string[];
  severity: 0 | 1 | 2 | 3;
}

describe('NL GOV API Design Rules', () => {
  it('the served /openapi.json passes the Spectral ruleset with zero errors', { timeout: 120_000 }, async () => {
    if (!existsSync(RULESET)) throw new Error(`the NL GOV ruleset is missing: expected ../shared/nlgov-adr-ruleset.yaml beside the project`);
    if (!existsSync(SPECTRAL)) throw new Error('@stoplight/spectral-cli is not installed (npm install)');
    const h = await createHarness();
    const res = await h.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'betrokken-spectral-'));
    try {
      const file = path.join(dir, 'openapi.json');
      await writeFile(file, await res.text());
      // Spectral exits 1 when it finds errors; the JSON report is on stdout either way.
      const out = await run(SPECTRAL, ['lint', '--ruleset', RULESET, '--format', 'json', '--quiet', file], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).catch(
        (err: { stdout?: string; stderr?: string; code?: number }) => {
          if (!err.stdout?.trim().startsWith('[')) throw new Error(`spectral failed (${err.code}): ${err.stderr ?? ''}`);
          return { stdout: err.stdout, stderr: err.stderr ?? '' };
        },
      );
      const findings = JSON.parse(out.stdout) as Finding[];
      const errors = findings.filter((f) => f.severity === 0).map((f) => `${f.code} at ${f.path.join('.')}: ${f.message}`);
      const warnings = findings.filter((f) => f.severity === 1);
      console.log(`spectral (NL GOV API Design Rules): ${errors.length} errors, ${warnings.length} warnings${warnings.length ? `: ${[...new Set(warnings.map((w) => w.code))].join(', ')}` : ''}`);
      expect(errors).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

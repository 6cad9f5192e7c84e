import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createHarness, ROOT } from '../support/harness.ts';

const run = promisify(execFile);
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

/**
 * A small client an integrator might write against the generated types. Each `@ts-expect-error`
 * must meet an error, so the types are checked to be precise, not `any`.
 */
const CLIENT = `import type { components, operations, paths, webhooks } from './schema.js';

type RegisterSignal = paths['/signals']['post']['requestBody']['content']['application/json'];
type Signal = components['schemas']['Signal'];
type SignalList = paths['/signals']['get']['responses'][200]['content']['application/json'];
type SignalQuery = NonNullable<operations['listSignals']['parameters']['query']>;
type NoticeQuery = NonNullable<operations['listNotices']['parameters']['query']>;
type Problem = components['schemas']['Problem'];
type Notice = webhooks['notice']['post']['requestBody']['content']['application/json'];
type Acting = NonNullable<paths['/signals']['post']['parameters']['header']>['X-Acting-Professional'];

// The platform's fetch, narrowed so that the check needs no DOM library.
type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{ json(): Promise<unknown> }>;

export async function registerSignal(fetch: Fetch, baseUrl: string, token: string, input: RegisterSignal, acting?: Acting): Promise<Signal | Problem> {
  const headers: Record<string, string> = { authorization: \`Bearer \${token}\`, 'content-type': 'application/json' };
  if (acting) headers['x-acting-professional'] = acting;
  const res = await fetch(\`\${baseUrl}/signals\`, { method: 'POST', headers, body: JSON.stringify(input) });
  return (await res.json()) as Signal | Problem;
}

export function nextPage(page: SignalList): SignalQuery | null {
  return page.next === null ? null : { cursor: page.next, limit: 50 };
}

export function inboxFrom(cursor: string): NoticeQuery {
  return { cursor, unacknowledged: 'true' };
}

export function onWebhook(notice: Notice): string {
  return \`\${notice.id} \${notice.type}\`;
}

export function explain(problem: Problem): string {
  return \`\${problem.status} \${problem.code}: \${problem.title} \${problem.detail ?? ''}\`;
}

export const example: RegisterSignal = {
  bsn: '111222333',
  birthDate: '2012-04-01',
  municipality: '0014',
  district: 'selwerd',
  professional: { name: 'J. de Vries', email: 'j.devries@example.nl', phone: '050 123 4567' },
  informed: { status: 'informed' },
};

// @ts-expect-error a field the API does not know
export const unknownField: RegisterSignal = { ...example, reason: 'never sent' };
// @ts-expect-error the BSN is required
export const noBsn: RegisterSignal = { birthDate: example.birthDate, municipality: '0014', professional: example.professional, informed: example.informed };
// @ts-expect-error the paging parameter is cursor, a string
export const badQuery: SignalQuery = { cursor: 17 };
`;

describe('a client generated from /openapi.json', () => {
  it('openapi-typescript generates types that a small client type-checks against', { timeout: 120_000 }, async () => {
    for (const name of ['openapi-typescript', 'tsc']) if (!existsSync(bin(name))) throw new Error(`${name} is not installed (npm install)`);
    const h = await createHarness();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'betrokken-client-'));
    try {
      await writeFile(path.join(dir, 'openapi.json'), await (await h.call('GET', '/openapi.json')).text());
      // openapi-typescript by default reads a default value in a shared schema as "always there",
      // true of answers but not of request bodies (a client may leave `kind` out); this flag keeps
      // the document's `required` list as it is.
      await run(bin('openapi-typescript'), ['openapi.json', '--output', 'schema.ts', '--default-non-nullable', 'false'], { cwd: dir });
      const schema = await readFile(path.join(dir, 'schema.ts'), 'utf8');
      expect(schema).toContain('export interface webhooks');
      expect(schema).toContain('registerSignal: {');
      await writeFile(path.join(dir, 'client.ts'), CLIENT);
      await writeFile(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: [], skipLibCheck: false },
          files: ['client.ts'],
        }),
      );
      const result = await run(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: dir }).then(
        () => ({ ok: true, output: '' }),
        (err: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
      );
      expect(result.output).toBe('');
      expect(result.ok).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

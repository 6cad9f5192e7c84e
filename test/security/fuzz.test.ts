import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, signalBody, validBsn } from '../support/harness.ts';

/**
 * Hostile input at every route: malformed, oversized, wrongly typed and wrongly encoded bodies,
 * odd headers, path parameters and tokens. Never a 5xx, never an internal detail in the answer,
 * never a half-written row.
 */
let h: Harness;
let tokens: string[];
let routes: Array<{ method: string; path: string }>;
let ids: Record<string, string>;

/** URLs carry well-formed text only: a lone surrogate becomes U+FFFD, as a client library would send it. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udfff]/gu, '\ufffd');

const LEAKS = /(\bat \S+:\d+:\d+|node_modules|\/src\/|SqliteError|TypeError|ReferenceError|SQLITE_|DrizzleQueryError|Failed query|duplicate key|violates|stack)/;

/**
 * The service's tables leave out the migrator's (`__drizzle_migrations`) and the sign-in's
 * short-lived state: a sign-in page hands out a passkey challenge and every sign-in attempt is
 * counted, refused or not (that is what the counts are for); neither records a change.
 */
const EPHEMERAL = new Set(['passkey_challenges', 'sign_in_attempts']);
const counted = (name: string) => !name.startsWith('__') && !EPHEMERAL.has(name);
/** One query that adds up the rows of every table (made in beforeAll). */
let countAll: string;

async function totalRows(): Promise<number> {
  return (await h.row<{ n: number }>(countAll))!.n;
}

beforeAll(async () => {
  h = await createHarness();
  const tables = (await h.tables()).filter(counted);
  expect(tables.length).toBeGreaterThan(10);
  countAll = `select ${tables.map((name) => `(select count(*) from "${name}")`).join(' + ')} as n`;
  const wij = await h.agency('wij', { districts: ['selwerd'] });
  const school = await h.agency('school');
  const gp = await h.agency('gp');
  const muni = await h.agency('municipality');
  const op = await h.agency('operator');
  tokens = await Promise.all([school, gp, wij, muni, op].map((a) => h.token(a)));
  const sig = (await (await h.call('POST', '/v1/signals', { token: tokens[0]!, body: signalBody(validBsn(1)) })).json()) as { id: string };
  await h.call('POST', '/v1/signals', { token: tokens[1]!, body: signalBody(validBsn(1)) });
  const notice = ((await (await h.call('GET', '/v1/notices', { token: tokens[0]! })).json()) as { items: Array<{ id: string }> }).items[0]!;
  const match = ((await (await h.call('GET', '/v1/matches', { token: tokens[2]! })).json()) as { items: Array<{ id: string }> }).items[0]!;
  ids = { signal: sig.id, notice: notice.id, match: match.id };
  const doc = (await (await h.call('GET', '/openapi.json')).json()) as { servers: Array<{ url: string }>; paths: Record<string, Record<string, unknown>> };
  // The document's paths follow its server URL (…/v1); the routes outside it (token endpoint,
  // JWKS, health, the console) are fuzzed too.
  const base = new URL(doc.servers[0]!.url).pathname;
  routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: `${base}${path}` })));
  expect(routes.length).toBeGreaterThan(15);
  for (const r of h.app.routes) {
    if (r.method !== 'ALL' && !r.path.startsWith(`${base}/`) && !r.path.startsWith('/docs')) routes.push({ method: r.method, path: r.path.replace(/:(\w+)/g, '{$1}') });
  }
});

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.constantFrom('', ' ', '\u0000', '../../etc/passwd', '%00', '${jndi:x}', "'; drop table signals; --", '<script>', '\ud800', 'NaN', '-1', '1e309'),
  fc.string({ minLength: 5000, maxLength: 20000 }),
);
const json = fc.jsonValue({ maxDepth: 4 });
const body = fc.oneof(
  json.map((v) => JSON.stringify(v)),
  fc.record({ bsn: hostileString, birthDate: hostileString, municipality: hostileString, professional: json, informed: json, kind: hostileString }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.constant(JSON.stringify(signalBody(validBsn(2), { extra: 1 }))),
  fc.constant(JSON.stringify(signalBody('123456789'))),
  fc.constant(JSON.stringify({ ...signalBody(validBsn(3)), professional: { name: 'x'.repeat(500), email: 'a@b.nl' } })),
  fc.constant(JSON.stringify({ scheduledFor: 'tomorrow', invite: ['agy_' + 'x'.repeat(26)] })),
  fc.constant('{"a":'.repeat(2000)),
  fc.constant('\xff\xfe\x00{'),
  hostileString,
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
);
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json\r\nX-Injected: 1');
const param = fc.oneof(hostileString, fc.constantFrom('sig_' + '0'.repeat(26), 'mat_x', 'ntc_%2e%2e'));
const auth = fc.oneof(
  fc.integer({ min: 0, max: 4 }).map((i) => `Bearer ${tokens[i]}`),
  fc.constantFrom('Bearer', 'Bearer ', 'bearer x.y.z', 'Basic Zm9vOmJhcg==', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'),
  hostileString.map((s) => `Bearer ${s}`),
);

describe('fuzzing every route', () => {
  it('never answers 5xx, never leaks internals, never half-writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        body,
        contentType,
        param,
        auth,
        fc.option(hostileString, { nil: undefined }),
        fc.option(fc.dictionary(fc.constantFrom('cursor', 'after', 'limit', 'status', 'from', 'to', 'by', 'subject', 'unacknowledged', 'x'), hostileString), { nil: undefined }),
        fc.boolean(),
        async (pick, payload, type, p, authorization, professional, query, realId) => {
          const route = routes[pick % routes.length]!;
          let path = route.path.replace(/\{id\}/, () => {
            if (!realId) return encodeURIComponent(wellFormed(p));
            if (route.path.includes('signals')) return ids.signal!;
            if (route.path.includes('notices')) return ids.notice!;
            return ids.match!;
          });
          if (query) path += `?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, wellFormed(v)])).toString()}`;
          // Only what an HTTP header can carry (Latin-1, no line breaks) reaches a real server.
          const headerSafe = (v: string) => /^[\x20-\x7e\xa0-\xff\t]*$/.test(v);
          const headers: Record<string, string> = {};
          if (headerSafe(authorization)) headers.authorization = authorization;
          if (type && headerSafe(type)) headers['content-type'] = type;
          if (professional !== undefined && headerSafe(professional)) headers['x-acting-professional'] = professional;
          const before = await totalRows();
          const res = await h.app.request(path, { method: route.method, headers, ...(route.method === 'GET' ? {} : { body: payload }) });
          const text = await res.text();
          expect(res.status, `${route.method} ${path} → ${text.slice(0, 200)}`).toBeLessThan(500);
          expect(text).not.toMatch(LEAKS);
          if (res.status >= 400) {
            // A refused sign-in writes exactly one row: its audit record (a failed token.issue, or a
            // console sign-in through an agency's provider that came back without its sign-in).
            const signIn = route.path === '/oauth/token' ? 'token.issue' : route.path === '/console/inloggen/organisatie/terug' ? 'console.sign_in' : null;
            const refusedSignIn = signIn ? 1 : 0;
            expect(await totalRows(), `${route.method} ${route.path} ${res.status} wrote rows`).toBe(before + refusedSignIn);
            if (signIn === 'console.sign_in') {
              const last = (await h.row<{ action: string; outcome: string }>('select action, outcome from audit_log order by seq desc limit 1'))!;
              expect(last.action).toBe('console.sign_in');
              expect(last.outcome).toMatch(/^(oidc_pending_invalid|too_many_attempts)$/);
            } else if (refusedSignIn) {
              const last = (await h.row<{ action: string; outcome: string }>('select action, outcome from audit_log order by seq desc limit 1'))!;
              expect(last.action).toBe('token.issue');
              expect(last.outcome).toMatch(/^refused: /);
            }
            // The console answers people with pages (and its passkey scripts with JSON), the API with problems.
            if (route.path.startsWith('/console')) expect(res.headers.get('content-type')).toMatch(/^(text\/html|application\/json)\b/);
            else if (route.path !== '/oauth/token') expect(res.headers.get('content-type')).toBe('application/problem+json');
          }
        },
      ),
      { numRuns: 600 },
    );
  }, 180_000);
});

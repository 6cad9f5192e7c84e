import { describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/policy/types.ts';
import { createHarness, ISSUER } from '../support/harness.ts';

interface OpenApiOperation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: unknown;
  responses: Record<string, { headers?: Record<string, unknown> }>;
}
interface OpenApiDoc {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { securitySchemes: Record<string, unknown> };
}

describe('operations routes', () => {
  it('answers /healthz and /readyz with the policy version', async () => {
    const h = await createHarness();
    expect(await (await h.call('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    const ready = (await (await h.call('GET', '/readyz')).json()) as { status: string; policy: { id: string; version: string } };
    expect(ready.status).toBe('ready');
    expect(ready.policy).toEqual({ id: 'groningen', version: h.policy.version });
    await h.store.close();
    expect((await h.call('GET', '/readyz')).status).toBe(503);
  });

  it('describes exactly the routes of the versioned API in /openapi.json (no drift)', async () => {
    const h = await createHarness();
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as OpenApiDoc;
    expect(doc.openapi).toBe('3.1.0');
    // NL GOV API Design Rules: the server URL holds the major version, the paths follow it.
    expect(doc.servers).toEqual([{ url: `${ISSUER}/v1`, description: expect.any(String) }]);
    const base = new URL(doc.servers[0]!.url).pathname;
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${base}${p.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    // Outside /v1 (token endpoint, JWKS, health, the document and /docs) is not the versioned API.
    const served = [...new Set(h.app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/')).map((r) => `${r.method} ${r.path}`))].sort();
    expect(documented).toEqual(served);
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const responses = Object.keys(op.responses);
        expect(responses, `${m} ${p} documents 400 and 401`).toEqual(expect.arrayContaining(['400', '401']));
      }
    }
  });

  it('gives every operation an id and the one scope it requires, from the oauth2 client-credentials scheme', async () => {
    const h = await createHarness();
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as OpenApiDoc;
    const scheme = doc.components.securitySchemes.oauth2 as { type: string; flows: { clientCredentials: { tokenUrl: string; scopes: Record<string, string> } } };
    expect(scheme.type).toBe('oauth2');
    expect(scheme.flows.clientCredentials.tokenUrl).toBe(`${ISSUER}/oauth/token`);
    expect(Object.keys(scheme.flows.clientCredentials.scopes).sort()).toEqual([...SCOPES].sort());
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['oauth2']);
    const ids: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        expect(op.operationId, `${m} ${p} has an operationId`).toMatch(/^[a-z][A-Za-z]+$/);
        ids.push(op.operationId!);
        expect(op.security, `${m} ${p} names its scope`).toEqual([{ oauth2: [expect.any(String)] }]);
        expect(SCOPES).toContain(op.security![0]!.oauth2![0]);
        for (const [status, res] of Object.entries(op.responses)) {
          expect(res.headers?.['API-Version'], `${m} ${p} ${status} names API-Version`).toEqual({ $ref: '#/components/headers/ApiVersion' });
        }
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes the webhook: the notice, as the inbox holds it, with the Standard Webhooks headers', async () => {
    const h = await createHarness();
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as OpenApiDoc & { webhooks: Record<string, Record<string, OpenApiOperation & { parameters: Array<{ name: string; in: string; required: boolean }> }>> };
    const hook = doc.webhooks.notice!.post!;
    expect(hook.operationId).toBe('receiveNotice');
    expect(hook.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Notice' } } } });
    expect(hook.parameters.filter((p) => p.in === 'header' && p.required).map((p) => p.name).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    const inbox = doc.paths['/notices']!.get!.responses['200'] as { content: { 'application/json': { schema: { $ref: string } } } };
    expect(inbox.content['application/json'].schema.$ref).toBe('#/components/schemas/NoticeList');
  });

  it('answers with the scope the document names: a token with every other scope is refused', async () => {
    const h = await createHarness();
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as OpenApiDoc;
    const operator = await h.agency('school', { grants: [...SCOPES] });
    const tokens = new Map<string, string>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        // Operations with a request body are validated before the use case checks the scope.
        if (op.requestBody) continue;
        const scope = op.security![0]!.oauth2![0]!;
        if (!tokens.has(scope)) tokens.set(scope, await h.token(operator, SCOPES.filter((s) => s !== scope).join(' ')));
        const query = op.operationId === 'getStatistics' ? '?from=2026-01&to=2026-02' : '';
        const res = await h.call(m.toUpperCase(), `/v1${p.replace(/\{\w+\}/g, 'x_1')}${query}`, { token: tokens.get(scope)! });
        expect(res.status, `${m} ${p}`).toBe(403);
        expect(((await res.json()) as { code: string }).code, `${m} ${p}`).toBe('insufficient_scope');
      }
    }
    expect(tokens.size).toBeGreaterThan(3);
  });

  it('answers unknown paths with problem+json', async () => {
    const h = await createHarness();
    const res = await h.call('GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('refuses an oversized body with 413 before reading it', async () => {
    const h = await createHarness();
    const school = await h.agency('school');
    const token = await h.token(school);
    const res = await h.call('POST', '/v1/signals', { token, body: JSON.stringify({ bsn: 'x'.repeat(100_000) }) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('payload_too_large');
  });
});

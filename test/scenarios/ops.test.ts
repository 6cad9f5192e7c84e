import { describe, expect, it } from 'vitest';
import { createHarness } from '../support/harness.ts';

describe('operations routes', () => {
  it('answers /healthz and /readyz with the policy version', async () => {
    const h = await createHarness();
    expect(await (await h.call('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    const ready = (await (await h.call('GET', '/readyz')).json()) as { status: string; policy: { id: string; version: string } };
    expect(ready.status).toBe('ready');
    expect(ready.policy).toEqual({ id: 'groningen', version: h.policy.version });
    h.db.$client.close();
    expect((await h.call('GET', '/readyz')).status).toBe(503);
  });

  it('serves the docs page', async () => {
    const h = await createHarness();
    const res = await h.call('GET', '/docs');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('/openapi.json');
  });

  it('describes exactly the routes the service answers in /openapi.json (no drift)', async () => {
    const h = await createHarness();
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    const undocumented = new Set(['GET /openapi.json', 'GET /docs']);
    const served = [...new Set(h.app.routes.filter((r) => r.method !== 'ALL' && !undocumented.has(`${r.method} ${r.path}`)).map((r) => `${r.method} ${r.path}`))].sort();
    expect(documented).toEqual(served);
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const responses = Object.keys((op as { responses: Record<string, unknown> }).responses);
        expect(responses.length, `${m} ${p} documents its responses`).toBeGreaterThan(0);
        if (p.startsWith('/v1/')) expect(responses, `${m} ${p} documents 401`).toContain('401');
      }
    }
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

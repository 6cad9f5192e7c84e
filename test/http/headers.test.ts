import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.ts';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

describe('headers on every response (NL GOV API Design Rules)', () => {
  it('sends API-Version, matching info.version, and the security headers on answers of every kind', async () => {
    const h = await createHarness();
    const school = await h.agency('school');
    await h.agency('wij', { districts: ['selwerd'] });
    const token = await h.token(school);
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as { info: { version: string }; servers: Array<{ url: string }> };
    expect(doc.info.version).toMatch(SEMVER);
    expect(doc.servers[0]!.url.endsWith(`/v${doc.info.version.split('.')[0]}`)).toBe(true);
    const answers = {
      created: await h.call('POST', '/v1/signals', { token, body: signalBody(validBsn(1)) }),
      list: await h.call('GET', '/v1/signals', { token }),
      invalid: await h.call('POST', '/v1/signals', { token, body: { bsn: 'x' } }),
      unauthenticated: await h.call('GET', '/v1/signals'),
      notFound: await h.call('GET', '/nope'),
      health: await h.call('GET', '/healthz'),
      tokenRefused: await h.call('POST', '/oauth/token', { body: 'grant_type=client_credentials', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      jwks: await h.call('GET', '/.well-known/jwks.json'),
      openapi: await h.call('GET', '/openapi.json'),
      docs: await h.call('GET', '/docs'),
    };
    expect(answers.created.status).toBe(201);
    expect(answers.invalid.status).toBe(400);
    expect(answers.unauthenticated.status).toBe(401);
    expect(answers.tokenRefused.status).toBe(400);
    for (const [name, res] of Object.entries(answers)) {
      expect(res.headers.get('api-version'), name).toBe(doc.info.version);
      expect(res.headers.get('x-content-type-options'), name).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), name).toBe('DENY');
      expect(res.headers.get('content-security-policy'), name).toMatch(/frame-ancestors 'none'/);
      // The harness's issuer is http: no HSTS, which a browser would ignore there anyway.
      expect(res.headers.get('strict-transport-security'), name).toBeNull();
    }
    // Problem details always carry status, title and detail.
    for (const name of ['invalid', 'unauthenticated', 'notFound'] as const) {
      const problem = (await answers[name].json()) as { status: number; title: string; detail: string };
      expect(problem.status, name).toBe(answers[name].status);
      expect(problem.title, name).toEqual(expect.any(String));
      expect(problem.detail, name).toEqual(expect.any(String));
    }
    // Anything that may hold personal data, or a token, is never stored by a cache.
    for (const name of ['created', 'list', 'invalid', 'unauthenticated', 'tokenRefused'] as const) {
      expect(answers[name].headers.get('cache-control'), name).toBe('no-store');
    }
  });

  it('keeps the headers on an unexpected error', async () => {
    const h = await createHarness();
    const token = await h.token(await h.agency('school'));
    await h.store.close();
    const res = await h.call('GET', '/v1/signals', { token });
    expect(res.status).toBe(500);
    expect(res.headers.get('api-version')).toMatch(SEMVER);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('sends Strict-Transport-Security when the service is reached over https', async () => {
    const h = await createHarness();
    const app = createApp({ ...h.deps, issuer: 'https://index.example.nl' });
    for (const url of ['/healthz', '/v1/signals', '/nope', '/docs']) {
      const res = await app.request(url);
      expect(res.headers.get('strict-transport-security'), url).toMatch(/^max-age=\d{7,}/);
    }
  });
});

describe('/openapi.json', () => {
  it('is served without authentication and readable from any origin', async () => {
    const h = await createHarness();
    const res = await h.call('GET', '/openapi.json', { headers: { origin: 'https://integrator.example.org' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const preflight = await h.call('OPTIONS', '/openapi.json', {
      headers: { origin: 'https://integrator.example.org', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
  });

  it('does not open the API itself to other origins', async () => {
    const h = await createHarness();
    const token = await h.token(await h.agency('school'));
    const res = await h.call('GET', '/v1/signals', { token, headers: { origin: 'https://integrator.example.org' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('trailing slashes', () => {
  it('answer 404 problem+json, never a redirect', async () => {
    const h = await createHarness();
    const token = await h.token(await h.agency('school'));
    for (const url of ['/v1/signals/', '/v1/notices/', '/openapi.json/', '/healthz/', '/docs/']) {
      const res = await h.call('GET', url, { token });
      expect(res.status, url).toBe(404);
      expect(res.headers.get('location'), url).toBeNull();
      expect(res.headers.get('content-type'), url).toBe('application/problem+json');
      expect(((await res.json()) as { code: string }).code, url).toBe('not_found');
    }
    // Without the slash, the same paths answer.
    expect((await h.call('GET', '/v1/signals', { token })).status).toBe(200);
  });
});

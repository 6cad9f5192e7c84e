import { createHmac, generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { disableAgency } from '../../src/app/agencies.ts';
import { createLogger } from '../../src/log.ts';
import { verifyAuditChain } from '../../src/store/audit.ts';
import { createHarness, type Harness, ISSUER, type TestAgency } from '../support/harness.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

describe('POST /oauth/token', () => {
  let h: Harness;
  let school: TestAgency;

  const tokenRequest = (assertion: string, extra: Record<string, string> = {}) =>
    h.call('POST', '/oauth/token', {
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...extra }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  const claims = (over: Record<string, unknown> = {}) => {
    const now = Math.floor(h.clock.now().getTime() / 1000);
    return { iss: school.id, sub: school.id, aud: ISSUER, iat: now, exp: now + 60, jti: `jti-${Math.random()}`, ...over };
  };

  const expectRefused = async (res: Response, error = 'invalid_client') => {
    expect(res.status).toBe(error === 'invalid_client' ? 401 : 400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { error: string }).error).toBe(error);
  };

  beforeEach(async () => {
    h = await createHarness();
    school = await h.agency('school');
  });

  it('issues an EdDSA access token with the scopes of the agency type', async () => {
    const res = await tokenRequest(await h.assertion(school));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBeGreaterThan(0);
    expect(body.expires_in).toBeLessThanOrEqual(900);
    expect(body.scope.split(' ').sort()).toEqual(['notices:read', 'signals:read', 'signals:write']);

    const jwks = (await (await h.call('GET', '/.well-known/jwks.json')).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    const { payload, protectedHeader } = await jwtVerify(body.access_token, createLocalJWKSet(jwks as never), {
      issuer: ISSUER,
      audience: ISSUER,
      currentDate: h.clock.now(),
    });
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload.sub).toBe(school.id);
  });

  it('accepts a P-256 agency key (ES256) and the token endpoint URL as audience', async () => {
    const gp = await h.agency('gp', { keyType: 'p256' });
    const res = await tokenRequest(await h.assertion(gp, { audience: `${ISSUER}/oauth/token` }));
    expect(res.status).toBe(200);
  });

  it('narrows to a requested scope and refuses one the agency does not hold', async () => {
    const ok = await tokenRequest(await h.assertion(school), { scope: 'signals:read' });
    expect(((await ok.json()) as { scope: string }).scope).toBe('signals:read');
    await expectRefused(await tokenRequest(await h.assertion(school), { scope: 'matches:coordinate' }), 'invalid_scope');
    await expectRefused(await tokenRequest(await h.assertion(school), { scope: 'admin' }), 'invalid_scope');
  });

  it('adds scopes an operator granted to the agency', async () => {
    const office = await h.agency('school', { grants: ['stats:read'] });
    const res = await tokenRequest(await h.assertion(office), { scope: 'stats:read' });
    expect(res.status).toBe(200);
  });

  it('refuses a replayed jti', async () => {
    const assertion = await h.assertion(school);
    expect((await tokenRequest(assertion)).status).toBe(200);
    await expectRefused(await tokenRequest(assertion));
  });

  it('gives one token for an assertion sent several times at once (the used jti is a key of the database)', async () => {
    const assertion = await h.assertion(school);
    const answers = await Promise.all(Array.from({ length: 6 }, () => tokenRequest(assertion)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    for (const res of answers.filter((r) => r.status !== 200)) await expectRefused(res);
  });

  it('refuses an expired assertion', async () => {
    const assertion = await h.assertion(school, { lifetimeS: 60 });
    h.clock.advanceDays(1 / 24);
    await expectRefused(await tokenRequest(assertion));
  });

  it('refuses an assertion that lives longer than five minutes', async () => {
    await expectRefused(await tokenRequest(await h.assertion(school, { lifetimeS: 3600 })));
  });

  it('refuses the wrong audience', async () => {
    await expectRefused(await tokenRequest(await h.assertion(school, { audience: 'https://other-index.example' })));
  });

  it('refuses an assertion signed with a key that is not registered', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey);
    await expectRefused(await tokenRequest(forged));
  });

  it("refuses another agency's assertion presented as one's own (iss ≠ sub)", async () => {
    const gp = await h.agency('gp');
    const forged = await new SignJWT(claims({ iss: gp.id, sub: school.id })).setProtectedHeader({ alg: 'EdDSA' }).sign(gp.privateKey);
    await expectRefused(await tokenRequest(forged));
  });

  it('refuses alg none', async () => {
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`;
    await expectRefused(await tokenRequest(unsigned));
  });

  it('refuses HS256 with the public key as the secret', async () => {
    const publicPem = school.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const { createPublicKey } = await import('node:crypto');
    const spki = createPublicKey(publicPem).export({ type: 'spki', format: 'pem' }) as string;
    const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims())}`;
    for (const secret of [spki, JSON.stringify(createPublicKey(publicPem).export({ format: 'jwk' }))]) {
      const mac = createHmac('sha256', secret).update(head).digest('base64url');
      await expectRefused(await tokenRequest(`${head}.${mac}`));
    }
  });

  it('refuses a disabled agency', async () => {
    await disableAgency(h.deps, school.id);
    await expectRefused(await tokenRequest(await h.assertion(school)));
  });

  it('answers RFC 6749 errors for malformed requests', async () => {
    await expectRefused(await tokenRequest('not-a-jwt'));
    const wrongGrant = await h.call('POST', '/oauth/token', {
      body: 'grant_type=password&username=a&password=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await expectRefused(wrongGrant, 'unsupported_grant_type');
    const json = await h.call('POST', '/oauth/token', { body: { grant_type: 'client_credentials' } });
    await expectRefused(json, 'invalid_request');
    const twice = await h.call('POST', '/oauth/token', {
      body: `grant_type=client_credentials&grant_type=client_credentials&client_assertion_type=${ASSERTION_TYPE}&client_assertion=x`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await expectRefused(twice, 'invalid_request');
  });

  describe('bearer middleware on /v1', () => {
    it('refuses a missing, malformed, foreign or expired token with 401 problem+json', async () => {
      const good = await h.token(school);
      const { privateKey } = generateKeyPairSync('ed25519');
      const foreign = await new SignJWT({ scope: 'signals:read' })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: h.keys.currentSigningKey.kid })
        .setIssuer(ISSUER).setAudience(ISSUER).setSubject(school.id).setIssuedAt().setExpirationTime('5m')
        .sign(privateKey);
      for (const auth of [undefined, 'Basic abc', 'Bearer not.a.token', `Bearer ${foreign}`]) {
        const res = await h.call('GET', '/v1/signals', auth ? { headers: { authorization: auth } } : {});
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      expect((await h.call('GET', '/v1/signals', { token: good })).status).toBe(200);
      h.clock.advanceDays(1);
      const expired = await h.call('GET', '/v1/signals', { token: good });
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { code: string }).code).toBe('invalid_token');
    });

    it('stops honouring the token of an agency once it is disabled', async () => {
      const token = await h.token(school);
      await disableAgency(h.deps, school.id);
      expect((await h.call('GET', '/v1/signals', { token })).status).toBe(401);
    });
  });
});

describe('refused sign-ins', () => {
  let h: Harness;
  let school: TestAgency;
  let logs: Array<Record<string, unknown>>;

  beforeEach(async () => {
    logs = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    h = await createHarness({ logger: createLogger('info', sink) });
    school = await h.agency('school');
  });

  const form = (fields: Record<string, string>) =>
    h.call('POST', '/oauth/token', { body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const withAssertion = (assertion: string, extra: Record<string, string> = {}) =>
    form({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...extra });
  const refusals = () =>
    h.rows<{ agencyId: string | null; outcome: string; requestId: string }>(
      `select agency_id as "agencyId", outcome, request_id as "requestId" from audit_log where action = 'token.issue' and outcome != 'ok' order by seq`,
    );
  const refusalLogs = () => logs.filter((l) => l.msg === 'token request refused');

  it('logs the reason and audits a failed token.issue with the claimed client id; the client sees only the bare error', async () => {
    const expired = await h.assertion(school, { lifetimeS: 60 });
    h.clock.advanceDays(1 / 24);
    const res = await withAssertion(expired);
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error).toBe('invalid_client');
    expect(JSON.stringify(body)).not.toMatch(/ERR_|expired|exp\b/i);

    const [record] = await refusals();
    expect(record).toMatchObject({ agencyId: school.id, outcome: 'refused: assertion_ERR_JWT_EXPIRED(exp)', requestId: res.headers.get('x-request-id') });
    const [line] = refusalLogs();
    expect(line).toMatchObject({ clientId: school.id, knownClient: true, error: 'invalid_client', reason: 'assertion_ERR_JWT_EXPIRED(exp)', requestId: record!.requestId });
    expect(line!.level).toBe('warn');
    expect(await verifyAuditChain(h.store.reader)).toMatchObject({ ok: true });
  });

  it('gives each kind of refusal its own reason', async () => {
    const gp = await h.agency('gp');
    const { privateKey } = generateKeyPairSync('ed25519');
    const now = Math.floor(h.clock.now().getTime() / 1000);
    const claims = { iss: school.id, sub: school.id, aud: ISSUER, iat: now, exp: now + 60, jti: 'j1' };
    const replayed = await h.assertion(school);
    expect((await withAssertion(replayed)).status).toBe(200);

    await withAssertion(await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey)); // a key not registered
    await withAssertion(await h.assertion(school, { audience: 'https://other-index.example' }));
    await withAssertion(replayed);
    await withAssertion(await h.assertion(school), { scope: 'admin' });
    await withAssertion(`${b64url({ alg: 'none' })}.${b64url(claims)}.`);
    await withAssertion(await h.assertion(gp), { client_id: school.id });
    await disableAgency(h.deps, gp.id);
    await withAssertion(await h.assertion(gp));
    await form({ grant_type: 'password' });
    await h.call('POST', '/oauth/token', { body: { grant_type: 'client_credentials' } });

    expect((await refusals()).map((r) => [r.agencyId, r.outcome])).toEqual([
      [school.id, 'refused: assertion_signature_invalid'],
      [school.id, 'refused: assertion_ERR_JWT_CLAIM_VALIDATION_FAILED(aud)'],
      [school.id, 'refused: assertion_replayed'],
      [school.id, 'refused: scope_not_granted'],
      [school.id, 'refused: assertion_algorithm_not_allowed'],
      [gp.id, 'refused: client_id_differs_from_issuer'],
      [gp.id, 'refused: agency_disabled'],
      [null, 'refused: unsupported_grant_type'],
      [null, 'refused: not_form_encoded'],
    ]);
    expect(refusalLogs()).toHaveLength(9);
    expect(await verifyAuditChain(h.store.reader)).toMatchObject({ ok: true });
  });

  it('logs an unknown client id (masked where it could be a BSN) but never keeps it in the append-only audit log', async () => {
    const now = Math.floor(h.clock.now().getTime() / 1000);
    const { privateKey } = generateKeyPairSync('ed25519');
    for (const iss of ['agy_nobody', '111222333']) {
      const res = await withAssertion(await new SignJWT({ iss, sub: iss, aud: ISSUER, exp: now + 60, jti: iss }).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey));
      expect(res.status).toBe(401);
    }
    expect(await refusals()).toEqual([
      expect.objectContaining({ agencyId: null, outcome: 'refused: unknown_client' }),
      expect.objectContaining({ agencyId: null, outcome: 'refused: unknown_client' }),
    ]);
    expect(JSON.stringify(await h.rows('select * from audit_log'))).not.toMatch(/agy_nobody|111222333/);
    expect(refusalLogs().map((l) => l.clientId)).toEqual(['agy_nobody', '*********']);
  });
});

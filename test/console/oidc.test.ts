import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ResponseBodyError } from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/app/errors.ts';
import {
  beginOidcSignIn,
  completeOidcSignIn,
  configureAgencyOidc,
  DiscoveryCache,
  type OidcDeps,
  OidcError,
  openPendingOidc,
  removeAgencyOidc,
  sealPendingOidc,
} from '../../src/console/oidc.ts';
import { ephemeralKeyRing } from '../../src/crypto/key-ring.ts';
import { agencyOidcById } from '../../src/store/agency-oidc.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.ts';

/**
 * Console sign-in through an agency's own OpenID provider, against a real oidc-provider on a
 * loopback port. The provider reads the service's public keys from the service itself
 * (/.well-known/jwks.json, served here on another loopback port), as a production provider would.
 */

let h: Harness;
let idp: TestProvider;
let deps: OidcDeps;
let jwksServer: ReturnType<typeof serve>;
let school: string;
let gp: string;
let wij: string;
const redirectUri = 'http://127.0.0.1:9/console/oidc/callback';

beforeAll(async () => {
  h = await createHarness();
  jwksServer = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => jwksServer.once('listening', resolve));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  const otherKeys = await ephemeralKeyRing();
  idp = await startOidcProvider({
    clients: [
      { clientId: 'betrokken', redirectUri, jwksUri },
      // Registered with another key than the service's, under the service key's kid: the
      // provider finds that key and the service's assertions must not verify with it.
      { clientId: 'betrokken-elsewhere', redirectUri, jwks: { keys: otherKeys.jwks().keys.map((k) => ({ ...k, kid: h.keys.currentSigningKey.kid })) } },
    ],
    accounts: {
      'sub-alice': { email: 'Alice@School.example', emailVerified: true, name: 'Alice de Vries' },
      'sub-bob': { email: 'bob@school.example', emailVerified: false, name: 'Bob Bakker' },
    },
  });
  deps = { store: h.store, keys: h.keys, clock: h.clock, oidc: { allowInsecureRequests: true, discoveryCache: new DiscoveryCache() } };
  school = (await h.agency('school')).id;
  gp = (await h.agency('gp')).id;
  wij = (await h.agency('wij')).id;
  await configureAgencyOidc(deps, { agencyId: school, issuer: idp.issuer, clientId: 'betrokken' });
  await configureAgencyOidc(deps, { agencyId: gp, issuer: idp.issuer, clientId: 'betrokken-elsewhere' });
}, 30_000);

afterAll(async () => {
  await idp?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

/** Rejects with an OidcError of that code (a DomainError the console maps like any other). */
async function expectOidcError(promise: Promise<unknown>, code: string): Promise<OidcError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OidcError);
  expect(err).toBeInstanceOf(DomainError);
  expect((err as OidcError).code).toBe(code);
  return err as OidcError;
}

async function signInAs(account: string, agencyId = school) {
  idp.account = account;
  const { url, pending } = await beginOidcSignIn(deps, agencyId, redirectUri);
  const callback = await idp.signIn(url, redirectUri);
  return { url, pending, callback };
}

describe('OIDC sign-in against a real provider', () => {
  it('the code flow with PKCE, state and nonce yields the verified identity', async () => {
    const { url, pending, callback } = await signInAs('sub-alice');
    expect(url.origin).toBe(idp.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'betrokken',
      response_type: 'code',
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      redirect_uri: redirectUri,
    });
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(callback.searchParams.get('code')).toBeTruthy();
    const identity = await completeOidcSignIn(deps, pending, callback);
    expect(identity).toEqual({ issuer: idp.issuer, subject: 'sub-alice', email: 'alice@school.example', emailVerified: true, name: 'Alice de Vries' });
  });

  it('a code is exchanged once: the same callback a second time is refused by the provider', async () => {
    const { pending, callback } = await signInAs('sub-alice');
    await completeOidcSignIn(deps, pending, callback);
    await expectOidcError(completeOidcSignIn(deps, pending, callback), 'oidc_provider_error');
  });

  it('reports an e-mail the provider has not verified as unverified', async () => {
    const { pending, callback } = await signInAs('sub-bob');
    const identity = await completeOidcSignIn(deps, pending, callback);
    expect(identity).toMatchObject({ subject: 'sub-bob', email: 'bob@school.example', emailVerified: false });
  });

  it("refuses a callback whose state is not the pending sign-in's, before the code is spent", async () => {
    const first = await signInAs('sub-alice');
    const other = await beginOidcSignIn(deps, school, redirectUri);
    await expectOidcError(completeOidcSignIn(deps, other.pending, first.callback), 'oidc_state_mismatch');
    const tampered = new URL(first.callback);
    tampered.searchParams.set('state', `${first.pending.state.slice(0, -1)}x`);
    await expectOidcError(completeOidcSignIn(deps, first.pending, tampered), 'oidc_state_mismatch');
    const without = new URL(first.callback);
    without.searchParams.delete('state');
    await expectOidcError(completeOidcSignIn(deps, first.pending, without), 'oidc_state_mismatch');
    // The code was not spent on the refused attempts.
    expect((await completeOidcSignIn(deps, first.pending, first.callback)).subject).toBe('sub-alice');
  });

  it('refuses a pending sign-in older than ten minutes', async () => {
    const { pending, callback } = await signInAs('sub-alice');
    const start = h.clock.now().toISOString();
    try {
      h.clock.set(new Date(Date.parse(start) + 10 * 60_000 + 1).toISOString());
      await expectOidcError(completeOidcSignIn(deps, pending, callback), 'oidc_expired');
      h.clock.set(new Date(Date.parse(start) - 1000).toISOString());
      await expectOidcError(completeOidcSignIn(deps, pending, callback), 'oidc_expired');
    } finally {
      h.clock.set(start);
    }
    expect((await completeOidcSignIn(deps, pending, callback)).subject).toBe('sub-alice');
  });

  it("reports the provider's error answer (the person cancelled at the provider)", async () => {
    const { pending } = await beginOidcSignIn(deps, school, redirectUri);
    const callback = new URL(`${redirectUri}?error=access_denied&state=${pending.state}&iss=${encodeURIComponent(idp.issuer)}`);
    await expectOidcError(completeOidcSignIn(deps, pending, callback), 'oidc_provider_error');
  });

  it('refuses an agency without a provider, at the start and at the callback', async () => {
    await expectOidcError(beginOidcSignIn(deps, wij, redirectUri), 'oidc_not_configured');
    const { pending, callback } = await signInAs('sub-alice');
    await expectOidcError(completeOidcSignIn(deps, { ...pending, agencyId: wij }, callback), 'oidc_not_configured');
  });

  it("refuses a sign-in begun under a provider that the agency's configuration no longer names", async () => {
    const { pending, callback } = await signInAs('sub-alice');
    await expectOidcError(completeOidcSignIn(deps, { ...pending, issuer: 'https://login.elsewhere.example' }, callback), 'oidc_not_configured');
  });
});

describe('client authentication with the service key (private_key_jwt)', () => {
  it("the provider accepts the assertion because it verifies with the service's published JWKS", async () => {
    // The school's client is registered with the service's JWKS URI only; the flow above passed
    // its token endpoint. The key it published is the key ring's own.
    const published = (await (await fetch(`http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(published.keys.map((k) => k.kid)).toEqual([h.keys.currentSigningKey.kid]);
    const { pending, callback } = await signInAs('sub-alice');
    await expect(completeOidcSignIn(deps, pending, callback)).resolves.toMatchObject({ subject: 'sub-alice' });
  });

  it('the provider refuses the assertion when the client is registered with another key', async () => {
    const { pending, callback } = await signInAs('sub-alice', gp);
    const err = await expectOidcError(completeOidcSignIn(deps, pending, callback), 'oidc_provider_error');
    expect(err.cause).toBeInstanceOf(ResponseBodyError);
    expect((err.cause as ResponseBodyError).error).toBe('invalid_client');
    expect(idp.lastGrantError).toMatch(/signature/i);
  });
});

describe('the pending sign-in in a sealed cookie', () => {
  it('opens what it sealed, and nothing altered or sealed under another key ring', async () => {
    const { pending } = await beginOidcSignIn(deps, school, redirectUri);
    const sealed = sealPendingOidc(h.keys, pending);
    expect(sealed).toMatch(/^[\w-]+$/);
    expect(sealed).not.toContain(pending.codeVerifier);
    expect(openPendingOidc(h.keys, sealed)).toEqual(pending);
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[flipped.length - 1]! ^= 1;
    expect(() => openPendingOidc(h.keys, flipped.toString('base64url'))).toThrow(expect.objectContaining({ code: 'oidc_pending_invalid' }));
    expect(() => openPendingOidc(h.keys, '')).toThrow(expect.objectContaining({ code: 'oidc_pending_invalid' }));
    expect(() => openPendingOidc(h.keys, 'not sealed at all')).toThrow(expect.objectContaining({ code: 'oidc_pending_invalid' }));
    const stranger = await ephemeralKeyRing();
    expect(() => openPendingOidc(stranger, sealed)).toThrow(expect.objectContaining({ code: 'oidc_pending_invalid' }));
  });
});

describe('configuring an agency provider', () => {
  it('stores the issuer and client id, audited, and removes them again', async () => {
    const agency = (await h.agency('school')).id;
    const row = await configureAgencyOidc(deps, { agencyId: agency, issuer: idp.issuer, clientId: ' betrokken ' });
    expect(row).toEqual({ agencyId: agency, issuer: idp.issuer, clientId: 'betrokken', createdAt: h.clock.now().toISOString() });
    expect(await agencyOidcById(h.store.reader, agency)).toEqual(row);
    expect(await removeAgencyOidc(deps, agency)).toBe(true);
    expect(await agencyOidcById(h.store.reader, agency)).toBeUndefined();
    expect(await removeAgencyOidc(deps, agency)).toBe(false);
    const actions = await h.rows<{ action: string }>('select action from audit_log where resource = ? order by seq', agency);
    expect(actions.map((a) => a.action)).toEqual(['agency.add', 'agency.oidc_set', 'agency.oidc_remove']);
  });

  it('refuses an unknown agency and an empty client id', async () => {
    await expect(configureAgencyOidc(deps, { agencyId: 'agy_nobody', issuer: idp.issuer, clientId: 'x' })).rejects.toMatchObject({ code: 'agency_not_found' });
    await expect(configureAgencyOidc(deps, { agencyId: wij, issuer: idp.issuer, clientId: '  ' })).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await agencyOidcById(h.store.reader, wij)).toBeUndefined();
  });

  it('refuses http issuers unless on loopback and explicitly allowed (tests only)', async () => {
    const production: OidcDeps = { store: h.store, keys: h.keys, clock: h.clock };
    await expectOidcError(configureAgencyOidc(production, { agencyId: wij, issuer: idp.issuer, clientId: 'betrokken' }), 'oidc_insecure_issuer');
    await expectOidcError(configureAgencyOidc(deps, { agencyId: wij, issuer: 'http://login.agency.example', clientId: 'betrokken' }), 'oidc_insecure_issuer');
    await expectOidcError(configureAgencyOidc(deps, { agencyId: wij, issuer: 'not a url', clientId: 'betrokken' }), 'oidc_insecure_issuer');
    // A sign-in under production options refuses the loopback http issuer configured by a test.
    await expectOidcError(beginOidcSignIn(production, school, redirectUri), 'oidc_insecure_issuer');
    expect(await agencyOidcById(h.store.reader, wij)).toBeUndefined();
  });

  it('refuses an issuer whose discovery cannot be read, storing nothing', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expectOidcError(configureAgencyOidc(deps, { agencyId: wij, issuer: `http://127.0.0.1:${port}`, clientId: 'betrokken' }), 'oidc_discovery_failed');
    expect(await agencyOidcById(h.store.reader, wij)).toBeUndefined();
  });

  it('refuses a provider that cannot authenticate clients with private_key_jwt', async () => {
    const fake = http.createServer((req, res) => {
      const issuer = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          token_endpoint_auth_methods_supported: ['client_secret_basic'],
        }),
      );
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const err = await expectOidcError(
        configureAgencyOidc(deps, { agencyId: wij, issuer: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, clientId: 'betrokken' }),
        'oidc_discovery_failed',
      );
      expect(err.message).toMatch(/private_key_jwt/);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
    expect(await agencyOidcById(h.store.reader, wij)).toBeUndefined();
  });

  it('reads discovery once per issuer while the cache holds it, and again after its TTL', async () => {
    const cache = new DiscoveryCache(60_000);
    const cached: OidcDeps = { ...deps, oidc: { allowInsecureRequests: true, discoveryCache: cache } };
    const before = idp.discoveryReads;
    await beginOidcSignIn(cached, school, redirectUri);
    await beginOidcSignIn(cached, school, redirectUri);
    await beginOidcSignIn(cached, gp, redirectUri);
    expect(idp.discoveryReads - before).toBe(1);
    const start = h.clock.now().toISOString();
    try {
      h.clock.set(new Date(Date.parse(start) + 60_001).toISOString());
      await beginOidcSignIn(cached, school, redirectUri);
    } finally {
      h.clock.set(start);
    }
    expect(idp.discoveryReads - before).toBe(2);
  });
});

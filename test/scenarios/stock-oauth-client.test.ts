import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAgency } from '../../src/app/agencies.ts';
import { parseAgencyPublicKey } from '../../src/crypto/agency-keys.ts';
import { createHarness, type Harness, signalBody, TestClock, validBsn } from '../support/harness.ts';

/** openid-client signs with the real time, so the service must read it too. */
class RealClock extends TestClock {
  override now(): Date {
    return new Date();
  }
}

/**
 * The service on a real loopback listener, whose issuer is its own URL, and a stock OAuth client
 * (openid-client 6) that knows nothing but that URL, its client id and its private key.
 */
describe('a stock OAuth client (openid-client) through discovery', () => {
  let server: http.Server;
  let h: Harness;
  let issuer: string;

  beforeAll(async () => {
    let handle: http.RequestListener = (_req, res) => res.writeHead(503).end();
    server = http.createServer((req, res) => handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h = await createHarness({ issuer, clock: new RealClock() });
    handle = getRequestListener(h.app.fetch);
    await h.agency('wij', { districts: ['selwerd'] });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Registers an agency with the public half of a fresh WebCrypto key pair; the client keeps the private half. */
  async function agencyWithKey(type: string, algorithm: EcKeyGenParams | { name: 'Ed25519' }) {
    const pair = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', pair.publicKey)).toString('base64');
    const pem = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
    const rec = await addAgency(h.deps, { name: `${type} ${algorithm.name}`, type, municipality: '0014', districts: [], grants: [], publicKey: await parseAgencyPublicKey(pem) });
    return { id: rec.id, privateKey: pair.privateKey };
  }

  it('publishes RFC 8414 metadata naming private_key_jwt, its algorithms, the JWKS and the scopes', async () => {
    const res = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const meta = (await res.json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    });
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['EdDSA', 'Ed25519', 'ES256']));
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['signals:write', 'notices:read', 'matches:coordinate']));
    expect(((await (await fetch(meta.jwks_uri as string)).json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  it.each([
    ['Ed25519', { name: 'Ed25519' } as const, 'school'],
    ['P-256', { name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams, 'gp'],
  ])('gets a token with an %s key and calls the API with it', async (_label, algorithm, type) => {
    const agency = await agencyWithKey(type, algorithm);
    const config = await client.discovery(new URL(issuer), agency.id, undefined, client.PrivateKeyJwt(agency.privateKey), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests], // the test listener is loopback http
    });
    expect(config.serverMetadata().token_endpoint).toBe(`${issuer}/oauth/token`);

    const token = await client.clientCredentialsGrant(config, { scope: 'signals:write signals:read' });
    expect(token.token_type.toLowerCase()).toBe('bearer');
    expect(token.scope).toBe('signals:write signals:read');
    expect(token.expiresIn()).toBeGreaterThan(0);

    const headers = { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' };
    const created = await fetch(`${issuer}/v1/signals`, { method: 'POST', headers, body: JSON.stringify(signalBody(validBsn(type === 'school' ? 1 : 2))) });
    expect(created.status, await created.clone().text()).toBe(201);
    const listed = (await (await fetch(`${issuer}/v1/signals`, { headers })).json()) as { items: Array<{ id: string }> };
    expect(listed.items.map((s) => s.id)).toEqual([((await created.json()) as { id: string }).id]);

    // The grant was audited for the agency, with the key it used.
    const audited = await h.rows<{ agency_id: string; outcome: string }>("select agency_id, outcome from audit_log where action = 'token.issue'");
    expect(audited).toContainEqual({ agency_id: agency.id, outcome: 'ok' });
  });
});

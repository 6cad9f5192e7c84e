import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
// oidc-provider ships no types; what this file uses is declared in oidc-provider-module.d.ts beside it.
import Provider from 'oidc-provider';

/**
 * A real, certified OpenID provider (oidc-provider) on a free loopback port, for the console's
 * OIDC sign-in. Its clients authenticate with private_key_jwt against the JWKS each registers
 * (a URI, as a production provider would have it, or the keys themselves). The login and consent
 * a person would do at the provider are done by the provider itself for `account`, the person
 * the test says signs in next; `signIn` drives the browser's part through redirects with a
 * cookie jar.
 */

export interface TestAccount {
  email: string;
  emailVerified: boolean;
  name: string;
}

export interface TestClient {
  clientId: string;
  redirectUri: string;
  /** Where the provider reads the client's public keys, or the keys themselves. */
  jwksUri?: string;
  jwks?: { keys: JWK[] };
}

export interface TestProvider {
  issuer: string;
  /** The account the next interaction signs in (a key of `accounts`). */
  account: string;
  /** Why the provider last refused a token request (its error_detail), for assertions. */
  lastGrantError?: string;
  /** How many times the discovery document was read. */
  discoveryReads: number;
  /** Follows the authorization URL through the provider's login and consent; the callback URL it ends at. */
  signIn(authorizationUrl: URL | string, redirectUri: string): Promise<URL>;
  close(): Promise<void>;
}

/**
 * A self-signed certificate for 127.0.0.1 (made with openssl), for a provider served over https:
 * a process that trusts `certFile` (NODE_EXTRA_CA_CERTS) reaches it as a production issuer.
 */
export function loopbackCertificate(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'idp-key.pem');
  const certFile = path.join(dir, 'idp-cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'pipe' });
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

export async function startOidcProvider(opts: {
  clients: TestClient[];
  accounts: Record<string, TestAccount>;
  /** Serve over https with this certificate (from `loopbackCertificate`); http otherwise. */
  tls?: { key: string; cert: string };
}): Promise<TestProvider> {
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }) : http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'idp-1' };

  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      redirect_uris: [c.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      ...(c.jwksUri ? { jwks_uri: c.jwksUri } : { jwks: c.jwks }),
    })),
    jwks: { keys: [signingJwk] },
    cookies: { keys: ['test-provider-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    // The provider refuses to fetch from special-use addresses (its SSRF guard); here the
    // service's JWKS is on loopback, so its requests go out without that dispatcher.
    fetch: (url: string, { dispatcher: _guard, ...init }: RequestInit & { dispatcher?: unknown }) => fetch(url, init),
    async findAccount(_ctx: unknown, sub: string) {
      const account = opts.accounts[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, email: account.email, email_verified: account.emailVerified, name: account.name }) };
    },
  });

  provider.on('grant.error', (_ctx: unknown, err: Error & { error_detail?: string }) => {
    test.lastGrantError = err.error_detail ?? err.message;
  });
  const test: TestProvider = {
    issuer,
    account: Object.keys(opts.accounts)[0]!,
    discoveryReads: 0,
    signIn: (url, redirectUri) => followToCallback(new URL(url), redirectUri),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  // The login and consent pages, answered at once for `test.account` with every scope asked for.
  const callback = provider.callback();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/.well-known/openid-configuration') test.discoveryReads++;
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      const accountId = test.account;
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id as string });
      grant.addOIDCScope(details.params.scope as string);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    })().catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  return test;
}

/** Follows redirects as a browser would, with a cookie jar, until one goes to `redirectUri`. */
async function followToCallback(start: URL, redirectUri: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 10; hop++) {
    if (url.href.startsWith(redirectUri)) return url;
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`the provider stopped at ${url.pathname} with ${res.status}: ${(await res.text()).slice(0, 300)}`);
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}

import * as client from 'openid-client';
import { type Clock, reader, withTransaction } from '../app/context.ts';
import { DomainError, type ErrorKind, notFound } from '../app/errors.ts';
import type { KeyRing } from '../crypto/key-ring.ts';
import { agencyById } from '../store/agencies.ts';
import { type AgencyOidcRow, agencyOidcById, deleteAgencyOidc, putAgencyOidc } from '../store/agency-oidc.ts';
import { appendAudit } from '../store/audit.ts';
import type { Store } from '../store/db.ts';

/**
 * An agency's own OpenID provider: configuring it (its discovery document checked first), and the
 * openid-client configuration a sign-in runs on, with the client authenticating by
 * private_key_jwt under the service's current signing key (the provider registers the service's
 * JWKS URI, /.well-known/jwks.json).
 */

/** Every code an OIDC failure carries, so that the console maps each one to a message. */
export type OidcErrorCode =
  | 'oidc_not_configured' // the agency has no provider (or it changed during the sign-in)
  | 'oidc_insecure_issuer' // not https, and not a loopback issuer explicitly allowed
  | 'oidc_discovery_failed' // the provider's discovery cannot be read or lacks what sign-in needs
  | 'oidc_state_mismatch' // the callback's state is not the pending sign-in's
  | 'oidc_pending_invalid' // the pending sign-in (a sealed cookie) does not open
  | 'oidc_expired' // the pending sign-in is older than ten minutes
  | 'oidc_provider_error'; // the provider answered with an error, or its answer did not verify

const KIND: Record<OidcErrorCode, ErrorKind> = {
  oidc_not_configured: 'not_found',
  oidc_insecure_issuer: 'invalid',
  oidc_discovery_failed: 'unprocessable',
  oidc_state_mismatch: 'unauthenticated',
  oidc_pending_invalid: 'unauthenticated',
  oidc_expired: 'unauthenticated',
  oidc_provider_error: 'unauthenticated',
};

/** A failed OIDC configuration or sign-in; `code` says which. Messages name no person. */
export class OidcError extends DomainError {
  declare readonly code: OidcErrorCode;
  constructor(code: OidcErrorCode, message: string, options?: { cause?: unknown }) {
    super(KIND[code], code, message);
    this.name = 'OidcError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export interface OidcOptions {
  /**
   * Lets openid-client speak plain http to an issuer on a loopback address (127.0.0.1, ::1,
   * localhost), for tests with a local provider. Production wiring leaves it off; an http issuer
   * on any other host is refused whatever this says.
   */
  allowInsecureRequests?: boolean;
  /** Where discovery documents are kept between sign-ins; a process-wide cache otherwise. */
  discoveryCache?: DiscoveryCache;
  /** Seconds to wait for the provider (default 10). */
  timeoutS?: number;
}

/** What the OIDC functions need of the service: a subset of Deps, plus OIDC options. */
export interface OidcDeps {
  store: Store;
  keys: KeyRing;
  clock: Clock;
  oidc?: OidcOptions;
}

/** Discovery documents by issuer, kept for `ttlMs` (an hour by default); failures are not kept. */
export class DiscoveryCache {
  readonly #entries = new Map<string, { metadata: client.ServerMetadata; until: number }>();
  constructor(readonly ttlMs = 3_600_000) {}

  get(issuer: string, now: Date): client.ServerMetadata | undefined {
    const entry = this.#entries.get(issuer);
    if (entry && entry.until > now.getTime()) return entry.metadata;
    this.#entries.delete(issuer);
    return undefined;
  }

  set(issuer: string, metadata: client.ServerMetadata, now: Date): void {
    this.#entries.set(issuer, { metadata, until: now.getTime() + this.ttlMs });
  }

  /** Forgets an issuer (after its configuration changed). */
  delete(issuer: string): void {
    this.#entries.delete(issuer);
  }
}

const sharedCache = new DiscoveryCache();

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The issuer as a URL: https, or http on a loopback host when the options allow it. */
export function issuerUrl(issuer: string, opts: OidcOptions = {}): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new OidcError('oidc_insecure_issuer', `the issuer ${JSON.stringify(issuer)} is not a URL`);
  }
  if (url.search || url.hash || url.username || url.password) throw new OidcError('oidc_insecure_issuer', 'an issuer has no query, fragment or credentials');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname) && opts.allowInsecureRequests) return url;
  throw new OidcError('oidc_insecure_issuer', `the issuer ${url.origin} must use https (http only on a loopback address, and only where explicitly allowed for tests)`);
}

/** Refuses a discovery document that cannot carry a code flow with PKCE and private_key_jwt. */
function checkMetadata(m: client.ServerMetadata): void {
  const lacks: string[] = [];
  if (!m.authorization_endpoint) lacks.push('authorization_endpoint');
  if (!m.token_endpoint) lacks.push('token_endpoint');
  if (!m.jwks_uri) lacks.push('jwks_uri');
  if (m.response_types_supported && !m.response_types_supported.includes('code')) lacks.push('response type code');
  if (m.code_challenge_methods_supported && !m.code_challenge_methods_supported.includes('S256')) lacks.push('PKCE with S256');
  // Absent, the default is client_secret_basic alone (OpenID Connect Discovery 1.0, section 3).
  if (!(m.token_endpoint_auth_methods_supported ?? []).includes('private_key_jwt')) lacks.push('token_endpoint_auth_method private_key_jwt');
  const algs = m.token_endpoint_auth_signing_alg_values_supported;
  if (algs && !algs.includes('EdDSA') && !algs.includes('Ed25519')) lacks.push('client assertions signed with EdDSA (Ed25519)');
  if (m.scopes_supported && !m.scopes_supported.includes('openid')) lacks.push('scope openid');
  if (lacks.length) throw new OidcError('oidc_discovery_failed', `the provider ${m.issuer} does not offer ${lacks.join(', ')}`);
}

function timeoutOf(opts: OidcOptions): number {
  return opts.timeoutS ?? 10;
}

/** The provider's discovery document, from the cache or read and checked now. */
export async function discoverIssuer(deps: OidcDeps, issuer: string, opts: { fresh?: boolean } = {}): Promise<client.ServerMetadata> {
  const options = deps.oidc ?? {};
  const cache = options.discoveryCache ?? sharedCache;
  const now = deps.clock.now();
  const cached = opts.fresh ? undefined : cache.get(issuer, now);
  if (cached) return cached;
  const url = issuerUrl(issuer, options);
  let metadata: client.ServerMetadata;
  try {
    const found = await client.discovery(url, 'discovery', undefined, undefined, {
      timeout: timeoutOf(options),
      ...(url.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
    });
    metadata = { ...found.serverMetadata() };
  } catch (err) {
    throw new OidcError('oidc_discovery_failed', `the discovery document of ${issuer} cannot be read: ${describeFailure(err)}`, { cause: err });
  }
  checkMetadata(metadata);
  cache.set(issuer, metadata, now);
  return metadata;
}

/** An error of openid-client (or the network) in a few words, without a response body. */
export function describeFailure(err: unknown): string {
  if (err instanceof client.ResponseBodyError) return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  if (err instanceof client.AuthorizationResponseError) return err.error;
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof e.cause?.code === 'string' ? e.cause.code : typeof e.code === 'string' ? e.code : undefined;
  return [typeof e.message === 'string' ? e.message : 'error', code && !String(e.message).includes(code) ? `(${code})` : ''].filter(Boolean).join(' ');
}

/**
 * The openid-client configuration for the agency's provider: its discovery (cached), its client
 * id, and private_key_jwt with the service's current signing key. The assertion's header says
 * `EdDSA`, the alg of the key in the service's JWKS, which providers know longer than `Ed25519`.
 */
export async function clientConfiguration(deps: OidcDeps, row: AgencyOidcRow): Promise<client.Configuration> {
  const metadata = await discoverIssuer(deps, row.issuer);
  const key = deps.keys.currentSigningKey;
  const auth = client.PrivateKeyJwt(
    { key: key.privateKey, kid: key.kid },
    {
      [client.modifyAssertion]: (header) => {
        header.alg = 'EdDSA';
      },
    },
  );
  const config = new client.Configuration(metadata, row.clientId, { token_endpoint_auth_method: 'private_key_jwt' }, auth);
  config.timeout = timeoutOf(deps.oidc ?? {});
  if (issuerUrl(row.issuer, deps.oidc).protocol === 'http:') client.allowInsecureRequests(config);
  return config;
}

/** The agency's provider, or OidcError oidc_not_configured. */
export async function requireAgencyOidc(deps: OidcDeps, agencyId: string): Promise<AgencyOidcRow> {
  const row = await agencyOidcById(reader(deps), agencyId);
  if (!row) throw new OidcError('oidc_not_configured', `agency ${agencyId} has no OpenID provider configured`);
  return row;
}

/**
 * Sets the agency's OpenID provider (an operator's verb), after reading its discovery document
 * afresh: an issuer that cannot be reached, or that cannot do a code flow with PKCE and
 * private_key_jwt, is refused and nothing is stored. Audited as `agency.oidc_set`.
 */
export async function configureAgencyOidc(deps: OidcDeps, input: { agencyId: string; issuer: string; clientId: string }): Promise<AgencyOidcRow> {
  if (!(await agencyById(reader(deps), input.agencyId))) throw notFound('agency_not_found', `no agency ${input.agencyId}`);
  const clientId = input.clientId.trim();
  if (!clientId) throw new DomainError('invalid', 'validation_failed', 'a client id is needed');
  const metadata = await discoverIssuer(deps, input.issuer, { fresh: true });
  const at = deps.clock.now().toISOString();
  // The issuer as the provider names itself (openid-client checked that it is the one asked for).
  const row: AgencyOidcRow = { agencyId: input.agencyId, issuer: metadata.issuer, clientId, createdAt: at };
  await withTransaction(deps, async (tx) => {
    if (!(await agencyById(tx, input.agencyId))) throw notFound('agency_not_found', `no agency ${input.agencyId}`);
    await putAgencyOidc(tx, row);
    await appendAudit(tx, { at, agencyId: null, actor: 'operator', action: 'agency.oidc_set', subject: null, resource: input.agencyId, outcome: 'ok', requestId: null });
  });
  return row;
}

/** Removes the agency's OpenID provider; false when it had none. Audited as `agency.oidc_remove`. */
export async function removeAgencyOidc(deps: OidcDeps, agencyId: string): Promise<boolean> {
  const at = deps.clock.now().toISOString();
  return withTransaction(deps, async (tx) => {
    if (!(await agencyById(tx, agencyId))) throw notFound('agency_not_found', `no agency ${agencyId}`);
    const removed = await deleteAgencyOidc(tx, agencyId);
    if (removed) await appendAudit(tx, { at, agencyId: null, actor: 'operator', action: 'agency.oidc_remove', subject: null, resource: agencyId, outcome: 'ok', requestId: null });
    return removed;
  });
}

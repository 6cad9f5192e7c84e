import type { Logger } from 'pino';
import type { ApiContact } from '../config.ts';
import type { KeyRing } from '../crypto/key-ring.ts';
import type { AgencyType, Policy, Scope } from '../policy/types.ts';
import type { Metrics } from '../metrics.ts';
import type { Store, Tx } from '../store/db.ts';
import { forbidden } from './errors.ts';

/** Time is injected, so that tests can move it by years. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Everything a use case may touch; built once at the wiring point. */
export interface Deps {
  /** The database: transactions and the reader (SQLite or PostgreSQL). */
  store: Store;
  keys: KeyRing;
  policy: Policy;
  clock: Clock;
  logger: Logger;
  /** Issuer of access tokens and audience of client assertions. */
  issuer: string;
  metrics: Metrics;
  /** Host names the operator allows as webhook destinations though they are in a refused range. */
  webhookAllowedHosts?: readonly string[];
  /** `info.contact` of the OpenAPI document; without it, a service desk at the issuer's host. */
  contact?: ApiContact;
}

export type { Tx };

/**
 * Runs a use case's reads and writes as one transaction of the store: committed when `fn`
 * resolves, rolled back when it throws. A use case that calls another passes its `tx` down
 * instead of calling this again (a nested call would wait for the outer transaction forever).
 */
export function withTransaction<T>(deps: Pick<Deps, 'store'>, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return deps.store.transaction(fn);
}

/** Where a use case reads outside a transaction (what was last committed). */
export function reader(deps: Pick<Deps, 'store'>): Tx {
  return deps.store.reader;
}

/** Who acts: an authenticated agency with the scopes of its token, and the professional it names. */
export interface Actor {
  agencyId: string;
  agencyType: AgencyType;
  scopes: ReadonlySet<Scope>;
  professional: string | null;
}

export interface Ctx {
  deps: Deps;
  actor: Actor;
  requestId: string | null;
}

/** The first line of a use case: the actor must hold the scope. */
export function requireScope(ctx: Ctx, scope: Scope): void {
  if (!ctx.actor.scopes.has(scope)) throw forbidden('insufficient_scope', `this requires the scope ${scope}`);
}

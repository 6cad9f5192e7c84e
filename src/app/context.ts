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

/** The periodic jobs; each runs as a system actor of its name. */
export const JOBS = ['retention', 'escalation', 'reminders'] as const;
export type JobName = (typeof JOBS)[number];

/** An authenticated agency with the scopes of its token (or its professional's roles), and the professional it names. */
export interface AgencyActor {
  kind: 'agency';
  agencyId: string;
  agencyType: AgencyType;
  scopes: ReadonlySet<Scope>;
  professional: string | null;
}

/** The service itself, running one periodic job: it may perform that job's verbs and nothing else. */
export interface SystemActor {
  kind: 'system';
  job: JobName;
}

/** Who acts. */
export type Actor = AgencyActor | SystemActor;

/** The actor of an agency (the API's bearer, the console's professional). */
export function agencyActor(a: Omit<AgencyActor, 'kind'>): AgencyActor {
  return { kind: 'agency', ...a };
}

/**
 * What a use case runs with. An agency's by default: the verbs agencies perform take `Ctx`; the
 * jobs' verbs take `Ctx<Actor>` and let only the system actor of their job through (`requireJob`).
 */
export interface Ctx<A extends Actor = AgencyActor> {
  deps: Deps;
  actor: A;
  requestId: string | null;
}

/** The context a job's verbs run in: the service as the job's actor, with no request. */
export function systemCtx(deps: Deps, job: JobName): Ctx<SystemActor> {
  return { deps, actor: { kind: 'system', job }, requestId: null };
}

/** The first line of an agency's use case: the actor must be an agency holding the scope. */
export function requireScope(ctx: Ctx<Actor>, scope: Scope): asserts ctx is Ctx<AgencyActor> {
  if (ctx.actor.kind !== 'agency' || !ctx.actor.scopes.has(scope)) throw forbidden('insufficient_scope', `this requires the scope ${scope}`);
}

/** The first line of a job's use case: only the service running that job may perform it, never an agency. */
export function requireJob(ctx: Ctx<Actor>, job: JobName): asserts ctx is Ctx<SystemActor> {
  if (ctx.actor.kind !== 'system' || ctx.actor.job !== job) throw forbidden('system_actor_required', `only the ${job} job may do this`);
}

/** How the audit log names an actor: an agency and its professional, or `system:<job>` without an agency. */
export function auditedActor(actor: Actor): { agencyId: string | null; actor: string | null } {
  return actor.kind === 'agency' ? { agencyId: actor.agencyId, actor: actor.professional } : { agencyId: null, actor: `system:${actor.job}` };
}

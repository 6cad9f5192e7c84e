import { and, asc, eq, inArray, isNull, or } from 'drizzle-orm';
import { agencies, agencyKeys, matches, signals } from '../../schema/tables.ts';
import type { AgencyPublicKey } from '../crypto/agency-keys.ts';
import { newId } from '../crypto/ids.ts';
import { AGENCY_TYPES, type AgencyType, SCOPES, type Scope } from '../policy/types.ts';
import { appendAudit } from '../store/audit.ts';
import { type Db, inTransaction, type Tx } from '../store/db.ts';
import { cancelPendingDeliveries, unqueueDeliveries } from '../store/notices.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import type { Clock, Deps } from './context.ts';
import { conflict, invalid, notFound } from './errors.ts';
import { LIVE_STATUSES, reconcileMatch } from './matching.ts';

/** Agency administration: operators' verbs, called from the command line. */

export interface AgencyRecord {
  id: string;
  name: string;
  type: AgencyType;
  municipality: string;
  districts: string[];
  grants: string[];
  webhookUrl: string | null;
  status: 'active' | 'disabled';
  createdAt: string;
  keys: Array<{ kid: string; alg: string; createdAt: string; revokedAt: string | null }>;
}

export interface AddAgencyInput {
  name: string;
  type: string;
  municipality: string;
  districts: string[];
  publicKey: AgencyPublicKey;
  webhookUrl?: string;
  grants: string[];
}

interface AdminDeps {
  db: Db;
  clock: Clock;
}

/** Webhook URLs must be https, except on loopback for local testing. */
export function checkWebhookUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('invalid_webhook_url', 'the webhook URL is not a URL');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) || u.hostname.startsWith('127.');
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw invalid('invalid_webhook_url', 'webhook URLs must use https (http only on loopback)');
  }
  if (u.username || u.password) throw invalid('invalid_webhook_url', 'a webhook URL must not carry credentials');
  return u.toString();
}

function auditAdmin(tx: Tx, deps: AdminDeps, action: string, resource: string, outcome = 'ok'): void {
  appendAudit(tx, { at: deps.clock.now().toISOString(), agencyId: null, actor: 'operator', action, subject: null, resource, outcome, requestId: null });
}

function loadAgency(tx: Tx | Db, id: string): AgencyRecord {
  const row = tx.select().from(agencies).where(eq(agencies.id, id)).get();
  if (!row) throw notFound('agency_not_found', `no agency ${id}`);
  const keys = tx
    .select({ kid: agencyKeys.id, alg: agencyKeys.alg, createdAt: agencyKeys.createdAt, revokedAt: agencyKeys.revokedAt })
    .from(agencyKeys)
    .where(eq(agencyKeys.agencyId, id))
    .orderBy(asc(agencyKeys.createdAt))
    .all();
  return { ...row, type: row.type as AgencyType, keys };
}

export function addAgency(deps: AdminDeps, input: AddAgencyInput): AgencyRecord {
  if (!input.name.trim()) throw invalid('validation_failed', 'an agency needs a name');
  if (!(AGENCY_TYPES as readonly string[]).includes(input.type)) {
    throw invalid('unknown_agency_type', `type must be one of ${AGENCY_TYPES.join(', ')}`);
  }
  if (!/^\d{4}$/.test(input.municipality)) throw invalid('validation_failed', 'municipality is a four-digit CBS code');
  const districts = [...new Set(input.districts.map((d) => d.trim().toLowerCase()))];
  for (const d of districts) {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(d)) throw invalid('validation_failed', `district "${d}" is not a district name`);
  }
  for (const g of input.grants) {
    if (!(SCOPES as readonly string[]).includes(g)) throw invalid('unknown_scope', `scope must be one of ${SCOPES.join(', ')}`);
  }
  const webhookUrl = input.webhookUrl ? checkWebhookUrl(input.webhookUrl) : null;
  const now = deps.clock.now();
  const id = newId('agy', now);
  return inTransaction(deps.db, (tx) => {
    tx.insert(agencies)
      .values({
        id,
        name: input.name.trim(),
        type: input.type,
        municipality: input.municipality,
        districts,
        grants: [...new Set(input.grants)] as Scope[],
        webhookUrl,
        status: 'active',
        createdAt: now.toISOString(),
      })
      .run();
    insertKey(tx, id, input.publicKey, now);
    auditAdmin(tx, deps, 'agency.add', id);
    return loadAgency(tx, id);
  });
}

function insertKey(tx: Tx, agencyId: string, key: AgencyPublicKey, now: Date): void {
  const taken = tx.select({ id: agencyKeys.id }).from(agencyKeys).where(eq(agencyKeys.id, key.kid)).get();
  if (taken) throw conflict('key_already_registered', 'this public key is already registered');
  tx.insert(agencyKeys).values({ id: key.kid, agencyId, jwk: key.jwk as Record<string, unknown>, alg: key.alg, createdAt: now.toISOString() }).run();
}

export function addAgencyKey(deps: AdminDeps, agencyId: string, key: AgencyPublicKey): AgencyRecord {
  return inTransaction(deps.db, (tx) => {
    loadAgency(tx, agencyId);
    insertKey(tx, agencyId, key, deps.clock.now());
    auditAdmin(tx, deps, 'agency.key_add', agencyId);
    return loadAgency(tx, agencyId);
  });
}

/**
 * The subjects whose match a change of the agency's status can alter: those it has an active
 * signal for, and, for a WIJ team or a municipality, every live match in its municipality (it may
 * coordinate them, or take them back when it is enabled again).
 */
function subjectsTouchedBy(tx: Tx, agency: AgencyRecord): string[] {
  const ids = new Set<string>();
  const own = tx.selectDistinct({ id: signals.subjectId }).from(signals).where(and(eq(signals.agencyId, agency.id), eq(signals.status, 'active'))).all();
  for (const r of own) ids.add(r.id);
  const live = inArray(matches.status, [...LIVE_STATUSES]);
  const routed =
    agency.type === 'wij' || agency.type === 'municipality'
      ? or(eq(matches.municipality, agency.municipality), eq(matches.coordinatorId, agency.id), eq(matches.escalatedTo, agency.id))
      : or(eq(matches.coordinatorId, agency.id), eq(matches.escalatedTo, agency.id));
  for (const r of tx.select({ id: matches.subjectId }).from(matches).where(and(live, routed)).all()) ids.add(r.id);
  return [...ids].sort();
}

/**
 * Disables or enables an agency in one transaction. A disabled agency takes no part in any
 * decision: its active signals are suspended (kept active, counted for no match) and resume when
 * it is enabled again; it is sent nothing from then on (queued webhook deliveries are cancelled),
 * its tokens stop working and it gets no new ones. Every match it is part of, coordinates or was
 * escalated to is reconciled at once, so the other parties hear of the change as the policy
 * allows, exactly as if the agency had withdrawn (or registered again).
 */
function setAgencyStatus(deps: Deps, agencyId: string, status: 'active' | 'disabled'): AgencyRecord {
  const action = status === 'active' ? 'agency.enable' : 'agency.disable';
  return inTransaction(deps.db, (tx) => {
    const before = loadAgency(tx, agencyId);
    if (before.status === status) {
      auditAdmin(tx, deps, action, agencyId, 'unchanged');
      return before;
    }
    tx.update(agencies).set({ status }).where(eq(agencies.id, agencyId)).run();
    if (status === 'disabled') cancelPendingDeliveries(tx, agencyId, 'agency disabled');
    for (const subjectId of subjectsTouchedBy(tx, before)) {
      const { dataKey, pseudonym } = loadSubjectKey(tx, deps.keys, subjectId);
      reconcileMatch(tx, deps, { subjectId, dataKey, pseudonym }, null);
    }
    auditAdmin(tx, deps, action, agencyId);
    return loadAgency(tx, agencyId);
  });
}

export function disableAgency(deps: Deps, agencyId: string): AgencyRecord {
  return setAgencyStatus(deps, agencyId, 'disabled');
}

export function enableAgency(deps: Deps, agencyId: string): AgencyRecord {
  return setAgencyStatus(deps, agencyId, 'active');
}

/**
 * Revokes one of an agency's keys: assertions signed with it are refused (`invalid_client`) and
 * access tokens it earned stop working at once. Revoking twice changes nothing.
 */
export function revokeAgencyKey(deps: AdminDeps, agencyId: string, kid: string): AgencyRecord {
  return inTransaction(deps.db, (tx) => {
    loadAgency(tx, agencyId);
    const key = tx.select({ revokedAt: agencyKeys.revokedAt }).from(agencyKeys).where(and(eq(agencyKeys.id, kid), eq(agencyKeys.agencyId, agencyId))).get();
    if (!key) throw notFound('key_not_found', `agency ${agencyId} has no key ${kid}`);
    if (!key.revokedAt) tx.update(agencyKeys).set({ revokedAt: deps.clock.now().toISOString() }).where(eq(agencyKeys.id, kid)).run();
    auditAdmin(tx, deps, 'agency.key_revoke', `${agencyId}/${kid}`, key.revokedAt ? 'unchanged' : 'ok');
    return loadAgency(tx, agencyId);
  });
}

export function setAgencyWebhook(deps: AdminDeps, agencyId: string, url: string | null): AgencyRecord {
  const webhookUrl = url ? checkWebhookUrl(url) : null;
  return inTransaction(deps.db, (tx) => {
    loadAgency(tx, agencyId);
    tx.update(agencies).set({ webhookUrl }).where(eq(agencies.id, agencyId)).run();
    // Without a webhook, queued notices stay in the inbox only.
    if (!webhookUrl) unqueueDeliveries(tx, agencyId);
    auditAdmin(tx, deps, webhookUrl ? 'agency.webhook' : 'agency.webhook_remove', agencyId);
    return loadAgency(tx, agencyId);
  });
}

export function listAgencies(deps: AdminDeps): AgencyRecord[] {
  return deps.db
    .select({ id: agencies.id })
    .from(agencies)
    .orderBy(asc(agencies.id))
    .all()
    .map((r) => loadAgency(deps.db, r.id));
}

/** Whether an agency of that id is registered, active or not. */
export function agencyExists(db: Db, agencyId: string): boolean {
  return db.select({ id: agencies.id }).from(agencies).where(eq(agencies.id, agencyId)).get() !== undefined;
}

/** The active agency and its usable public keys, for authentication. */
export function findActiveAgencyWithKeys(db: Db, agencyId: string) {
  const agency = db.select().from(agencies).where(and(eq(agencies.id, agencyId), eq(agencies.status, 'active'))).get();
  if (!agency) return undefined;
  const keys = db
    .select({ kid: agencyKeys.id, alg: agencyKeys.alg, jwk: agencyKeys.jwk })
    .from(agencyKeys)
    .where(and(eq(agencyKeys.agencyId, agencyId), isNull(agencyKeys.revokedAt)))
    .all();
  return { agency: { ...agency, type: agency.type as AgencyType }, keys };
}

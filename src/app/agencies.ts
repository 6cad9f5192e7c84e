import { randomBytes } from 'node:crypto';
import type { AgencyPublicKey } from '../crypto/agency-keys.ts';
import { newId } from '../crypto/ids.ts';
import type { KeyRing } from '../crypto/key-ring.ts';
import { AGENCY_TYPES, type AgencyType, SCOPES, type Scope } from '../policy/types.ts';
import {
  activeAgencyById,
  agencyById,
  agencyIds,
  agencyKey,
  agencyKeyRegistered,
  insertAgency,
  insertAgencyKey,
  keysOfAgency,
  revokeAgencyKeyAt,
  setAgencyStatusTo,
  setAgencyWebhookTo,
  subjectsOfMatchesRoutedTo,
  subjectsWithActiveSignalOf,
  usableKeysOfAgency,
} from '../store/agencies.ts';
import { appendAudit } from '../store/audit.ts';
import type { Store, Tx } from '../store/db.ts';
import { cancelPendingDeliveries, unqueueDeliveries } from '../store/notices.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { type Clock, type Deps, withTransaction } from './context.ts';
import { conflict, invalid, notFound } from './errors.ts';
import { LIVE_STATUSES, reconcileMatch } from './matching.ts';
import { checkWebhookUrl } from './webhook-url.ts';

/** Agency administration: operators' verbs, called from the command line. */

export interface AgencyRecord {
  id: string;
  name: string;
  type: AgencyType;
  municipality: string;
  districts: string[];
  grants: string[];
  webhookUrl: string | null;
  /** How deliveries are signed: `v1a` (Ed25519, the service's key) alone, or also `v1` (HMAC, the agency's secret). */
  webhookSigning: 'v1a' | 'v1+v1a' | null;
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
  store: Store;
  clock: Clock;
  /** Host names the operator allows as webhook destinations even in a refused address range. */
  webhookAllowedHosts?: readonly string[];
}

async function auditAdmin(tx: Tx, deps: AdminDeps, action: string, resource: string, outcome = 'ok'): Promise<void> {
  await appendAudit(tx, { at: deps.clock.now().toISOString(), agencyId: null, actor: 'operator', action, subject: null, resource, outcome, requestId: null });
}

async function loadAgency(tx: Tx, id: string): Promise<AgencyRecord> {
  const found = await agencyById(tx, id);
  if (!found) throw notFound('agency_not_found', `no agency ${id}`);
  const { webhookSecret, ...row } = found;
  const keys = await keysOfAgency(tx, id);
  const webhookSigning = row.webhookUrl ? (webhookSecret ? 'v1+v1a' : 'v1a') : null;
  return { ...row, type: row.type as AgencyType, webhookSigning, keys };
}

export async function addAgency(deps: AdminDeps, input: AddAgencyInput): Promise<AgencyRecord> {
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
  const webhookUrl = input.webhookUrl ? checkWebhookUrl(input.webhookUrl, deps.webhookAllowedHosts) : null;
  const now = deps.clock.now();
  const id = newId('agy', now);
  return withTransaction(deps, async (tx) => {
    await insertAgency(tx, {
      id,
      name: input.name.trim(),
      type: input.type,
      municipality: input.municipality,
      districts,
      grants: [...new Set(input.grants)] as Scope[],
      webhookUrl,
      status: 'active',
      createdAt: now.toISOString(),
    });
    await insertKey(tx, id, input.publicKey, now);
    await auditAdmin(tx, deps, 'agency.add', id);
    return loadAgency(tx, id);
  });
}

async function insertKey(tx: Tx, agencyId: string, key: AgencyPublicKey, now: Date): Promise<void> {
  if (await agencyKeyRegistered(tx, key.kid)) throw conflict('key_already_registered', 'this public key is already registered');
  await insertAgencyKey(tx, { id: key.kid, agencyId, jwk: key.jwk as Record<string, unknown>, alg: key.alg, createdAt: now.toISOString() });
}

export async function addAgencyKey(deps: AdminDeps, agencyId: string, key: AgencyPublicKey): Promise<AgencyRecord> {
  return withTransaction(deps, async (tx) => {
    await loadAgency(tx, agencyId);
    await insertKey(tx, agencyId, key, deps.clock.now());
    await auditAdmin(tx, deps, 'agency.key_add', agencyId);
    return loadAgency(tx, agencyId);
  });
}

/**
 * The subjects whose match a change of the agency's status can alter: those it has an active
 * signal for, and, for a WIJ team or a municipality, every live match in its municipality (it may
 * coordinate them, or take them back when it is enabled again).
 */
async function subjectsTouchedBy(tx: Tx, agency: AgencyRecord): Promise<string[]> {
  const ids = new Set<string>(await subjectsWithActiveSignalOf(tx, agency.id));
  const coordinating = agency.type === 'wij' || agency.type === 'municipality';
  const route = coordinating ? { agencyId: agency.id, municipality: agency.municipality } : { agencyId: agency.id };
  for (const id of await subjectsOfMatchesRoutedTo(tx, route, LIVE_STATUSES)) ids.add(id);
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
async function setAgencyStatus(deps: Deps, agencyId: string, status: 'active' | 'disabled'): Promise<AgencyRecord> {
  const action = status === 'active' ? 'agency.enable' : 'agency.disable';
  return withTransaction(deps, async (tx) => {
    const before = await loadAgency(tx, agencyId);
    if (before.status === status) {
      await auditAdmin(tx, deps, action, agencyId, 'unchanged');
      return before;
    }
    await setAgencyStatusTo(tx, agencyId, status);
    if (status === 'disabled') await cancelPendingDeliveries(tx, agencyId, 'agency disabled');
    for (const subjectId of await subjectsTouchedBy(tx, before)) {
      // A young person, or a family whose match the agency coordinates: the kind says whose signals count.
      await reconcileMatch(tx, deps, await loadSubjectKey(tx, deps.keys, subjectId), null);
    }
    await auditAdmin(tx, deps, action, agencyId);
    return loadAgency(tx, agencyId);
  });
}

export async function disableAgency(deps: Deps, agencyId: string): Promise<AgencyRecord> {
  return setAgencyStatus(deps, agencyId, 'disabled');
}

export async function enableAgency(deps: Deps, agencyId: string): Promise<AgencyRecord> {
  return setAgencyStatus(deps, agencyId, 'active');
}

/**
 * Revokes one of an agency's keys: assertions signed with it are refused (`invalid_client`) and
 * access tokens it earned stop working at once. Revoking twice changes nothing.
 */
export async function revokeAgencyKey(deps: AdminDeps, agencyId: string, kid: string): Promise<AgencyRecord> {
  return withTransaction(deps, async (tx) => {
    await loadAgency(tx, agencyId);
    const key = await agencyKey(tx, agencyId, kid);
    if (!key) throw notFound('key_not_found', `agency ${agencyId} has no key ${kid}`);
    if (!key.revokedAt) await revokeAgencyKeyAt(tx, kid, deps.clock.now().toISOString());
    await auditAdmin(tx, deps, 'agency.key_revoke', `${agencyId}/${kid}`, key.revokedAt ? 'unchanged' : 'ok');
    return loadAgency(tx, agencyId);
  });
}

/** The KEK-derived sealing purpose of webhook secrets; the agency id is the associated data. */
export const WEBHOOK_SECRET_PURPOSE = 'webhook-secret';

/**
 * Sets or removes an agency's webhook. With `secret`, a fresh Standard Webhooks secret
 * (`whsec_` + base64 of 32 random bytes) is made, stored sealed, and returned this once:
 * deliveries then carry a `v1` (HMAC-SHA256) signature besides `v1a`. Without it, any earlier
 * secret is dropped and deliveries are signed `v1a` (Ed25519) only.
 */
export async function setAgencyWebhook(
  deps: AdminDeps & { keys: KeyRing },
  agencyId: string,
  url: string | null,
  opts: { secret?: boolean } = {},
): Promise<AgencyRecord & { webhookSecret?: string }> {
  const webhookUrl = url ? checkWebhookUrl(url, deps.webhookAllowedHosts) : null;
  if (opts.secret && !webhookUrl) throw invalid('validation_failed', 'a webhook secret needs a webhook URL');
  const secret = opts.secret ? randomBytes(32) : null;
  const sealed = secret ? Buffer.from(deps.keys.sealRecord(WEBHOOK_SECRET_PURPOSE, secret, agencyId)) : null;
  const record = await withTransaction(deps, async (tx) => {
    await loadAgency(tx, agencyId);
    await setAgencyWebhookTo(tx, agencyId, webhookUrl, sealed);
    // Without a webhook, queued notices stay in the inbox only.
    if (!webhookUrl) await unqueueDeliveries(tx, agencyId);
    await auditAdmin(tx, deps, webhookUrl ? (secret ? 'agency.webhook_secret' : 'agency.webhook') : 'agency.webhook_remove', agencyId);
    return loadAgency(tx, agencyId);
  });
  return secret ? { ...record, webhookSecret: `whsec_${Buffer.from(secret).toString('base64')}` } : record;
}

/** The agency's webhook secret (raw HMAC key bytes), opened from its sealed column; null when it has none. */
export function openWebhookSecret(keys: KeyRing, agencyId: string, sealed: Uint8Array | null): Uint8Array | null {
  return sealed ? keys.openRecord(WEBHOOK_SECRET_PURPOSE, sealed, agencyId) : null;
}

export async function listAgencies(deps: AdminDeps): Promise<AgencyRecord[]> {
  const tx = deps.store.reader;
  const records: AgencyRecord[] = [];
  for (const id of await agencyIds(tx)) records.push(await loadAgency(tx, id));
  return records;
}

/** The active agency and its usable public keys, for authentication. */
export async function findActiveAgencyWithKeys(tx: Tx, agencyId: string) {
  const agency = await activeAgencyById(tx, agencyId);
  if (!agency) return undefined;
  const keys = await usableKeysOfAgency(tx, agencyId);
  return { agency: { ...agency, type: agency.type as AgencyType }, keys };
}

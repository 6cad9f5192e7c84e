import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addAgencyKey, disableAgency, enableAgency, revokeAgencyKey, setAgencyWebhook } from '../../src/app/agencies.ts';
import { parseAgencyPublicKey } from '../../src/crypto/agency-keys.ts';
import { signClientAssertion } from '../../src/crypto/tokens.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { claimDaysOf } from '../../src/policy/types.ts';
import { type DeliveryOptions, deliverDue } from '../../src/notify/delivery.ts';
import { listDeliveries } from '../../src/store/notices.ts';
import { createHarness, type Harness, ISSUER, signalBody, type TestAgency, validBsn } from '../support/harness.ts';
import { type Receiver, webhookRegion } from '../support/receiver.ts';
import { World } from '../support/world.ts';

const OPTS: DeliveryOptions = { timeoutMs: 500, retryWindowMs: 24 * 3_600_000, backoffMs: 1_000, concurrency: 4 };

const liveMatches = (w: World) => w.h.rows<{ id: string }>("select id from matches where lens = '' and status in ('open', 'claimed', 'escalated')");
const signalStatus = async (w: World, label: string) =>
  (await w.h.rows<{ status: string }>('select status from signals where agency_id = ?', w.agencies.get(label)!.id)).map((r) => r.status);

describe('a disabled agency', () => {
  it('leaves the match as if it had withdrawn, is told nothing, and counts again once enabled', async () => {
    const w = await World.create('groningen', ['school', 'school2', 'gp', 'wij']);
    await w.step('+school');
    await w.step('+gp');
    expect(await w.fresh('school')).toEqual(['match.created gp:contact']);
    expect(await w.fresh('gp')).toEqual(['match.created school:contact']);
    await w.fresh('wij');
    expect(await liveMatches(w)).toHaveLength(1);

    await disableAgency(w.h.deps, w.agencies.get('gp')!.id);
    // A match of two that included it dissolves, exactly as a withdrawal would look.
    expect(await w.fresh('school')).toEqual(['match.party_left']);
    expect(await w.fresh('wij')).toEqual(['match.closed']);
    expect(await w.fresh('gp')).toEqual([]);
    expect(await liveMatches(w)).toHaveLength(0);
    // Suspended, not ended.
    expect(await signalStatus(w, 'gp')).toEqual(['active']);

    // Its signal does not count: a second school makes no match with it.
    await w.step('+school2');
    expect(await liveMatches(w)).toHaveLength(1);
    expect(await w.fresh('school')).toEqual(['match.created school2:contact']);
    expect(await w.fresh('school2')).toEqual(['match.created school:contact']);
    expect(await w.fresh('gp')).toEqual([]);
    // Its match notices are never written, not even unseen.
    expect(await w.h.row('select count(*) n from notices where agency_id = ?', w.agencies.get('gp')!.id)).toEqual({ n: 1 });

    await enableAgency(w.h.deps, w.agencies.get('gp')!.id);
    expect(await w.fresh('gp')).toEqual(['match.created school2:contact,school:contact']);
    expect(await w.fresh('school')).toEqual(['match.party_added gp:contact,school2:contact']);
    expect(await w.fresh('school2')).toEqual(['match.party_added gp:contact,school:contact']);
    expect(await liveMatches(w)).toHaveLength(1);
  });

  it('a match of three goes on without it; enabling it again adds it back', async () => {
    const w = await World.create('groningen', ['school', 'gp', 'yc', 'wij']);
    for (const s of ['+school', '+gp', '+yc']) await w.step(s);
    for (const l of ['school', 'gp', 'yc', 'wij']) await w.fresh(l);
    const [match] = await liveMatches(w);

    await disableAgency(w.h.deps, w.agencies.get('yc')!.id);
    expect(await liveMatches(w)).toEqual([match]);
    expect(await w.fresh('school')).toEqual(['match.party_left gp:contact']);
    expect(await w.fresh('gp')).toEqual(['match.party_left school:contact']);
    expect(await w.fresh('yc')).toEqual([]);

    await enableAgency(w.h.deps, w.agencies.get('yc')!.id);
    expect(await w.fresh('school')).toEqual(['match.party_added gp:contact,youth_care:type']);
    expect(await w.fresh('yc')).toEqual(['match.created gp:contact,school:contact']);
  });

  it('a disabled coordinator hands its matches on and hears nothing more', async () => {
    const w = await World.create('groningen', ['school', 'gp', 'wij', 'muni']);
    await w.step('+school');
    await w.step('+gp');
    for (const l of ['school', 'gp', 'wij', 'muni']) await w.fresh(l);
    await disableAgency(w.h.deps, w.agencies.get('wij')!.id);
    expect(await w.fresh('wij')).toEqual([]);
    expect(await w.fresh('muni')).toEqual(['match.transferred gp:contact,school:contact']);
    const coordinator = async () => (await w.h.row<{ c: string }>("select coordinator_id c from matches where status = 'open'"))!.c;
    expect(await coordinator()).toBe(w.agencies.get('muni')!.id);
    // Enabled again, the district's WIJ team takes its matches back at once.
    await enableAgency(w.h.deps, w.agencies.get('wij')!.id);
    expect(await coordinator()).toBe(w.agencies.get('wij')!.id);
    expect(await w.fresh('wij')).toEqual(['match.transferred gp:contact,school:contact']);
    expect(await w.fresh('muni')).toEqual(['match.transferred']);
  });
});

describe('webhooks of disabled agencies and removed webhooks', () => {
  let h: Harness;
  let receiver: Receiver;
  let school: TestAgency;
  let gp: TestAgency;
  beforeEach(async () => {
    ({ receiver, h, school, gp } = await webhookRegion());
  });
  afterEach(async () => receiver.stop());

  const match = async (n: number) => {
    await h.call('POST', '/v1/signals', { token: await h.token(school), body: signalBody(validBsn(n)) });
    await h.call('POST', '/v1/signals', { token: await h.token(gp), body: signalBody(validBsn(n)) });
  };
  const deliveries = () => h.store.transaction(async (tx) => listDeliveries(tx, { agencyId: school.id, status: undefined as never }));
  const states = async () => (await h.rows<{ delivery: string }>('select delivery from notices where agency_id = ?', school.id)).map((r) => r.delivery);

  it('queued deliveries of an agency that is disabled are never sent', async () => {
    await match(1);
    expect(await states()).toEqual(['pending']);
    await disableAgency(h.deps, school.id);
    expect(await deliverDue(h.deps, OPTS)).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(receiver.received).toHaveLength(0);
    expect(await deliveries()).toMatchObject([{ delivery: 'failed', lastError: 'agency disabled' }]);
  });

  it('the delivery worker itself skips a disabled agency', async () => {
    await match(2);
    // Disabled behind the use case's back (another instance, a restore): the worker still checks.
    await h.run("update agencies set status = 'disabled' where id = ?", school.id);
    await deliverDue(h.deps, OPTS);
    expect(receiver.received).toHaveLength(0);
    expect(await states()).toEqual(['failed']);
  });

  it('agency webhook --remove: queued and later notices stay in the inbox only', async () => {
    await match(3);
    expect(await states()).toEqual(['pending']);
    expect((await setAgencyWebhook(h.deps, school.id, null)).webhookUrl).toBeNull();
    await deliverDue(h.deps, OPTS);
    await h.call('POST', '/v1/signals', { token: await h.token(await h.agency('jgz')), body: signalBody(validBsn(3)) });
    await deliverDue(h.deps, OPTS);
    expect(receiver.received).toHaveLength(0);
    expect(await states()).toEqual(['none', 'none']);
    const inbox = (await (await h.call('GET', '/v1/notices', { token: await h.token(school) })).json()) as { items: unknown[] };
    expect(inbox.items).toHaveLength(2);
    const audit = await h.rows("select resource from audit_log where action = 'agency.webhook_remove'");
    expect(audit).toEqual([{ resource: school.id }]);
  });
});

describe('agency key revoke', () => {
  const kidsOf = async (h: Harness, id: string) => (await h.rows<{ id: string }>('select id from agency_keys where agency_id = ?', id)).map((r) => r.id);
  const tokenRequest = (h: Harness, assertion: string) =>
    h.call('POST', '/oauth/token', {
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  it('refuses assertions signed with the revoked key (invalid_client) and the tokens it earned', async () => {
    const h = await createHarness();
    const school = await h.agency('school');
    const token = await h.token(school);
    expect((await h.call('GET', '/v1/signals', { token })).status).toBe(200);
    const [first] = await kidsOf(h, school.id);
    // A second key keeps working after the first is revoked.
    const second = generateKeyPairSync('ed25519');
    await addAgencyKey(h.deps, school.id, await parseAgencyPublicKey(second.publicKey.export({ type: 'spki', format: 'pem' }) as string));
    const other = (await kidsOf(h, school.id)).find((kid) => kid !== first);

    const record = await revokeAgencyKey(h.deps, school.id, first!);
    expect(record.keys.find((k) => k.kid === first)!.revokedAt).not.toBeNull();
    const refused = await tokenRequest(h, await h.assertion(school));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_client');
    const stale = await h.call('GET', '/v1/signals', { token });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { code: string }).code).toBe('invalid_token');

    const pem = second.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const fresh = await tokenRequest(h, await signClientAssertion(pem, { agencyId: school.id, audience: ISSUER, now: h.clock.now() }));
    expect(fresh.status).toBe(200);
    const { access_token } = (await fresh.json()) as { access_token: string };
    expect((await h.call('GET', '/v1/signals', { token: access_token })).status).toBe(200);
    expect(await h.rows("select resource, outcome from audit_log where action = 'agency.key_revoke'")).toEqual([{ resource: `${school.id}/${first}`, outcome: 'ok' }]);
    await expect(revokeAgencyKey(h.deps, school.id, 'no-such-kid')).rejects.toThrow(expect.objectContaining({ code: 'key_not_found' }));
    expect(other).toBeDefined();
  });
});

describe('the municipality', () => {
  it('reads the escalations written to its inbox', async () => {
    const h = await createHarness();
    await h.agency('wij', { districts: ['selwerd'] });
    const [school, gp, muni] = [await h.agency('school'), await h.agency('gp'), await h.agency('municipality')];
    await h.call('POST', '/v1/signals', { token: await h.token(school), body: signalBody(validBsn(1)) });
    await h.call('POST', '/v1/signals', { token: await h.token(gp), body: signalBody(validBsn(1)) });
    h.clock.advanceDays(claimDaysOf(h.policy, ['involvement']) + 1);
    await runJobs(h.deps, ['escalation']);
    const res = await h.call('GET', '/v1/notices', { token: await h.token(muni) });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<{ type: string }> };
    expect(items.map((n) => n.type)).toEqual(['match.escalated']);
  });
});

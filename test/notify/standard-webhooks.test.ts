import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAgencies, setAgencyWebhook } from '../../src/app/agencies.ts';
import type { NoticeView } from '../../src/app/notice-schemas.ts';
import { type DeliveryOptions, deliverDue } from '../../src/notify/delivery.ts';
import { type Harness, signalBody, type TestAgency, validBsn } from '../support/harness.ts';
import { chosenTestStore } from '../support/store-choice.ts';
import { type Received, type Receiver, verifyStandardWebhook, webhookRegion } from '../support/receiver.ts';

const OPTS: DeliveryOptions = { timeoutMs: 2_000, retryWindowMs: 24 * 3_600_000, backoffMs: 1_000, concurrency: 4 };

let h: Harness;
let receiver: Receiver;
let school: TestAgency;
let gp: TestAgency;

/**
 * What lies at rest: SQLite's whole database image (free pages too); on PostgreSQL every value of
 * every row of every table, bytea as its bytes and the rest as text, as pg_dump would write them.
 */
async function bytesAtRest(): Promise<Buffer> {
  if (chosenTestStore() === 'sqlite') return h.db.$client.serialize();
  const values: Buffer[] = [];
  for (const table of await h.tables()) {
    for (const row of await h.rows(`select * from "${table}"`)) {
      for (const v of Object.values(row)) values.push(Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'object' ? JSON.stringify(v) : String(v)));
    }
  }
  return Buffer.concat(values);
}

beforeEach(async () => {
  ({ receiver, h, school, gp } = await webhookRegion());
  // The stock verifier checks the timestamp against the real time (five minutes' tolerance).
  h.clock.set(new Date().toISOString());
});
afterEach(async () => receiver.stop());

let subject = 0;
async function makeNotice(): Promise<void> {
  subject++;
  await h.call('POST', '/v1/signals', { token: await h.token(school), body: signalBody(validBsn(subject)) });
  await h.call('POST', '/v1/signals', { token: await h.token(gp), body: signalBody(validBsn(subject)) });
  expect(await deliverDue(h.deps, OPTS)).toMatchObject({ delivered: 1 });
}
const headersOf = (r: Received) => ({ 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature });

describe('Standard Webhooks v1 (HMAC) for agencies that choose a secret', () => {
  it('the stock standardwebhooks package verifies real deliveries with the secret shown once', async () => {
    const { webhookSecret } = await setAgencyWebhook(h.deps, school.id, receiver.url, { secret: true });
    expect(webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await makeNotice();
    const got = receiver.received.at(-1)!;
    expect(got.signature).toMatch(/^v1,[A-Za-z0-9+/]+=* v1a,[A-Za-z0-9+/]+=*$/);

    const verified = new Webhook(webhookSecret!).verify(got.body, headersOf(got)) as NoticeView;
    const inbox = (await (await h.call('GET', '/v1/notices', { token: await h.token(school) })).json()) as { items: NoticeView[] };
    expect(verified).toEqual(inbox.items[0]);
    // The v1a signature is still there for receivers that verify with the published key.
    const jwks = (await (await h.call('GET', '/.well-known/jwks.json')).json()) as { keys: Array<{ x?: string; crv?: string }> };
    expect(verifyStandardWebhook(jwks, got)).toBe(true);

    // Tampering, another agency's secret, or a stale timestamp: refused by the stock verifier.
    expect(() => new Webhook(webhookSecret!).verify(got.body.replace('match', 'matcH'), headersOf(got))).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(got.body, headersOf(got))).toThrow();
    expect(() => new Webhook(webhookSecret!).verify(got.body, { ...headersOf(got), 'webhook-timestamp': String(Number(got.timestamp) - 3600) })).toThrow();
  });

  it('keeps the secret sealed at rest and out of every listing', async () => {
    const { webhookSecret } = await setAgencyWebhook(h.deps, school.id, receiver.url, { secret: true });
    const raw = Buffer.from(webhookSecret!.slice('whsec_'.length), 'base64');
    const image = await bytesAtRest();
    expect(image.includes(Buffer.from(receiver.url))).toBe(true); // the scan sees the agency's row
    expect(image.includes(raw)).toBe(false);
    expect(image.includes(Buffer.from(webhookSecret!))).toBe(false);
    expect(image.includes(Buffer.from(raw.toString('hex')))).toBe(false);
    const row = (await h.row<{ webhook_secret: Buffer }>('select webhook_secret from agencies where id = ?', school.id))!;
    expect(row.webhook_secret.length).toBeGreaterThan(raw.length); // sealed: version, nonce, ciphertext, tag
    const listed = (await listAgencies(h.deps)).find((a) => a.id === school.id)!;
    expect(listed.webhookSigning).toBe('v1+v1a');
    expect(JSON.stringify(await listAgencies(h.deps))).not.toContain(webhookSecret!.slice(6, 20));
    const audit = await h.rows("select action from audit_log where resource = ? and action like 'agency.webhook%'", school.id);
    expect(audit).toEqual([{ action: 'agency.webhook_secret' }]);
  });

  it('a new secret replaces the old one; registering the URL without --secret goes back to v1a only', async () => {
    const first = (await setAgencyWebhook(h.deps, school.id, receiver.url, { secret: true })).webhookSecret!;
    const second = (await setAgencyWebhook(h.deps, school.id, receiver.url, { secret: true })).webhookSecret!;
    expect(second).not.toBe(first);
    await makeNotice();
    const signed = receiver.received.at(-1)!;
    expect(() => new Webhook(first).verify(signed.body, headersOf(signed))).toThrow();
    expect(new Webhook(second).verify(signed.body, headersOf(signed))).toBeTruthy();

    const plain = await setAgencyWebhook(h.deps, school.id, receiver.url);
    expect(plain.webhookSecret).toBeUndefined();
    expect(plain.webhookSigning).toBe('v1a');
    await makeNotice();
    const unsigned = receiver.received.at(-1)!;
    expect(unsigned.signature).toMatch(/^v1a,[^ ]+$/);
    expect(() => new Webhook(second).verify(unsigned.body, headersOf(unsigned))).toThrow();
  });

  it('refuses a secret without a webhook URL', async () => {
    await expect(setAgencyWebhook(h.deps, school.id, null, { secret: true })).rejects.toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });
});

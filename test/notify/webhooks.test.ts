import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NoticeView } from '../../src/app/notice-schemas.ts';
import { type DeliveryOptions, deliverDue } from '../../src/notify/delivery.ts';
import { listDeliveries, requeueFailed } from '../../src/store/notices.ts';
import { type Harness, signalBody, type TestAgency, validBsn } from '../support/harness.ts';
import { Receiver, verifyStandardWebhook, webhookRegion } from '../support/receiver.ts';

const OPTS: DeliveryOptions = { timeoutMs: 500, retryWindowMs: 24 * 3_600_000, backoffMs: 1_000, concurrency: 4 };

let h: Harness;
let receiver: Receiver;
let school: TestAgency;
let gp: TestAgency;

beforeEach(async () => {
  ({ receiver, h, school, gp } = await webhookRegion());
});
afterEach(async () => receiver.stop());

/** School and GP register the same young person: the school gets one notice, by webhook too. */
async function makeNotice(n = 1): Promise<void> {
  const [ts, tg] = [await h.token(school), await h.token(gp)];
  await h.call('POST', '/v1/signals', { token: ts, body: signalBody(validBsn(n)) });
  await h.call('POST', '/v1/signals', { token: tg, body: signalBody(validBsn(n)) });
}
const deliveries = () => h.store.transaction(async (tx) => listDeliveries(tx, { agencyId: school.id }));

describe('webhook delivery', () => {
  it('delivers the inbox notice, signed so that the published key verifies it', async () => {
    await makeNotice();
    expect(await deliverDue(h.deps, OPTS)).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    const inbox = (await (await h.call('GET', '/v1/notices', { token: await h.token(school) })).json()) as { items: NoticeView[] };
    expect(got.id).toBe(inbox.items[0]!.id);
    expect(JSON.parse(got.body)).toEqual(inbox.items[0]);
    expect(got.signature).toMatch(/^v1a,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(got.timestamp) - h.clock.now().getTime() / 1000)).toBeLessThan(2);
    const jwks = (await (await h.call('GET', '/.well-known/jwks.json')).json()) as { keys: Array<{ x?: string; crv?: string }> };
    expect(verifyStandardWebhook(jwks, got)).toBe(true);
    expect(verifyStandardWebhook(jwks, { ...got, body: got.body.replace('match', 'matcH') })).toBe(false);
    expect(verifyStandardWebhook(jwks, { ...got, timestamp: String(Number(got.timestamp) + 1) })).toBe(false);
    // Delivered once: a second round sends nothing.
    expect(await deliverDue(h.deps, OPTS)).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect((await deliveries())[0]).toMatchObject({ delivery: 'delivered', attempts: 1 });
  });

  it('receiver down, then up: delivered after a retry', async () => {
    await receiver.stop();
    await makeNotice();
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ retried: 1 });
    expect((await deliveries())[0]).toMatchObject({ delivery: 'pending', attempts: 1, lastError: 'ECONNREFUSED' });
    await receiver.start();
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ delivered: 0 }); // not due yet: backoff
    h.clock.advanceDays(1 / 24);
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ delivered: 1 });
    expect(receiver.received).toHaveLength(1);
  });

  it('receiver answers 500 several times: retried with growing delays, then delivered', async () => {
    let calls = 0;
    receiver.respond = () => ({ status: ++calls <= 3 ? 500 : 200 });
    await makeNotice();
    const due: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(await deliverDue(h.deps, OPTS)).toMatchObject({ retried: 1 });
      const next = Date.parse((await deliveries())[0]!.nextAttemptAt!);
      due.push(next - h.clock.now().getTime());
      h.clock.set(new Date(next).toISOString());
    }
    expect(due[0]).toBeGreaterThanOrEqual(500);
    expect(due[2]!).toBeGreaterThan(due[0]!); // exponential: 1 s, 2 s, 4 s (each with jitter)
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ delivered: 1 });
    expect(receiver.received.map((r) => r.id)).toEqual(Array(4).fill(receiver.received[0]!.id));
    const metrics = await h.metrics();
    expect(metrics).toMatch(/betrokken_notices_delivery\{state="delivered"\} 1/);
  });

  it('receiver slower than the timeout: the attempt is abandoned and retried', async () => {
    receiver.respond = () => ({ status: 200, delayMs: 1500 });
    await makeNotice();
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ retried: 1 });
    expect((await deliveries())[0]!.lastError).toBe('timeout');
    receiver.respond = () => ({ status: 200 });
    h.clock.advanceDays(1 / 24);
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ delivered: 1 });
  });

  it('does not follow a redirect', async () => {
    const elsewhere = await new Receiver().start();
    receiver.respond = () => ({ status: 307, location: elsewhere.url });
    await makeNotice();
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ retried: 1 });
    expect((await deliveries())[0]!.lastError).toBe('HTTP 307');
    expect(elsewhere.received).toHaveLength(0);
    await elsewhere.stop();
  });

  it('after the retry window the delivery fails, stays in the inbox, and can be queued again', async () => {
    receiver.respond = () => ({ status: 503 });
    await makeNotice();
    await deliverDue(h.deps, OPTS);
    h.clock.advanceDays(1.01);
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ failed: 1 });
    expect((await deliveries())[0]).toMatchObject({ delivery: 'failed', lastError: 'HTTP 503' });
    const inbox = (await (await h.call('GET', '/v1/notices', { token: await h.token(school) })).json()) as { items: unknown[] };
    expect(inbox.items).toHaveLength(1);
    const metrics = await h.metrics();
    expect(metrics).toMatch(/betrokken_webhook_attempts_total\{outcome="failed"\} 1/);
    expect(metrics).toMatch(/betrokken_webhook_attempts_total\{outcome="retried"\} 1/);
    expect(metrics).toMatch(/betrokken_notices_delivery\{state="failed"\} 1/);

    receiver.respond = () => ({ status: 200 });
    expect(await h.store.transaction(async (tx) => requeueFailed(tx, { agencyId: school.id }, h.clock.now().toISOString()))).toBe(1);
    expect(await deliverDue(h.deps, OPTS)).toMatchObject({ delivered: 1 });
  });

  it('agencies without a webhook only have their inbox', async () => {
    await makeNotice();
    expect(await h.store.transaction(async (tx) => listDeliveries(tx, { agencyId: gp.id }))).toEqual([]);
  });
});

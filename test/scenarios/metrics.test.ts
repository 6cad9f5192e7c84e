import { describe, expect, it } from 'vitest';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';

/** Metrics without timings (sums and buckets of the latency histogram vary from run to run). */
const comparable = (text: string) =>
  text
    .split('\n')
    .filter((l) => !/^betrokken_http_request_duration_seconds_(sum|bucket)/.test(l))
    .join('\n');

/**
 * Veilig Thuis registers one young person; then a school registers `schoolBsn` and the metrics
 * are read. Veilig Thuis makes the same requests in both runs, only the BSN differs.
 */
async function runWhereVeiligThuisHolds(vtBsn: string, schoolBsn: string) {
  const h = await createHarness();
  await h.agency('wij', { districts: ['selwerd'] });
  const [school, vt] = [await h.agency('school'), await h.agency('veilig_thuis')];
  const tv = await h.token(vt);
  expect((await h.call('POST', '/v1/signals', { token: tv, body: signalBody(vtBsn) })).status).toBe(201);
  const ts = await h.token(school);
  const before = await h.metrics();
  const res = await h.call('POST', '/v1/signals', { token: ts, body: signalBody(schoolBsn) });
  expect(res.status).toBe(201);
  const onApi = await h.call('GET', '/metrics', { token: ts });
  return { h, before: comparable(before), after: comparable(await h.metrics()), onApi };
}

describe('metrics', () => {
  it('are not served on the API listener, anonymous or with a token', async () => {
    const h = await createHarness();
    const school = await h.agency('school');
    for (const res of [await h.call('GET', '/metrics'), await h.call('GET', '/metrics', { token: await h.token(school) })]) {
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.text()).not.toContain('betrokken_');
    }
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes('metrics'))).toEqual([]);
  });

  it('are served on the metrics listener, with notices only by delivery state', async () => {
    const h = await createHarness();
    const res = await h.metricsApp.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/betrokken_notices_delivery\{state="queued"\} 0/);
    expect(text).toMatch(/betrokken_webhook_attempts_total\{outcome="delivered"\} 0/);
    expect(text).not.toMatch(/state="none"/);
    expect(text).not.toMatch(/notice_type|agency|recipient/);
    expect((await h.metricsApp.request('/v1/notices')).status).toBe(404);
  });

  it('no counter moves when a school registers a BSN that Veilig Thuis holds', async () => {
    const held = await runWhereVeiligThuisHolds(validBsn(7), validBsn(7));
    const notHeld = await runWhereVeiligThuisHolds(validBsn(8), validBsn(7));
    // The hidden party was told in one run and not in the other …
    const vtNotices = async (h: typeof held.h) => (await h.row<{ n: number }>('select count(*) n from notices'))!.n;
    expect(await vtNotices(held.h)).toBeGreaterThan(0);
    expect(await vtNotices(notHeld.h)).toBe(0);
    // … yet every series reads the same, before and after the school's request.
    expect(held.before).toBe(notHeld.before);
    expect(held.after).toBe(notHeld.after);
    expect(held.onApi.status).toBe(404);
    expect(notHeld.onApi.status).toBe(404);
  });
});

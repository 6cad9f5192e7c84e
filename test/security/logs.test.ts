import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';

describe('logs', () => {
  it('carry the request id, and never a BSN or a contact detail, through a full scenario', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const h = await createHarness({ logger: createLogger('trace', sink) });
    const wij = await h.agency('wij', { districts: ['selwerd'] });
    const [school, gp] = [await h.agency('school'), await h.agency('gp')];
    const [ts, tg, tw] = [await h.token(school), await h.token(gp), await h.token(wij)];
    const bsn = validBsn(7);
    const secrets = [bsn, 'j.devries@example.nl', '050 123 4567', 'J. de Vries', 'LVS-77', 'Sanne Bos', '06 1234 5678'];
    await h.call('POST', '/v1/signals', { token: ts, body: signalBody(bsn, { reference: 'LVS-77' }) });
    await h.call('POST', '/v1/signals', { token: tg, body: signalBody(bsn) });
    await h.call('POST', '/v1/signals', { token: tg, body: signalBody(bsn.slice(0, 8) + String((Number(bsn[8]) + 1) % 10)) });
    await h.call('POST', '/v1/signals', { token: tg, body: `{"bsn":"${bsn}",` });
    await h.call('GET', '/v1/notices', { token: ts });
    const { items } = (await (await h.call('GET', '/v1/matches', { token: tw })).json()) as { items: Array<{ id: string }> };
    await h.call('POST', `/v1/matches/${items[0]!.id}/claim`, { token: tw, body: { coordinator: { name: 'Sanne Bos', phone: '06 1234 5678' } } });
    await h.store.close(); // an unexpected failure
    const failed = await h.call('POST', '/v1/signals', { token: ts, body: signalBody(bsn) });
    expect(failed.status).toBe(500);
    const problem = (await failed.json()) as { code: string; detail: string; requestId: string };
    expect(problem.code).toBe('internal_error');
    expect(problem.detail).not.toMatch(/database|sqlite|at /i);

    expect(lines.length).toBeGreaterThan(8);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = records.filter((r) => r.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(7);
    for (const r of requests) expect(r.requestId).toMatch(/^req_/);
    const error = records.find((r) => r.msg === 'unexpected error')!;
    expect(error.requestId).toBe(problem.requestId);
    expect(JSON.stringify(error.err)).toMatch(/stack/);
    const text = lines.join('\n');
    for (const secret of secrets) expect(text, secret).not.toContain(secret);
  });

  it('masks a nine-digit number that reaches a log line anyway', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, d) => (lines.push(String(c)), d()) });
    createLogger('info', sink).info({ note: `lookup 111222333 failed` }, 'x 123456782');
    expect(lines.join('')).not.toMatch(/111222333|123456782/);
  });
});

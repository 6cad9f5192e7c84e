import { describe, expect, it } from 'vitest';
import { lostRace, uniqueViolation } from '../../src/store/conflicts.ts';
import { rememberIdempotent } from '../../src/store/idempotency.ts';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';
import { World } from '../support/world.ts';

/** Every creating route honours Idempotency-Key: replay, conflict, 24-hour memory. */
describe.each([
  ['POST /v1/signals', 'school'],
  ['POST /v1/matches/{id}/case-tables', 'wij'],
])('Idempotency-Key on %s', (route, label) => {
  async function setup() {
    const w = await World.create();
    const token = await w.h.token(w.agencies.get(label)!);
    let url = '/v1/signals';
    let bodyA: unknown = signalBody(validBsn(1));
    let bodyB: unknown = signalBody(validBsn(2));
    if (route.includes('case-tables')) {
      await w.step('+school');
      await w.step('+gp');
      const list = (await (await w.h.call('GET', '/v1/matches', { token })).json()) as { items: Array<{ id: string }> };
      const matchId = list.items[0]!.id;
      await w.h.call('POST', `/v1/matches/${matchId}/claim`, { token, body: { coordinator: { name: 'S. Bos', phone: '050 367 8000' } } });
      url = `/v1/matches/${matchId}/case-tables`;
      bodyA = { scheduledFor: '2026-03-20T10:00:00Z' };
      bodyB = { scheduledFor: '2026-03-21T10:00:00Z' };
    }
    const post = async (body: unknown, key: string) =>
      w.h.call('POST', url, { token: await w.h.token(w.agencies.get(label)!), body, headers: { 'idempotency-key': key } });
    // Signals, or case tables convened (one convening also makes one on each narrower line of the match).
    const count = async () => (await w.h.row<{ n: number }>(`select count(*) n from ${route.includes('case') ? 'case_tables where root_id is null' : 'signals'}`))!.n;
    return { w, post, bodyA, bodyB, count };
  }

  it('replays the first answer for the same key and body, creating nothing new', async () => {
    const { w, post, bodyA, count } = await setup();
    const first = await post(bodyA, 'retry-me');
    expect(first.status).toBe(201);
    const n = await count();
    const notices = (await w.inbox('school')).length;
    const again = await post(bodyA, 'retry-me');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    expect(await count()).toBe(n);
    expect(await w.inbox('school')).toHaveLength(notices);
  });

  it('refuses the same key with another body (409 idempotency_key_reused)', async () => {
    const { post, bodyA, bodyB } = await setup();
    await post(bodyA, 'k1');
    const res = await post(bodyB, 'k1');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('idempotency_key_reused');
  });

  it('gives requests sent at once with one key and body one answer, created once', async () => {
    const { post, bodyA, count } = await setup();
    const n = await count();
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(bodyA, 'at-once')));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    // One of them made it; the others replay its answer, however they met on the database.
    expect(answers.filter((r) => r.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(new Set(ids).size).toBe(1);
    expect(await count()).toBe(n + 1);
  });

  it('refuses with 409, never a 500, the other bodies sent at once with one key', async () => {
    const { post, bodyA, bodyB, count } = await setup();
    const n = await count();
    const answers = await Promise.all([bodyA, bodyB, bodyA, bodyB].map((body) => post(body, 'contested')));
    // The first body to get through wins the key; its twin replays it, the other body is refused.
    expect(answers.map((r) => r.status).sort()).toEqual([201, 201, 409, 409]);
    for (const res of answers.filter((r) => r.status === 409)) {
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('idempotency_key_reused');
    }
    expect(await count()).toBe(n + 1);
  });

  it('forgets a key after 24 hours', async () => {
    const { w, post, bodyA, bodyB } = await setup();
    await post(bodyA, 'k2');
    w.h.clock.advanceDays(1.01);
    expect((await post(bodyB, 'k2')).status).toBe(201);
  });
});

describe('the Idempotency-Key in the database', () => {
  it("is the agency's key's primary key: a second answer for it is refused, and named alike on either store", async () => {
    const h = await createHarness();
    const school = await h.agency('school');
    const now = h.clock.now();
    const remember = (resourceId: string) =>
      h.store.transaction(async (tx) => rememberIdempotent(tx, school.id, { key: 'k', fingerprint: 'f' }, 201, resourceId, now));
    await remember('sig_first');
    const err = await remember('sig_second').catch((e: unknown) => e);
    expect(uniqueViolation(err)).toBe('idempotency_keys_agency_id_key_pk');
    expect(lostRace(err)).toBe(true);
    expect(await h.rows('select resource_id from idempotency_keys')).toEqual([{ resource_id: 'sig_first' }]);
    // Another unique rule broken is no lost race: it is thrown at once, not run again.
    const agencyAgain = await h.run('insert into agencies select * from agencies where id = ?', school.id).catch((e: unknown) => e);
    expect(uniqueViolation(agencyAgain)).toMatch(/^agencies/);
    expect(lostRace(agencyAgain)).toBe(false);
  });
});

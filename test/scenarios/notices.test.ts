import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NoticeView } from '../../src/app/notice-schemas.ts';
import { createHarness, type Harness, signalBody, type TestAgency, validBsn } from '../support/harness.ts';
import { World } from '../support/world.ts';

// A harness on PostgreSQL is a database copied from the template: with three agencies and their
// tokens, more than vitest's five seconds on a busy machine.
describe('notices over HTTP', { timeout: 30_000 }, () => {
  let h: Harness;
  let school: TestAgency;
  let gp: TestAgency;
  let tokens: Record<string, string>;

  beforeEach(async () => {
    h = await createHarness();
    school = await h.agency('school', { name: 'OBS De Starter' });
    gp = await h.agency('gp', { name: 'Huisartsen Selwerd' });
    const wij = await h.agency('wij', { districts: ['selwerd'] });
    tokens = { school: await h.token(school), gp: await h.token(gp), wij: await h.token(wij) };
  });
  afterEach(async () => h.close());

  const inbox = async (token: string, query = '') => {
    const res = await h.call('GET', `/v1/notices${query}`, { token });
    expect(res.status).toBe(200);
    return (await res.json()) as { items: NoticeView[]; next: string | null };
  };

  it('two agencies register the same BSN: each gets the notice the policy grants', async () => {
    const bsn = validBsn(77);
    const first = await h.call('POST', '/v1/signals', { token: tokens.school!, body: signalBody(bsn, { reference: 'LVS-1' }) });
    const second = await h.call('POST', '/v1/signals', {
      token: tokens.gp!,
      body: signalBody(bsn, { professional: { name: 'Dr. Jansen', phone: '050 111 2222' } }),
    });
    // The registration answer never says whether a match exists.
    expect(Object.keys(await first.json()).sort()).toEqual(Object.keys(await second.json()).sort());

    const schoolInbox = await inbox(tokens.school!);
    expect(schoolInbox.items).toHaveLength(1);
    const notice = schoolInbox.items[0]!;
    expect(notice).toMatchObject({
      type: 'match.created',
      reference: 'LVS-1',
      parties: [{ view: 'contact', agency: { id: gp.id, name: 'Huisartsen Selwerd', type: 'gp' }, contact: { name: 'Dr. Jansen', phone: '050 111 2222' } }],
      coordinator: { agency: { type: 'wij' }, contact: null },
      policy: { id: 'groningen' },
      acknowledgedAt: null,
    });
    expect(JSON.stringify(notice)).not.toContain(bsn);
    const gpInbox = await inbox(tokens.gp!);
    expect(gpInbox.items[0]).toMatchObject({ type: 'match.created', parties: [{ agency: { id: school.id } }] });
    expect(gpInbox.items[0]!.reference).toBeNull();
    const wijInbox = await inbox(tokens.wij!);
    expect(wijInbox.items[0]!.type).toBe('match.coordinator_assigned');
    expect(wijInbox.items[0]!.parties).toHaveLength(2);
  });

  it('acknowledges a notice once, filters unacknowledged ones, and pages by cursor', async () => {
    for (let i = 0; i < 3; i++) {
      await h.call('POST', '/v1/signals', { token: tokens.school!, body: signalBody(validBsn(300 + i)) });
      await h.call('POST', '/v1/signals', { token: tokens.gp!, body: signalBody(validBsn(300 + i)) });
    }
    const page1 = await inbox(tokens.school!, '?limit=2');
    expect(page1.items).toHaveLength(2);
    const page2 = await inbox(tokens.school!, `?limit=2&cursor=${page1.next}`);
    expect(page2.items).toHaveLength(1);
    expect(page2.next).toBeNull();
    const id = page1.items[0]!.id;
    expect((await h.call('POST', `/v1/notices/${id}/ack`, { token: tokens.school! })).status).toBe(204);
    expect((await h.call('POST', `/v1/notices/${id}/ack`, { token: tokens.school! })).status).toBe(204);
    const open = await inbox(tokens.school!, '?unacknowledged=true');
    expect(open.items.map((n) => n.id)).not.toContain(id);
    expect(open.items).toHaveLength(2);
    const all = await inbox(tokens.school!);
    expect(all.items.find((n) => n.id === id)!.acknowledgedAt).not.toBeNull();
  });

  it("answers 404 for another agency's notice, 400 for a bad cursor, 403 without notices:read", async () => {
    await h.call('POST', '/v1/signals', { token: tokens.school!, body: signalBody(validBsn(5)) });
    await h.call('POST', '/v1/signals', { token: tokens.gp!, body: signalBody(validBsn(5)) });
    const id = (await inbox(tokens.school!)).items[0]!.id;
    const foreign = await h.call('POST', `/v1/notices/${id}/ack`, { token: tokens.gp! });
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { code: string }).code).toBe('notice_not_found');
    expect((await h.call('POST', '/v1/notices/ntc_x/ack', { token: tokens.gp! })).status).toBe(404);
    expect((await h.call('GET', '/v1/notices?cursor=bogus', { token: tokens.gp! })).status).toBe(400);
    const narrow = await h.token(school, 'signals:read');
    expect((await h.call('GET', '/v1/notices', { token: narrow })).status).toBe(403);
    expect((await h.call('GET', '/v1/notices')).status).toBe(401);
  });

  it('audits every notice read', async () => {
    await h.call('POST', '/v1/signals', { token: tokens.school!, body: signalBody(validBsn(6)) });
    await h.call('POST', '/v1/signals', { token: tokens.gp!, body: signalBody(validBsn(6)) });
    const [n] = (await inbox(tokens.school!)).items;
    const rows = await h.rows<Record<string, string>>('select action, agency_id, subject from audit_log where resource = ? order by seq', n!.id);
    expect(rows.map((r) => r.action)).toEqual(['notice.match.created', 'notice.read']);
    expect(rows.every((r) => r.agency_id === school.id && r.subject === h.keys.pseudonymize(validBsn(6)))).toBe(true);
  });
});

describe('a school never learns of Veilig Thuis', () => {
  const ops = ['school', 'school2', 'gp', 'vt', 'yc', 'jgz'].flatMap((l) => [`+${l}`, `-${l}`]);
  const step = fc.tuple(fc.constantFrom(...ops), fc.integer({ min: 1, max: 2 })).map(([op, subject]) => `${op}#${subject}`);

  const run = async (steps: string[]) => {
    const world = await World.create('groningen', ['school', 'school2', 'gp', 'vt', 'yc', 'jgz', 'wij']);
    const registered = new Set<string>();
    for (const s of steps) {
      const key = s.slice(1);
      if (s.startsWith('-') && !registered.has(key)) continue;
      registered.add(key);
      await world.step(s);
    }
    return world;
  };

  it('in any sequence of registrations and withdrawals (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        const world = await run(steps);
        const without = await run(steps.filter((s) => !s.includes('vt')));
        try {
          const vt = world.agencies.get('vt')!;
          for (const label of ['school', 'school2']) {
            const text = JSON.stringify(await world.inbox(label));
            expect(text).not.toContain(vt.id);
            expect(text).not.toContain('veilig_thuis');
            expect(text).not.toContain('vt@example.nl');
          }
          // Stronger: what a school sees is exactly what it would see had Veilig Thuis never acted.
          for (const label of ['school', 'school2']) {
            const seen = async (w: World) => (await w.inbox(label)).map((n) => `${n.matchId ? 'm' : '-'} ${w.describe(n)}`);
            expect(await seen(world)).toEqual(await seen(without));
          }
        } finally {
          // Eighty worlds in all: each closed (on PostgreSQL its database dropped) when compared.
          await world.h.close();
          await without.h.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe('the policy decides, not the code', { timeout: 30_000 }, () => {
  it('the same registrations give different notices under the stricter policy', async () => {
    const steps = ['+school', '+gp', '+vt', '+yc'];
    const groningen = await World.create('groningen');
    const strict = await World.create('strict');
    for (const s of steps) {
      await groningen.step(s);
      await strict.step(s);
    }
    expect(await groningen.fresh('school')).toEqual(['match.created gp:contact', 'match.party_added gp:contact,youth_care:type']);
    expect(await strict.fresh('school')).toEqual(['match.created gp:type']);
    expect(await groningen.fresh('gp')).toEqual([
      'match.created school:contact',
      'match.party_added school:contact,vt:contact',
      'match.party_added school:contact,vt:contact,yc:contact',
    ]);
    expect(await strict.fresh('gp')).toEqual(['match.created school:type', 'match.party_added school:type,youth_care:type']);
    // Both agree that the coordinator sees everyone.
    expect((await strict.fresh('wij')).at(-1)).toBe('match.party_added gp:contact,school:contact,vt:contact,yc:contact');
    const strictNotice = (await strict.inbox('gp'))[0]!;
    expect(strictNotice.policy.id).toBe('strict');
    expect(strictNotice.policy.rules).toContain('strict.default-type-only');
  });
});

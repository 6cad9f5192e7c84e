import { describe, expect, it } from 'vitest';
import type { MatchView } from '../../src/app/match-schemas.ts';
import type { NoticeView } from '../../src/app/notice-schemas.ts';
import { MATCH_RULE } from '../../src/policy/decide.ts';
import { World } from '../support/world.ts';

/**
 * The leaks an outside reviewer found (issue 12), each as the school would run it: what the
 * school is told must not depend on whether Veilig Thuis is involved.
 */

const contact = { name: 'Sanne Bos', phone: '050 367 8000', email: 's.bos@wij.example.nl' };

async function call(w: World, label: string, method: string, url: string, body?: unknown) {
  return w.h.call(method, url, { token: await w.h.token(w.agencies.get(label)!), ...(body !== undefined ? { body } : {}) });
}
async function liveMatch(w: World, label = 'wij'): Promise<MatchView> {
  const { items } = (await (await call(w, label, 'GET', '/v1/matches')).json()) as { items: MatchView[] };
  return items.find((m) => ['open', 'claimed', 'escalated'].includes(m.status))!;
}
/** A notice with its ids left out and agencies named by label, as two worlds can be compared. */
const shape = (w: World) => (n: NoticeView) =>
  JSON.parse(
    JSON.stringify({ type: n.type, parties: n.parties, coordinator: n.coordinator, rules: n.policy.rules, caseTable: n.caseTable && { held: n.caseTable.held } }).replace(
      /agy_[0-9a-z]+/g,
      (id) => w.label.get(id) ?? id,
    ),
  );

describe('leak 1: case tables', () => {
  it('the school is never told who else was invited; Veilig Thuis appears nowhere in its notices', async () => {
    const w = await World.create();
    for (const s of ['+school', '+gp', '+vt']) await w.step(s);
    const m = await liveMatch(w);
    expect((await call(w, 'wij', 'POST', `/v1/matches/${m.id}/claim`, { coordinator: contact })).status).toBe(200);
    const table = await call(w, 'wij', 'POST', `/v1/matches/${m.id}/case-tables`, { scheduledFor: '2026-03-10T14:00:00+01:00' });
    const { id: tableId, invited } = (await table.json()) as { id: string; invited: string[] };
    expect(invited).toContain(w.agencies.get('vt')!.id); // the coordinator invited Veilig Thuis
    await call(w, 'wij', 'POST', `/v1/case-tables/${tableId}/outcome`, { held: true, attendedBy: invited, leadAgencyId: w.agencies.get('vt')!.id });

    const inbox = await w.inbox('school');
    const convened = inbox.filter((n) => n.type === 'case_table.convened');
    expect(convened).toHaveLength(1);
    expect(convened[0]!.caseTable).not.toHaveProperty('invited');
    expect(JSON.stringify(inbox)).not.toContain(w.agencies.get('vt')!.id);
    expect(JSON.stringify(inbox)).not.toContain('veilig');
  });
});

describe('leak 2: the life of a match', () => {
  /** School A and school B match, the WIJ team claims, B withdraws and registers again. */
  async function run(withVeiligThuis: boolean) {
    const w = await World.create();
    await w.step('+school');
    await w.step('+school2');
    if (withVeiligThuis) await w.step('+vt');
    const first = await liveMatch(w);
    expect((await call(w, 'wij', 'POST', `/v1/matches/${first.id}/claim`, { coordinator: contact })).status).toBe(200);
    await w.step('-school2');
    await w.step('+school2');
    return { w, inbox: await w.inbox('school') };
  }

  it('school A is told exactly what it would be told without Veilig Thuis', async () => {
    const without = await run(false);
    const withVt = await run(true);
    expect(withVt.inbox.map(shape(withVt.w))).toEqual(without.inbox.map(shape(without.w)));

    const [created, claimed, left, again] = withVt.inbox;
    expect([created, claimed, left, again].map((n) => n!.type)).toEqual(['match.created', 'match.claimed', 'match.party_left', 'match.created']);
    // B's withdrawal ends A's view as a dissolve does, with the rules of a dissolve.
    expect(left!.policy.rules).toEqual([MATCH_RULE]);
    // When B comes back, A's view begins anew: another match id, not yet claimed.
    expect(again!.matchId).not.toBe(created!.matchId);
    expect(again!.coordinator!.contact).toBeNull();
    // The coordinator's own match went on all along (Veilig Thuis kept it alive), and it knows that
    // school A has not yet heard whom to call: it claims again to introduce itself.
    const m = await liveMatch(withVt.w);
    expect(m.status).toBe('claimed');
    expect(m.awaitingIntroduction.map((a) => a.name).sort()).toEqual(['school', 'school2']);
    expect((await call(withVt.w, 'wij', 'POST', `/v1/matches/${m.id}/claim`, { coordinator: contact })).status).toBe(200);
    const introduced = (await withVt.w.inbox('school')).at(-1)!;
    expect(introduced).toMatchObject({ type: 'match.claimed', matchId: again!.matchId, coordinator: { contact: { name: 'Sanne Bos' } } });
    expect((await liveMatch(withVt.w)).awaitingIntroduction).toEqual([]);
    expect((await call(withVt.w, 'wij', 'POST', `/v1/matches/${m.id}/claim`, { coordinator: contact })).status).toBe(409);
  });
});

describe('leak 5: location', () => {
  it('Veilig Thuis registering in another municipality does not move the school’s coordinator', async () => {
    const w = await World.create();
    await w.step('+school');
    await w.step('+gp');
    await w.fresh('school');
    await w.fresh('wij');
    await w.step('+vt@0017');
    // The school hears nothing; the match stays with the WIJ team of the school's district.
    expect(await w.fresh('school')).toEqual([]);
    expect(await w.fresh('wij2')).toEqual([]);
    expect((await liveMatch(w)).coordinator!.agency.id).toBe(w.agencies.get('wij')!.id);
    // A party every viewer sees does move it.
    await w.step('-gp');
    await w.step('+gp@0017');
    expect((await w.fresh('school')).at(-1)).toMatch(/^match\.transferred|^match\.party_added|^match\.created/);
    expect((await liveMatch(w, 'wij2')).coordinator!.agency.id).toBe(w.agencies.get('wij2')!.id);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import type { MatchView } from '../../src/app/match-schemas.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { CAST, World } from '../support/world.ts';

let w: World;
const token = async (label: string) => w.h.token(w.agencies.get(label)!);
const call = async (label: string, method: string, url: string, body?: unknown) =>
  w.h.call(method, url, { token: await token(label), ...(body !== undefined ? { body } : {}) });
const id = (label: string) => w.agencies.get(label)!.id;

/** Every agency's new notices since the last look; those not named must have none. */
async function expectFresh(expected: Record<string, string[]>): Promise<void> {
  for (const label of Object.keys(CAST)) expect(await w.fresh(label), label).toEqual(expected[label] ?? []);
}

async function matchOf(label: string): Promise<MatchView> {
  const res = await call(label, 'GET', '/v1/matches');
  expect(res.status).toBe(200);
  const { items } = (await res.json()) as { items: MatchView[] };
  expect(items).toHaveLength(1);
  return items[0]!;
}

const contact = { name: 'Sanne Bos', phone: '050 367 8000', email: 's.bos@wij.example.nl' };

beforeEach(async () => {
  w = await World.create();
});

describe('a match nobody picks up', () => {
  it('created → coordinator assigned → not claimed → escalated to the municipality', async () => {
    await w.step('+school');
    await w.step('+gp');
    await expectFresh({
      school: ['match.created gp:contact'],
      gp: ['match.created school:contact'],
      wij: ['match.coordinator_assigned gp:contact,school:contact'],
    });
    const match = await matchOf('wij');
    expect(match.status).toBe('open');
    expect(match.claimBy).toBe('2026-03-05T09:00:00.000Z'); // three days: the school's is a concern (policy)
    expect(match.parties.map((p) => [p.agency.type, p.kind])).toEqual([['school', 'concern'], ['gp', 'involvement']]);
    expect((await call('muni', 'GET', '/v1/matches')).status).toBe(200);
    expect(((await (await call('muni', 'GET', '/v1/matches')).json()) as { items: unknown[] }).items).toEqual([]);

    w.h.clock.advanceDays(2.9);
    expect(await runJobs(w.h.deps, ['escalation'])).toEqual({ escalation: { escalated: 0 } });
    w.h.clock.advanceDays(0.2);
    expect(await runJobs(w.h.deps, ['escalation'])).toEqual({ escalation: { escalated: 1 } });
    await expectFresh({
      wij: ['match.escalated gp:contact,school:contact'],
      muni: ['match.escalated gp:contact,school:contact'],
    });
    const escalated = await matchOf('muni');
    expect(escalated).toMatchObject({ id: match.id, status: 'escalated', escalatedTo: { id: id('muni') } });
    expect(escalated.timeline.map((e) => e.type)).toEqual(['created', 'party_added', 'party_added', 'escalated']);

    // The municipality claims it; the parties learn whom to call, the WIJ team who took it.
    const claimed = await call('muni', 'POST', `/v1/matches/${match.id}/claim`, { coordinator: contact });
    expect(claimed.status).toBe(200);
    await expectFresh({ school: ['match.claimed gp:contact'], gp: ['match.claimed school:contact'], wij: ['match.claimed gp:contact,school:contact'] });
    const notice = (await w.inbox('school')).at(-1)!;
    expect(notice.coordinator).toEqual({ agency: { id: id('muni'), name: 'muni', type: 'municipality' }, contact });
  });

  it('a match of involvements only has five days; a concern joining it brings the deadline forward', async () => {
    await w.step('+gp');
    await w.step('+jgz');
    const match = await matchOf('wij');
    expect(match.claimBy).toBe('2026-03-07T09:00:00.000Z'); // five days (policy, involvement)
    w.h.clock.advanceDays(1);
    await w.step('+school');
    const sooner = await matchOf('wij');
    expect(sooner.claimBy).toBe('2026-03-06T09:00:00.000Z'); // the concern's three days from now, sooner than five from the start
    w.h.clock.advanceDays(2.9);
    expect(await runJobs(w.h.deps, ['escalation'])).toEqual({ escalation: { escalated: 0 } });
    w.h.clock.advanceDays(0.2);
    expect(await runJobs(w.h.deps, ['escalation'])).toMatchObject({ escalation: { escalated: 1 } });
    expect((await matchOf('wij')).status).toBe('escalated');
  });

  it('running the jobs twice at the same instant sends nothing twice', async () => {
    await w.register('school', 1, { informed: { status: 'pending' }, birthDate: '2008-06-01' });
    await w.step('+gp');
    w.h.clock.advanceDays(30);
    const first = await runJobs(w.h.deps);
    const second = await runJobs(w.h.deps);
    expect(first).toEqual({
      retention: { expiringNoticed: 0, expired: 0, destroyed: 0 },
      escalation: { escalated: 1 },
      reminders: { caseTableDue: 0, informingOverdue: 1, turning18: 1 },
    });
    expect(second).toEqual({
      retention: { expiringNoticed: 0, expired: 0, destroyed: 0 },
      escalation: { escalated: 0 },
      reminders: { caseTableDue: 0, informingOverdue: 0, turning18: 0 },
    });
    const types = async (label: string) => (await w.inbox(label)).map((n) => n.type);
    expect(await types('school')).toEqual(['match.created', 'signal.informing_overdue']);
    expect(await types('wij')).toEqual(['match.coordinator_assigned', 'match.escalated', 'subject.turning_18']);
    expect(await types('muni')).toEqual(['match.escalated']);
  });
});

describe('a match that ends in a case table', () => {
  it('created → claimed → case table convened → outcome → closed', async () => {
    for (const s of ['+school', '+gp', '+vt']) await w.step(s);
    await w.fresh('school'); await w.fresh('gp'); await w.fresh('vt'); await w.fresh('wij');
    const { id: matchId } = await matchOf('wij');

    expect((await call('wij', 'POST', `/v1/matches/${matchId}/claim`, { coordinator: contact })).status).toBe(200);
    await expectFresh({
      school: ['match.claimed gp:contact'],
      gp: ['match.claimed school:contact,vt:contact'],
      vt: ['match.claimed gp:contact,school:contact'],
    });
    expect((await call('wij', 'POST', `/v1/matches/${matchId}/claim`, { coordinator: contact })).status).toBe(409);

    const table = await call('wij', 'POST', `/v1/matches/${matchId}/case-tables`, { scheduledFor: '2026-03-10T14:00:00+01:00' });
    expect(table.status).toBe(201);
    const { id: tableId, invited } = (await table.json()) as { id: string; invited: string[] };
    expect(invited.sort()).toEqual([id('school'), id('gp'), id('vt')].sort());
    await expectFresh({
      school: ['case_table.convened gp:contact'],
      gp: ['case_table.convened school:contact,vt:contact'],
      vt: ['case_table.convened gp:contact,school:contact'],
    });
    expect((await w.inbox('gp')).at(-1)!.caseTable).toMatchObject({ id: tableId, scheduledFor: '2026-03-10T13:00:00.000Z' });
    // The school sees the case table of its own view of the match: its own id, never who was invited.
    expect((await w.inbox('school')).at(-1)!.caseTable).toMatchObject({ scheduledFor: '2026-03-10T13:00:00.000Z', held: null });
    expect((await w.inbox('school')).at(-1)!.caseTable).not.toHaveProperty('invited');

    const outcome = await call('wij', 'POST', `/v1/case-tables/${tableId}/outcome`, {
      held: true,
      attendedBy: [id('school'), id('gp'), id('vt'), id('wij')],
      leadAgencyId: id('vt'),
      nextReviewOn: '2026-06-01',
    });
    expect(outcome.status).toBe(200);
    await expectFresh({
      school: ['case_table.outcome gp:contact'],
      gp: ['case_table.outcome school:contact,vt:contact'],
      vt: ['case_table.outcome gp:contact,school:contact'],
    });
    // The school's outcome names neither Veilig Thuis's presence nor its lead.
    const schoolOutcome = (await w.inbox('school')).at(-1)!.caseTable!;
    expect(schoolOutcome.attendedBy!.sort()).toEqual([id('school'), id('gp'), id('wij')].sort());
    expect(schoolOutcome.leadAgencyId).toBeNull();
    expect((await w.inbox('gp')).at(-1)!.caseTable!.leadAgencyId).toBe(id('vt'));
    expect((await call('wij', 'POST', `/v1/case-tables/${tableId}/outcome`, { held: false, attendedBy: [] })).status).toBe(409);

    const closed = await call('wij', 'POST', `/v1/matches/${matchId}/close`, { reason: 'resolved' });
    expect(closed.status).toBe(200);
    expect(((await closed.json()) as MatchView).status).toBe('closed');
    await expectFresh({ school: ['match.closed gp:contact'], gp: ['match.closed school:contact,vt:contact'], vt: ['match.closed gp:contact,school:contact'] });
    const view = (await (await call('wij', 'GET', `/v1/matches/${matchId}`)).json()) as MatchView;
    expect(view.timeline.map((e) => e.type)).toEqual([
      'created', 'party_added', 'party_added', 'party_added', 'claimed', 'case_table.convened', 'case_table.outcome', 'closed',
    ]);
    expect(view.caseTables[0]).toMatchObject({ held: true, nextReviewOn: '2026-06-01' });
    expect((await call('wij', 'POST', `/v1/matches/${matchId}/close`, { reason: 'other' })).status).toBe(409);
  });

  it('refuses to invite a party that was never told of the match, or to convene before claiming', async () => {
    for (const s of ['+school', '+vt']) await w.step(s);
    const { id: matchId } = await matchOf('wij');
    const early = await call('wij', 'POST', `/v1/matches/${matchId}/case-tables`, { scheduledFor: '2026-03-10T14:00:00Z' });
    expect(early.status).toBe(409);
    await call('wij', 'POST', `/v1/matches/${matchId}/claim`, { coordinator: contact });
    const res = await call('wij', 'POST', `/v1/matches/${matchId}/case-tables`, { scheduledFor: '2026-03-10T14:00:00Z', invite: [id('school')] });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe('invitee_not_a_party');
    const past = await call('wij', 'POST', `/v1/matches/${matchId}/case-tables`, { scheduledFor: '2026-03-01T14:00:00Z' });
    expect(((await past.json()) as { code: string }).code).toBe('scheduled_in_past');
    expect(await w.inbox('school')).toEqual([]);
  });

  it('reminds the coordinator once when no case table follows a claim in time', async () => {
    for (const s of ['+school', '+gp']) await w.step(s);
    const { id: matchId } = await matchOf('wij');
    await call('wij', 'POST', `/v1/matches/${matchId}/claim`, { coordinator: contact });
    await w.fresh('wij');
    w.h.clock.advanceDays(19);
    await runJobs(w.h.deps, ['reminders']);
    await expectFresh({ school: ['match.created gp:contact', 'match.claimed gp:contact'], gp: ['match.created school:contact', 'match.claimed school:contact'] });
    w.h.clock.advanceDays(2);
    await runJobs(w.h.deps, ['reminders']);
    await runJobs(w.h.deps, ['reminders']);
    await expectFresh({ wij: ['match.case_table_due gp:contact,school:contact'] });
  });
});

describe('moves, informing duty, turning 18', () => {
  it('a family moves: the match goes to the new municipality and both coordinators hear it', async () => {
    for (const s of ['+school', '+gp']) await w.step(s);
    const { id: matchId } = await matchOf('wij');
    await call('wij', 'POST', `/v1/matches/${matchId}/claim`, { coordinator: contact });
    for (const l of ['school', 'gp', 'wij']) await w.fresh(l);
    await w.step('+yc@0017');
    await expectFresh({
      school: ['match.party_added gp:contact,youth_care:type'],
      gp: ['match.party_added school:contact,yc:contact'],
      yc: ['match.created gp:contact,school:contact'],
      wij: ['match.transferred'],
      wij2: ['match.transferred gp:contact,school:contact,yc:contact'],
    });
    expect((await w.inbox('wij')).at(-1)!.coordinator?.agency.id).toBe(id('wij2'));
    const moved = await matchOf('wij2');
    expect(moved).toMatchObject({ id: matchId, status: 'open', municipality: '0017', district: 'centrum', claimedAt: null });
    expect((await call('wij', 'GET', `/v1/matches/${matchId}`)).status).toBe(404);
  });

  it('a pending informing duty past its period reminds the registrant once', async () => {
    await w.register('gp', 1, { informed: { status: 'pending' } });
    w.h.clock.advanceDays(13);
    await runJobs(w.h.deps, ['reminders']);
    await expectFresh({});
    w.h.clock.advanceDays(2);
    await runJobs(w.h.deps, ['reminders']);
    await runJobs(w.h.deps, ['reminders']);
    await expectFresh({ gp: ['signal.informing_overdue'] });
    const notice = (await w.inbox('gp'))[0]!;
    expect(notice.signalId).toMatch(/^sig_/);
    expect(notice.matchId).toBeNull();
  });

  it('the coordinator hears 90 days before a subject in an open match turns 18', async () => {
    await w.register('school', 1, { birthDate: '2008-08-15' });
    await w.register('gp', 1, { birthDate: '2008-08-15' });
    await w.fresh('wij');
    w.h.clock.set('2026-05-16T12:00:00.000Z'); // 91 days before
    await runJobs(w.h.deps, ['reminders']);
    await expectFresh({ school: ['match.created gp:contact'], gp: ['match.created school:contact'] });
    w.h.clock.set('2026-05-18T12:00:00.000Z');
    await runJobs(w.h.deps, ['reminders']);
    await runJobs(w.h.deps, ['reminders']);
    await expectFresh({ wij: ['subject.turning_18 gp:contact,school:contact'] });
  });
});

describe('only the coordinator may see a match', () => {
  it('answers 404 to another coordinator and 403 to a party without the scope', async () => {
    for (const s of ['+school', '+gp']) await w.step(s);
    const { id: matchId } = await matchOf('wij');
    for (const label of ['wij2', 'muni']) {
      const res = await call(label, 'GET', `/v1/matches/${matchId}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('match_not_found');
      expect((await call(label, 'POST', `/v1/matches/${matchId}/claim`, { coordinator: contact })).status).toBe(404);
    }
    expect((await call('gp', 'GET', `/v1/matches/${matchId}`)).status).toBe(403);
    expect((await call('gp', 'GET', '/v1/matches')).status).toBe(403);
    expect((await call('wij', 'POST', `/v1/matches/${matchId}/claim`, { coordinator: { name: 'x' } })).status).toBe(400);
    expect((await call('wij', 'POST', `/v1/matches/${matchId}/close`, { reason: 'done', note: 'x' })).status).toBe(400);
  });
});

describe('a closed match stays as it was', () => {
  it('shows the parties as they were when it ended; only a new registration starts a new match', async () => {
    for (const s of ['+school', '+gp', '+yc']) await w.step(s);
    const { id: matchId } = await matchOf('wij');
    expect((await call('wij', 'POST', `/v1/matches/${matchId}/close`, { reason: 'resolved' })).status).toBe(200);
    for (const label of Object.keys(CAST)) await w.fresh(label);

    // A party leaving after the close starts nothing.
    w.h.clock.advanceDays(1);
    await w.step('-yc');
    await expectFresh({});
    expect(((await (await call('wij', 'GET', '/v1/matches?status=open')).json()) as { items: unknown[] }).items).toEqual([]);

    // Veilig Thuis registers: a new match for the coordinator; the school, which may not see
    // Veilig Thuis, hears nothing, as it would had Veilig Thuis not registered.
    w.h.clock.advanceDays(1);
    await w.step('+vt');
    await expectFresh({ gp: ['match.created school:contact,vt:contact'], vt: ['match.created gp:contact,school:contact'], wij: ['match.coordinator_assigned gp:contact,school:contact,vt:contact'] });
    const closed = (await (await call('wij', 'GET', `/v1/matches/${matchId}`)).json()) as MatchView;
    expect(closed.status).toBe('closed');
    expect(closed.parties.map((p) => p.agency.name).sort()).toEqual(['gp', 'school', 'yc']);
    const open = ((await (await call('wij', 'GET', '/v1/matches?status=open')).json()) as { items: MatchView[] }).items;
    expect(open).toHaveLength(1);
    expect(open[0]!.id).not.toBe(matchId);
    expect(open[0]!.parties.map((p) => p.agency.name).sort()).toEqual(['gp', 'school', 'vt']);
  });
});

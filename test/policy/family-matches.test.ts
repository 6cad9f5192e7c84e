import { afterEach, describe, expect, it } from 'vitest';
import { getMatch, listMatches } from '../../src/app/coordination.ts';
import { statistics } from '../../src/app/stats.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { subjectAccess, subjectErasure } from '../../src/app/subject-rights.ts';
import { allowedScopes } from '../../src/policy/grants.ts';
import { validBsn } from '../support/harness.ts';
import { CAST, parentBsn, World } from '../support/world.ts';

/**
 * Family matches under the Groningen policy: two agencies involved with different children of
 * one parent. After the steps, the exact notices every agency holds ("type party:view,… own#N",
 * own#N: the recipient's own signal, for child N). An agency not listed holds none.
 * Steps: "+school#1^a" = the school registers child 1 naming parent a.
 */
const families: Array<[string, string[], Record<string, string[]>]> = [
  ['siblings at a school and a youth-care provider', ['+school#1^a', '+yc#2^a'], {
    school: ['family_match.created youth_care:type own#1'],
    yc: ['family_match.created school:contact own#2'],
    wij: ['family_match.coordinator_assigned school:contact,yc:contact'],
  }],
  ['one child at two agencies is a child match, not a family match', ['+school#1^a', '+gp#1^a'], {
    school: ['match.created gp:contact'],
    gp: ['match.created school:contact'],
    wij: ['match.coordinator_assigned gp:contact,school:contact'],
  }],
  ['siblings, then the GP joins the first: a child match beside the family match', ['+school#1^a', '+yc#2^a', '+gp#1^a'], {
    school: ['family_match.created youth_care:type own#1', 'match.created gp:contact', 'family_match.party_added gp:contact,youth_care:type own#1'],
    yc: ['family_match.created school:contact own#2', 'family_match.party_added gp:contact,school:contact own#2'],
    gp: ['match.created school:contact', 'family_match.created school:contact,yc:contact own#1'],
    wij: [
      'family_match.coordinator_assigned school:contact,yc:contact',
      'match.coordinator_assigned gp:contact,school:contact',
      'family_match.party_added gp:contact,school:contact,yc:contact',
    ],
  }],
  ['Veilig Thuis with a sibling: shielded from the school as in a child match', ['+school#1^a', '+vt#2^a'], {
    vt: ['family_match.created school:contact own#2'],
    wij: ['family_match.coordinator_assigned school:contact,vt:contact'],
  }],
  ['Veilig Thuis joins siblings at a school and the GP: the GP sees it, the school does not', ['+school#1^a', '+gp#2^a', '+vt#2^a'], {
    school: ['family_match.created gp:contact own#1'],
    // Veilig Thuis with the GP's own child is a child match too.
    gp: ['family_match.created school:contact own#2', 'match.created vt:contact', 'family_match.party_added school:contact,vt:contact own#2'],
    vt: ['match.created gp:contact', 'family_match.created gp:contact,school:contact own#2'],
    wij: [
      'family_match.coordinator_assigned gp:contact,school:contact',
      'match.coordinator_assigned gp:contact,vt:contact',
      'family_match.party_added gp:contact,school:contact,vt:contact',
    ],
  }],
  ['half-siblings in different municipalities: the district of the latest signal routes it', ['+gp#3^b', '+jgz#4@0017^b'], {
    gp: ['family_match.created jgz:contact own#3'],
    jgz: ['family_match.created gp:contact own#4'],
    wij2: ['family_match.coordinator_assigned gp:contact,jgz:contact'],
  }],
  ['children of different parents do not match', ['+school#1^a', '+yc#2^b'], {}],
  ['a registration without parents takes no part', ['+school#1^a', '+yc#2'], {}],
  ['a sibling withdrawn: the family match ends', ['+school#1^a', '+yc#2^a', '-yc#2'], {
    school: ['family_match.created youth_care:type own#1', 'family_match.party_left own#1'],
    yc: ['family_match.created school:contact own#2'],
    wij: ['family_match.coordinator_assigned school:contact,yc:contact', 'family_match.closed'],
  }],
];

// Each test builds a region of eleven agencies (on PostgreSQL a database of its own): more than
// vitest's five seconds on a busy machine.
describe.each(families)('Groningen family: %s', { timeout: 30_000 }, (_name, steps, expected) => {
  let w: World;
  afterEach(async () => w?.h.close());
  it('gives every agency exactly the notices the policy grants', async () => {
    w = await World.create();
    for (const step of steps) await w.step(step);
    for (const label of Object.keys(CAST)) expect({ label, notices: await w.fresh(label) }).toEqual({ label, notices: expected[label] ?? [] });
  });
});

describe('family matches', { timeout: 30_000 }, () => {
  let w: World;
  afterEach(async () => w?.h.close());

  const officer = (world: World) => {
    const ctx = world.ctx('muni');
    return { ...ctx, actor: { ...ctx.actor, scopes: new Set(allowedScopes(world.h.policy, 'municipality', [])) } };
  };

  it('the coordinator sees both the child match and the family match, and can claim the family match', async () => {
    w = await World.create();
    for (const step of ['+school#1^a', '+gp#1^a', '+yc#2^a']) await w.step(step);
    const ctx = { ...w.ctx('wij'), actor: { ...w.ctx('wij').actor, scopes: new Set(allowedScopes(w.h.policy, 'wij', [])) } };
    const list = (await listMatches({ ctx, query: { limit: 25 } })).items;
    expect(list.map((m) => m.kind).sort()).toEqual(['child', 'family']);
    const family = list.find((m) => m.kind === 'family')!;
    const child = list.find((m) => m.kind === 'child')!;
    expect(family.related).toEqual([{ id: child.id, kind: 'child', status: 'open', coordinator: expect.objectContaining({ id: w.agencies.get('wij')!.id }) }]);
    expect(child.related.map((r) => [r.id, r.kind])).toEqual([[family.id, 'family']]);
    expect(family.parties.map((p) => [w.label.get(p.agency.id), p.kind])).toEqual([['school', 'concern'], ['gp', 'involvement'], ['yc', 'involvement']]);
    const { claimMatch } = await import('../../src/app/coordination.ts');
    await claimMatch({ ctx, id: family.id, input: { coordinator: { name: 'C. Coördinator', email: 'c@wij.example.nl' } } });
    expect((await getMatch({ ctx, id: family.id })).status).toBe('claimed');
    expect((await w.fresh('yc')).at(-1)).toBe('family_match.claimed gp:contact,school:contact own#2');
    // A case table for the family, then the family match is closed; the child match stays open.
    const { conveneCaseTable, closeMatch } = await import('../../src/app/coordination.ts');
    await conveneCaseTable({ ctx, id: family.id, input: { scheduledFor: '2026-03-09T14:00:00.000Z' } });
    expect(await w.fresh('yc')).toEqual(['case_table.convened gp:contact,school:contact']);
    expect((await w.inbox('yc')).at(-1)!.matchId).toBe(family.id);
    await closeMatch({ ctx, id: family.id, input: { reason: 'resolved' } });
    expect(await w.fresh('yc')).toEqual(['family_match.closed gp:contact,school:contact own#2']);
    expect((await getMatch({ ctx, id: child.id })).status).toBe('open');
    expect(await getMatch({ ctx, id: family.id })).toMatchObject({ status: 'closed', kind: 'family' });
  });

  it("erasing one child ends the family match; erasing a parent's link ends it with notices that outlive it", async () => {
    w = await World.create();
    for (const step of ['+school#1^a', '+gp#1^a']) await w.step(step);
    await w.register('yc', 2, { parents: [{ bsn: parentBsn('a') }], reference: 'YC-DOSSIER-4711' });
    const inbox = async (label: string) => (await w.inbox(label)).map((n) => w.describe(n));
    expect(await inbox('school')).toEqual(['match.created gp:contact', 'family_match.created gp:contact,youth_care:type own#1']);
    await subjectErasure({ ctx: officer(w), bsn: validBsn(2), reason: 'registered_in_error' });
    // The family match held the erased child's registrant: it ends and goes, told by notices that
    // outlive it; the remaining children's signals are no family match (one child, two agencies).
    expect(await inbox('school')).toEqual(['match.created gp:contact', 'family_match.party_left own#1']);
    expect(await inbox('yc')).toEqual(['subject.erased', 'family_match.party_left own#2']);
    expect(await inbox('wij')).toEqual(['match.coordinator_assigned gp:contact,school:contact', 'family_match.closed']);
    // Nothing of the erased child's registration is left in any family record.
    const everything = JSON.stringify(await Promise.all(['school', 'gp', 'wij', 'muni'].map((l) => w.inbox(l))));
    expect(everything).not.toContain('prof yc');
    expect(await w.h.row("select count(*) n from match_events e join matches m on m.id = e.match_id join subjects s on s.id = m.subject_id where s.kind = 'family'")).toEqual({ n: 0 });

    await w.step('+jgz#3^a');
    expect((await w.fresh('school')).at(-1)).toBe('family_match.created gp:contact,jgz:contact own#1');
    const report = await subjectAccess({ ctx: officer(w), bsn: parentBsn('a') });
    expect(report.familyMatches.map((m) => m.status)).toEqual(['open']); // the first went with the erased child's records
    expect(report.registrations).toEqual([]); // the parent is no young person of the index
    const erased = await subjectErasure({ ctx: officer(w), bsn: parentBsn('a'), reason: 'other' });
    expect(erased.matches).toBe(1);
    // The family's notices went with it; what tells the parties it ended outlives it.
    expect(await inbox('school')).toEqual(['match.created gp:contact', 'family_match.party_left own#1', 'family_match.party_left own#1']);
    expect(await inbox('jgz')).toEqual(['family_match.party_left own#3']);
    expect((await w.inbox('school')).at(-1)!.matchId).toBeNull();
    expect((await subjectAccess({ ctx: officer(w), bsn: parentBsn('a') })).familyMatches).toEqual([]);
    // The children's own signals stay, but no longer count for the parent: a new registration naming them starts afresh.
    await w.step('+yc#4^a');
    expect((await inbox('school')).at(-1)).toBe('family_match.party_left own#1');
  });

  it("a parent's access answer leaves out Veilig Thuis, as for a child match", async () => {
    w = await World.create();
    for (const step of ['+vt#1^a', '+yc#2^a']) await w.step(step);
    expect((await subjectAccess({ ctx: officer(w), bsn: parentBsn('a') })).familyMatches).toEqual([]);
    await w.step('+school#1^a');
    expect((await subjectAccess({ ctx: officer(w), bsn: parentBsn('a') })).familyMatches).toEqual([
      expect.objectContaining({ status: 'open', coordinator: { name: 'wij', type: 'wij' } }),
    ]);
  });

  it('refuses parents that fail the 11-test, repeat the child or each other, or come from a type outside family matching', async () => {
    w = await World.create();
    const codes: string[] = [];
    const attempt = async (label: string, parents: Array<{ bsn: string }>) => {
      try {
        await w.register(label, 1, { parents });
        codes.push('ok');
      } catch (e) {
        codes.push((e as { code: string }).code);
      }
    };
    await attempt('school', [{ bsn: '123456789' }]);
    await attempt('school', [{ bsn: validBsn(1) }]);
    await attempt('school', [{ bsn: parentBsn('a') }, { bsn: parentBsn('a') }]);
    const police = await w.h.agency('police', { name: 'police' });
    w.agencies.set('police', police);
    CAST.police = { type: 'police' };
    try {
      await attempt('police', [{ bsn: parentBsn('a') }]);
    } finally {
      delete CAST.police;
    }
    await attempt('school', [{ bsn: parentBsn('a') }, { bsn: parentBsn('b') }]);
    expect(codes).toEqual(['invalid_parent_bsn', 'invalid_parent_bsn', 'invalid_parent_bsn', 'parents_not_allowed', 'ok']);
  });

  it('a family match nobody claims escalates as a family match, with its parties', async () => {
    w = await World.create();
    for (const step of ['+gp#1^a', '+yc#2^a']) await w.step(step);
    await w.fresh('wij');
    w.h.clock.advanceDays(6);
    await runJobs(w.h.deps, ['escalation']);
    expect(await w.fresh('wij')).toEqual(['family_match.escalated gp:contact,yc:contact']);
    expect(await w.fresh('muni')).toEqual(['family_match.escalated gp:contact,yc:contact']);
  });

  it('a WIJ team that is disabled and enabled again takes its family match along, parties and all', async () => {
    w = await World.create();
    for (const step of ['+gp#1^a', '+yc#2^a']) await w.step(step);
    await w.fresh('gp');
    const { disableAgency, enableAgency } = await import('../../src/app/agencies.ts');
    await disableAgency(w.h.deps, w.agencies.get('wij')!.id);
    expect(await w.fresh('muni')).toEqual(['family_match.transferred gp:contact,yc:contact']);
    await enableAgency(w.h.deps, w.agencies.get('wij')!.id);
    expect((await w.fresh('wij')).at(-1)).toBe('family_match.transferred gp:contact,yc:contact');
    expect(await w.fresh('gp')).toEqual([]); // the family match went on; its parties were not told it ended
  });

  it('counts family matches apart in the statistics', async () => {
    w = await World.create();
    for (const step of ['+school#1^a', '+gp#1^a', '+yc#2^a']) await w.step(step);
    const ctx = officer(w);
    const month = w.h.clock.now().toISOString().slice(0, 7);
    const stats = await statistics({ ctx: { ...ctx, deps: { ...ctx.deps, policy: { ...ctx.deps.policy, statistics: { ...ctx.deps.policy.statistics, minCell: 1 } } } }, query: { from: month, to: month, by: 'month' } });
    expect(stats.total.matches.value).toBe(1);
    expect(stats.total.familyMatches.value).toBe(1);
  });
});

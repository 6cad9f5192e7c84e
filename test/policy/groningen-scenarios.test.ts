import { describe, expect, it } from 'vitest';
import { CAST, World } from '../support/world.ts';

/**
 * The Groningen policy, scenario by scenario: after the steps, the exact notices every agency
 * holds ("type party:view,…", parties sorted). An agency not listed must hold none.
 * The WIJ team serves the subject's district (selwerd) and coordinates unless a step says otherwise.
 */
const scenarios: Array<[string, string[], Record<string, string[]>]> = [
  ['school + GP: both see each other, the WIJ team coordinates', ['+school', '+gp'], {
    school: ['match.created gp:contact'],
    gp: ['match.created school:contact'],
    wij: ['match.coordinator_assigned gp:contact,school:contact'],
  }],
  ['school + Veilig Thuis: the school hears nothing at all', ['+school', '+vt'], {
    vt: ['match.created school:contact'],
    wij: ['match.coordinator_assigned school:contact,vt:contact'],
  }],
  ['Veilig Thuis first, then the school: still nothing for the school', ['+vt', '+school'], {
    vt: ['match.created school:contact'],
    wij: ['match.coordinator_assigned school:contact,vt:contact'],
  }],
  ['GP + Veilig Thuis: the GP is told of Veilig Thuis', ['+gp', '+vt'], {
    gp: ['match.created vt:contact'],
    vt: ['match.created gp:contact'],
    wij: ['match.coordinator_assigned gp:contact,vt:contact'],
  }],
  ['school + child protection (GI): hidden from the school', ['+school', '+gi'], {
    gi: ['match.created school:contact'],
    wij: ['match.coordinator_assigned gi:contact,school:contact'],
  }],
  ['school + youth care: the school sees only the type', ['+school', '+yc'], {
    school: ['match.created youth_care:type'],
    yc: ['match.created school:contact'],
    wij: ['match.coordinator_assigned school:contact,yc:contact'],
  }],
  ['youth care + Veilig Thuis: youth care sees only the type', ['+yc', '+vt'], {
    yc: ['match.created veilig_thuis:type'],
    vt: ['match.created yc:contact'],
    wij: ['match.coordinator_assigned vt:contact,yc:contact'],
  }],
  ['JGZ + GI: JGZ sees only the type', ['+jgz', '+gi'], {
    jgz: ['match.created gi:type'],
    gi: ['match.created jgz:contact'],
    wij: ['match.coordinator_assigned gi:contact,jgz:contact'],
  }],
  ['JGZ + Veilig Thuis: JGZ hears nothing', ['+jgz', '+vt'], {
    vt: ['match.created jgz:contact'],
    wij: ['match.coordinator_assigned jgz:contact,vt:contact'],
  }],
  ['two schools', ['+school', '+school2'], {
    school: ['match.created school2:contact'],
    school2: ['match.created school:contact'],
    wij: ['match.coordinator_assigned school2:contact,school:contact'],
  }],
  ['Veilig Thuis joins school + GP: only those who may see it hear of it', ['+school', '+gp', '+vt'], {
    school: ['match.created gp:contact'],
    gp: ['match.created school:contact', 'match.party_added school:contact,vt:contact'],
    vt: ['match.created gp:contact,school:contact'],
    wij: ['match.coordinator_assigned gp:contact,school:contact', 'match.party_added gp:contact,school:contact,vt:contact'],
  }],
  ['GP joins school + Veilig Thuis: the school first hears of the match now, without Veilig Thuis', ['+school', '+vt', '+gp'], {
    school: ['match.created gp:contact'],
    vt: ['match.created school:contact', 'match.party_added gp:contact,school:contact'],
    gp: ['match.created school:contact,vt:contact'],
    wij: ['match.coordinator_assigned school:contact,vt:contact', 'match.party_added gp:contact,school:contact,vt:contact'],
  }],
  ['four parties: school, GP, youth care, Veilig Thuis', ['+school', '+gp', '+yc', '+vt'], {
    school: ['match.created gp:contact', 'match.party_added gp:contact,youth_care:type'],
    gp: ['match.created school:contact', 'match.party_added school:contact,yc:contact', 'match.party_added school:contact,vt:contact,yc:contact'],
    yc: ['match.created gp:contact,school:contact', 'match.party_added gp:contact,school:contact,veilig_thuis:type'],
    vt: ['match.created gp:contact,school:contact,yc:contact'],
    wij: [
      'match.coordinator_assigned gp:contact,school:contact',
      'match.party_added gp:contact,school:contact,yc:contact',
      'match.party_added gp:contact,school:contact,vt:contact,yc:contact',
    ],
  }],
  ['the WIJ team is a party and the coordinator: one notice, as coordinator', ['+school', '+wij'], {
    school: ['match.created wij:contact'],
    wij: ['match.coordinator_assigned school:contact'],
  }],
  ['a withdrawal leaves one party: the match dissolves', ['+school', '+gp', '-gp'], {
    school: ['match.created gp:contact', 'match.party_left'],
    gp: ['match.created school:contact'],
    wij: ['match.coordinator_assigned gp:contact,school:contact', 'match.closed'],
  }],
  ['a withdrawal from three leaves two', ['+school', '+gp', '+jgz', '-gp'], {
    school: ['match.created gp:contact', 'match.party_added gp:contact,jgz:contact', 'match.party_left jgz:contact'],
    gp: ['match.created school:contact', 'match.party_added jgz:contact,school:contact'],
    jgz: ['match.created gp:contact,school:contact', 'match.party_left school:contact'],
    wij: [
      'match.coordinator_assigned gp:contact,school:contact',
      'match.party_added gp:contact,jgz:contact,school:contact',
      'match.party_left jgz:contact,school:contact',
    ],
  }],
  ['Veilig Thuis leaves: the school hears nothing of it', ['+school', '+gp', '+vt', '-vt'], {
    school: ['match.created gp:contact'],
    gp: ['match.created school:contact', 'match.party_added school:contact,vt:contact', 'match.party_left school:contact'],
    vt: ['match.created gp:contact,school:contact'],
    wij: [
      'match.coordinator_assigned gp:contact,school:contact',
      'match.party_added gp:contact,school:contact,vt:contact',
      'match.party_left gp:contact,school:contact',
    ],
  }],
  ['the GP leaves school + GP + Veilig Thuis: the school hears, as if the match had ended', ['+school', '+gp', '+vt', '-gp'], {
    school: ['match.created gp:contact', 'match.party_left'],
    gp: ['match.created school:contact', 'match.party_added school:contact,vt:contact'],
    vt: ['match.created gp:contact,school:contact', 'match.party_left school:contact'],
    wij: [
      'match.coordinator_assigned gp:contact,school:contact',
      'match.party_added gp:contact,school:contact,vt:contact',
      'match.party_left school:contact,vt:contact',
    ],
  }],
  ['Veilig Thuis withdraws from school + Veilig Thuis: the school never knew', ['+school', '+vt', '-vt'], {
    vt: ['match.created school:contact'],
    wij: ['match.coordinator_assigned school:contact,vt:contact', 'match.closed'],
  }],
  ['registering again after a dissolution starts a new match', ['+school', '+gp', '-gp', '+gp'], {
    school: ['match.created gp:contact', 'match.party_left', 'match.created gp:contact'],
    gp: ['match.created school:contact', 'match.created school:contact'],
    wij: ['match.coordinator_assigned gp:contact,school:contact', 'match.closed', 'match.coordinator_assigned gp:contact,school:contact'],
  }],
  ['registering twice tells nobody twice', ['+school', '+gp', '+gp', '+school'], {
    school: ['match.created gp:contact'],
    gp: ['match.created school:contact'],
    wij: ['match.coordinator_assigned gp:contact,school:contact'],
  }],
  ['one agency alone is no match', ['+school'], {}],
  ['two young people do not match each other', ['+school#1', '+gp#2', '+vt#3'], {}],
  ['no district named: the municipality coordinates', ['+school@none', '+gp@none'], {
    school: ['match.created gp:contact'],
    gp: ['match.created school:contact'],
    muni: ['match.coordinator_assigned gp:contact,school:contact'],
  }],
  ['GP, GI, then the school', ['+gp', '+gi', '+school'], {
    gp: ['match.created gi:contact', 'match.party_added gi:contact,school:contact'],
    gi: ['match.created gp:contact', 'match.party_added gp:contact,school:contact'],
    school: ['match.created gp:contact'],
    wij: ['match.coordinator_assigned gi:contact,gp:contact', 'match.party_added gi:contact,gp:contact,school:contact'],
  }],
  ['youth care, GI, then JGZ', ['+yc', '+gi', '+jgz'], {
    yc: ['match.created gi:contact', 'match.party_added gi:contact,jgz:contact'],
    gi: ['match.created yc:contact', 'match.party_added jgz:contact,yc:contact'],
    jgz: ['match.created gi:type,yc:contact'],
    wij: ['match.coordinator_assigned gi:contact,yc:contact', 'match.party_added gi:contact,jgz:contact,yc:contact'],
  }],
  ['Veilig Thuis + GI: safeguarding parties see each other', ['+vt', '+gi'], {
    vt: ['match.created gi:contact'],
    gi: ['match.created vt:contact'],
    wij: ['match.coordinator_assigned gi:contact,vt:contact'],
  }],
  ['a second school joins school + Veilig Thuis', ['+school', '+vt', '+school2'], {
    school: ['match.created school2:contact'],
    school2: ['match.created school:contact'],
    vt: ['match.created school:contact', 'match.party_added school2:contact,school:contact'],
    wij: ['match.coordinator_assigned school:contact,vt:contact', 'match.party_added school2:contact,school:contact,vt:contact'],
  }],
];

describe.each(scenarios)('Groningen: %s', (_name, steps, expected) => {
  it('gives every agency exactly the notices the policy grants', async () => {
    const world = await World.create();
    for (const s of steps) await world.step(s);
    for (const label of Object.keys(CAST)) {
      expect(await world.fresh(label), label).toEqual(expected[label] ?? []);
    }
  });
});

describe('notice content', () => {
  it('carries the own signal and reference, contact details only where granted, and the rules', async () => {
    const world = await World.create();
    await world.register('school', 1, { reference: 'LVS-12' });
    await world.register('yc');
    await world.register('gp');
    const [created, added] = await world.inbox('school');
    expect(created!.reference).toBe('LVS-12');
    expect(created!.signalId).toMatch(/^sig_/);
    expect(created!.parties).toEqual([{ view: 'type', agencyType: 'youth_care' }]);
    expect(created!.coordinator?.agency.type).toBe('wij');
    expect(created!.policy).toMatchObject({ id: 'groningen', version: world.h.policy.version });
    expect(created!.policy.rules).toContain('disclosure.school');
    const gpEntry = added!.parties.find((p) => p.view === 'contact');
    expect(gpEntry).toMatchObject({ view: 'contact', agency: { type: 'gp' }, contact: { name: 'prof gp', email: 'gp@example.nl' } });
    // The GP's own reference is never shown to others.
    expect(JSON.stringify(await world.inbox('gp'))).not.toContain('LVS-12');
  });

  it('a match id tells nothing of when the match began', async () => {
    const world = await World.create();
    await world.step('+school');
    await world.step('+gp');
    await world.step('-gp');
    await world.step('+gp');
    const [first, , second] = await world.inbox('school');
    expect(first!.matchId).not.toBe(second!.matchId);
    expect(first!.matchId).toMatch(/^mat_[0-9a-z]{26}$/);
  });
});

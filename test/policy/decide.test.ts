import { describe, expect, it } from 'vitest';
import { decide, escalationTarget, type Facts, MATCH_RULE, NOTHING_VISIBLE_RULE } from '../../src/policy/decide.ts';
import { loadPolicy, parsePolicy, PolicyError } from '../../src/policy/load.ts';
import fs from 'node:fs';
import { policyPath } from '../support/harness.ts';

const groningen = loadPolicy(policyPath('groningen'));
const strict = loadPolicy(policyPath('strict'));

const coordinators: Facts['coordinators'] = [
  { agencyId: 'agy_wij_selwerd', agencyType: 'wij', municipality: '0014', districts: ['selwerd', 'paddepoel'] },
  { agencyId: 'agy_wij_oost', agencyType: 'wij', municipality: '0014', districts: ['oosterpark'] },
  { agencyId: 'agy_gemeente', agencyType: 'municipality', municipality: '0014', districts: [] },
  { agencyId: 'agy_wij_elders', agencyType: 'wij', municipality: '0017', districts: ['selwerd'] },
];
const facts = (types: string[], district: string | null = 'selwerd', municipality = '0014'): Facts => ({
  parties: types.map((t, i) => ({ agencyId: `agy_${i}_${t}`, agencyType: t as never })),
  location: { municipality, district },
  coordinators,
});

describe('decide (pure)', () => {
  it('gives the same decision for the same facts, whatever their order', () => {
    const f = facts(['school', 'gp', 'veilig_thuis']);
    const shuffled = { ...f, parties: [...f.parties].reverse(), coordinators: [...coordinators].reverse() };
    expect(decide(groningen, shuffled)).toEqual(decide(groningen, f));
  });

  it('is no match with fewer than two agencies (one agency with two signals counts once)', () => {
    const one = decide(groningen, { ...facts(['school']), parties: [{ agencyId: 'a', agencyType: 'school' }, { agencyId: 'a', agencyType: 'school' }] });
    expect(one.match).toBe(false);
    expect(one.recipients).toEqual([]);
    expect(one.rules).toEqual([MATCH_RULE]);
  });

  it('routes to the WIJ team of the district, else the municipality, never another municipality', () => {
    expect(decide(groningen, facts(['school', 'gp'])).coordinator).toMatchObject({ agencyId: 'agy_wij_selwerd', route: 'district_wij' });
    expect(decide(groningen, facts(['school', 'gp'], 'oosterpark')).coordinator?.agencyId).toBe('agy_wij_oost');
    expect(decide(groningen, facts(['school', 'gp'], null)).coordinator).toMatchObject({ agencyId: 'agy_gemeente', route: 'municipality' });
    expect(decide(groningen, facts(['school', 'gp'], 'selwerd', '0017')).coordinator?.agencyId).toBe('agy_wij_elders');
    expect(decide(groningen, facts(['school', 'gp'], 'hoogkerk', '0017')).coordinator).toBeNull();
  });

  it('names the rules behind every recipient, and makes a party that sees nobody silent', () => {
    const d = decide(groningen, facts(['school', 'veilig_thuis']));
    expect(d.silent).toEqual([{ agencyId: 'agy_0_school', rule: NOTHING_VISIBLE_RULE }]);
    const vt = d.recipients.find((r) => r.agencyId === 'agy_1_veilig_thuis')!;
    expect(vt.sees).toEqual([{ agencyId: 'agy_0_school', agencyType: 'school', view: 'contact', rule: 'disclosure.veilig-thuis' }]);
    expect(vt.rules).toEqual([MATCH_RULE, 'disclosure.veilig-thuis', 'coordination.wij-then-municipality']);
    const coordinator = d.recipients.find((r) => r.role === 'coordinator')!;
    expect(coordinator.sees.map((s) => s.view)).toEqual(['contact', 'contact']);
    expect(d.rules).toEqual(expect.arrayContaining([MATCH_RULE, 'disclosure.coordinator-sees-all', NOTHING_VISIBLE_RULE]));
    expect(d.policy).toEqual({ id: 'groningen', version: groningen.version });
  });

  it('uses the default viewer rule for a type the matrix does not list', () => {
    const d = decide(groningen, facts(['municipality', 'gp']));
    expect(d.recipients.find((r) => r.agencyId === 'agy_0_municipality')?.rules).toContain('disclosure.default-type-only');
  });

  it('the stricter policy shows types where Groningen shows contacts', () => {
    const g = decide(groningen, facts(['school', 'gp']));
    const s = decide(strict, facts(['school', 'gp']));
    expect(g.recipients.find((r) => r.agencyId === 'agy_1_gp')!.sees[0]!.view).toBe('contact');
    expect(s.recipients.find((r) => r.agencyId === 'agy_1_gp')!.sees[0]!.view).toBe('type');
  });
});

describe('escalationTarget (pure)', () => {
  const second = { agencyId: 'agy_gemeente_b', agencyType: 'municipality' as const, municipality: '0014', districts: [] };
  const elsewhere = { agencyId: 'agy_gemeente_0017', agencyType: 'municipality' as const, municipality: '0017', districts: [] };
  describe.each([
    ['the municipality\'s own agency takes a match its WIJ team left', '0014', 'agy_wij_selwerd', coordinators, 'agy_gemeente'],
    ['a match nobody coordinates goes to the municipality too', '0014', null, coordinators, 'agy_gemeente'],
    ['the first by id, whatever the order, when a municipality has several', '0014', 'agy_wij_selwerd', [second, ...coordinators].reverse(), 'agy_gemeente'],
    ['nobody else, when the municipality itself let the deadline pass', '0014', 'agy_gemeente', coordinators, null],
    ['never another municipality\'s agency, nor a WIJ team', '0017', 'agy_wij_elders', [...coordinators, second], null],
    ['the agency of the match\'s own municipality, among others', '0017', 'agy_wij_elders', [...coordinators, elsewhere], 'agy_gemeente_0017'],
    ['nobody, without candidates', '0014', 'agy_wij_selwerd', [], null],
  ] as const)('%s', (_, municipality, coordinatorId, candidates, expected) => {
    it(`escalates to ${expected}`, () => {
      expect(escalationTarget({ municipality, coordinatorId, candidates: [...candidates] })).toBe(expected);
    });
  });
});

describe('policy files', () => {
  it('refuses duplicated rule ids, a see map without "*", and unknown fields, naming each', () => {
    const text = fs.readFileSync(policyPath('groningen'), 'utf8');
    const broken = text
      .replace('rule: disclosure.gp-sees-all', 'rule: disclosure.school')
      .replace("see: { '*': type }", 'see: { school: type }')
      .replace('minCell: 10', 'minCell: 10\n  maxCell: 20');
    try {
      parsePolicy(broken, 'broken.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyError);
      const problems = (err as PolicyError).problems.join('\n');
      expect(problems).toMatch(/disclosure\.default\.see/);
      expect(problems).toMatch(/maxCell/);
    }
    const dup = text.replace('rule: disclosure.gp-sees-all', 'rule: disclosure.school');
    expect(() => parsePolicy(dup)).toThrow(/rule id "disclosure.school" is used at/);
  });

  it('versions a policy by its content', () => {
    const text = fs.readFileSync(policyPath('groningen'), 'utf8');
    expect(parsePolicy(text).version).toBe(groningen.version);
    expect(parsePolicy(`${text}\n# a comment changes nothing\n`).version).toBe(groningen.version);
    expect(parsePolicy(text.replace('caseTableDays: 20', 'caseTableDays: 21')).version).not.toBe(groningen.version);
  });
});

describe('policy tooling', () => {
  it('schema/policy.schema.json is generated from the zod schema (no drift)', async () => {
    const { policyJsonSchema } = await import('../../src/policy/json-schema.ts');
    const committed = JSON.parse(fs.readFileSync(new URL('../../schema/policy.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(policyJsonSchema())));
  });

  it('`policy explain` prints the decision with its rule trail', async () => {
    const { cli } = await import('../support/process.ts');
    const facts = policyPath('examples/school-gp-veilig-thuis').replace(/\.yaml$/, '.json');
    const out = cli(['policy', 'explain', policyPath('groningen'), '--facts', facts], {});
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/coordinator: agy_wij_selwerd \(route district_wij/);
    // The school sees the GP and nothing of Veilig Thuis.
    expect(out.stdout).toMatch(/agy_school \(party\) is told[^\n]*\n {4}sees agy_gp \(gp\) as contact {2}\[disclosure\.school\]\nagy_veilig_thuis/);
    expect(out.stdout).toMatch(/agy_gp \(party\) is told[^\n]*\n {4}sees agy_school \(school\) as contact {2}\[disclosure\.gp-sees-all\]\n {4}sees agy_veilig_thuis/);
    const json = cli(['policy', 'explain', policyPath('groningen'), '--facts', facts, '--json'], {});
    expect(JSON.parse(json.stdout)).toEqual({ ...decide(groningen, JSON.parse(fs.readFileSync(facts, 'utf8'))), legalBasis: groningen.legalBasis });
    const bad = cli(['policy', 'explain', policyPath('groningen'), '--facts', policyPath('groningen')], {});
    expect(bad.code).toBe(2);
  }, 30_000);
});

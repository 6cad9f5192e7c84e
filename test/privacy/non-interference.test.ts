import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ephemeralKeyRing } from '../../src/crypto/key-ring.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { policyPath } from '../support/harness.ts';
import { chosenTestStore } from '../support/store-choice.ts';
import { type Action, createRegion, FAMILY, firstDifference, historyArb, runHistory } from './non-interference.ts';

/**
 * Histories per policy. On PostgreSQL a history costs about four times what it costs on SQLite
 * (every statement a round trip, and a reset of the region's database per run: about 1.3 s of CPU
 * a history under the groningen policy, 0.4 s under strict), so fewer are drawn there: 50 keep
 * this file near a minute and a half, the whole SQLite count would take ten.
 */
const RUNS = Number(process.env.NONINTERFERENCE_RUNS ?? (chosenTestStore() === 'postgres' ? 50 : 200));

/**
 * The histories are drawn from a fixed seed, so that a run of the suite is reproducible and CI
 * does not pass or fail by the draw; NONINTERFERENCE_SEED draws others (`random` for a fresh seed
 * each run, as when exploring). A counterexample found that way is kept as a test of its own below.
 */
const SEED_SETTING = process.env.NONINTERFERENCE_SEED ?? '20261204';
const SEED = SEED_SETTING === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(SEED_SETTING);

describe.each(['groningen', 'strict'])('non-interference under the %s policy', (name) => {
  const seed = SEED + (name === 'strict' ? 1 : 0);
  it(`no viewer observes anything of the parties hidden from it (${RUNS} histories, seed ${seed})`, { timeout: 600_000 }, async () => {
    const policy = loadPolicy(policyPath(name));
    const region = await createRegion(name, await ephemeralKeyRing());
    await fc.assert(
      fc.asyncProperty(historyArb, async (history) => {
        const diff = await firstDifference(policy, region, history);
        expect(diff).toBeNull();
      }),
      { numRuns: RUNS, seed },
    );
  });
});

/**
 * A known leak, found by the property with another seed (issue 15's closing note; to be fixed next
 * round): a match line of a narrower lens that escalates goes to the municipality, which cannot
 * act on it while the whole match is claimed by a WIJ team. Without the hidden party (GI) that line
 * is the whole match, the municipality claims it, and youth care is told; with it, youth care never
 * is. `it.fails` passes while the leak is there and fails once it is fixed: then make it an `it`.
 */
describe('known leak: an escalated narrower line nobody can claim', () => {
  const history: Action[] = [
    { op: 'register', who: 'gi', subject: 1, district: 'selwerd', exempt: false, parent: false },
    { op: 'register', who: 'school', subject: 1, district: 'selwerd', exempt: false, parent: false },
    { op: 'claim', subject: 1, byMunicipality: false },
    { op: 'register', who: 'yc', subject: 1, district: 'selwerd', exempt: false, parent: false },
    { op: 'jobs', days: 4 },
    { op: 'claim', subject: 1, byMunicipality: true },
  ];
  it.fails('youth care is told of the municipality\'s claim whether or not GI is involved (strict policy)', { timeout: 120_000 }, async () => {
    const region = await createRegion('strict', await ephemeralKeyRing());
    expect(await firstDifference(loadPolicy(policyPath('strict')), region, history)).toBeNull();
  });
});

describe('the histories the property draws', () => {
  it('make family matches, which narrower lenses hear of and parents ask about', { timeout: 300_000 }, async () => {
    const region = await createRegion('groningen', await ephemeralKeyRing());
    let heard = 0;
    let answered = 0;
    for (const history of fc.sample(historyArb, { numRuns: 40, seed: 13 })) {
      const seen = await runHistory(region, [...history, { op: 'access', subject: 0 }]);
      const json = (label: string) => JSON.stringify(seen.get(label) ?? []);
      if (['school', 'school2', 'jgz', 'yc'].some((l) => json(l).includes('family_match.'))) heard++;
      if (/"familyMatches":\[\{/.test(json(FAMILY))) answered++;
    }
    expect(heard).toBeGreaterThanOrEqual(5);
    expect(answered).toBeGreaterThanOrEqual(2); // half the registrations are safety-exempted, and so left out of a parent's answer
  });
});

describe('every run', () => {
  it('starts from the region as it was seeded: a history run twice is observed the same twice', { timeout: 120_000 }, async () => {
    const region = await createRegion('groningen', await ephemeralKeyRing());
    // Two agencies match on one young person, a job runs, and the family asks.
    const history: Action[] = [
      { op: 'register', who: 'school', subject: 1, district: 'selwerd', exempt: false, parent: true },
      { op: 'register', who: 'gp', subject: 1, district: 'selwerd', exempt: false, parent: false },
      { op: 'claim', subject: 1, byMunicipality: false },
      { op: 'jobs', days: 30 },
      { op: 'access', subject: 1 },
    ];
    const first = await runHistory(region, history);
    expect(JSON.stringify(first.get('gp'))).toContain('match.');
    expect(first.get(FAMILY)).toHaveLength(1);
    // Anything left of the first run would show: a second registration answers 'existing', a
    // second match makes more notices, the family hears of it.
    expect(await runHistory(region, history)).toEqual(first);
  });
});

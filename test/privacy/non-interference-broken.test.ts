import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ephemeralKeyRing } from '../../src/crypto/key-ring.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { policyPath } from '../support/harness.ts';
import { createRegion, firstDifference, historyArb } from './non-interference.ts';

// A deliberately broken projection, in this test only: every recipient hears from the match of
// the full lens, and every party moves a match, as the index did before the lines per lens. The
// property must catch it.
vi.mock('../../src/policy/lens.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/policy/lens.ts')>();
  const locate: typeof real.locate = (_policy, latestFirst) => {
    const { municipality } = latestFirst[0]!;
    const named = latestFirst.find((s) => s.municipality === municipality && s.district());
    return { municipality, district: named ? named.district() : null };
  };
  return { ...real, lensesOf: () => [real.FULL_LENS], partyLens: () => real.FULL_LENS, locate };
});

describe('the non-interference property', () => {
  it('catches a projection that lets a hidden party shape what others are told', { timeout: 300_000 }, async () => {
    const policy = loadPolicy(policyPath('groningen'));
    const region = await createRegion('groningen', await ephemeralKeyRing());
    // The grouping of viewers needs the real lenses, whatever the product was given.
    const { partyLens } = await vi.importActual<typeof import('../../src/policy/lens.ts')>('../../src/policy/lens.ts');
    const result = await fc.check(
      fc.asyncProperty(historyArb, async (history) => (await firstDifference(policy, region, history, partyLens)) === null),
      { numRuns: 1000, endOnFailure: true },
    );
    expect(result.failed).toBe(true);
    console.info(`broken projection caught after ${result.numRuns} histories`);
    expect(result.counterexample).not.toBeNull();
  });
});

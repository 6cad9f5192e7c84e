import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ephemeralKeyRing } from '../../src/crypto/key-ring.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { policyPath } from '../support/harness.ts';
import { createRegion, firstDifference, historyArb } from './non-interference.ts';

const RUNS = Number(process.env.NONINTERFERENCE_RUNS ?? 200);

describe.each(['groningen', 'strict'])('non-interference under the %s policy', (name) => {
  it(`no viewer observes anything of the parties hidden from it (${RUNS} histories)`, { timeout: 600_000 }, async () => {
    const policy = loadPolicy(policyPath(name));
    const region = await createRegion(name, await ephemeralKeyRing());
    await fc.assert(
      fc.asyncProperty(historyArb, async (history) => {
        const diff = await firstDifference(policy, region, history);
        expect(diff).toBeNull();
      }),
      { numRuns: RUNS },
    );
  });
});

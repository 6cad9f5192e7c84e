import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/harness.ts';

/** The harness's test SQL runs on the store of the run, with counts as numbers on both. */
describe('harness rows and run', () => {
  let h: Harness;
  afterEach(async () => h?.store.close());

  it('reads and changes rows with ? placeholders on either store', async () => {
    h = await createHarness();
    const school = await h.agency('school');
    expect(await h.row('select count(*) as n from agencies where id = ?', school.id)).toEqual({ n: 1 });
    expect(await h.run("update agencies set status = 'disabled' where id = ? and type = ?", school.id, 'school')).toBe(1);
    expect(await h.rows('select status from agencies where id = ?', school.id)).toEqual([{ status: 'disabled' }]);
    expect(await h.row('select id from agencies where id = ?', 'nobody')).toBeUndefined();
  });
});

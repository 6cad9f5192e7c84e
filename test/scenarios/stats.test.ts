import { describe, expect, it } from 'vitest';
import { type Stats, suppress } from '../../src/app/stats.ts';
import { validBsn } from '../support/harness.ts';
import { World } from '../support/world.ts';

type Row = Stats['rows'][number];
const row = (key: string, signals: number): Row => ({
  key,
  signals: { value: signals, suppressed: false },
  matches: { value: 0, suppressed: false },
  familyMatches: { value: 0, suppressed: false },
  claimedWithinDeadline: { value: null, suppressed: false },
  medianDaysToClaim: { value: null, suppressed: false },
  caseTablesHeld: { value: 0, suppressed: false },
});

describe('small-cell suppression', () => {
  it('withholds cells under the minimum, but shows zeros', () => {
    const rows = [row('a', 12), row('b', 3), row('c', 0), row('d', 4)];
    const total = row('total', 19);
    suppress(rows, total, 10);
    expect(rows.map((r) => r.signals)).toEqual([
      { value: 12, suppressed: false },
      { value: null, suppressed: true },
      { value: 0, suppressed: false },
      { value: null, suppressed: true },
    ]);
    expect(total.signals.value).toBe(19); // two withheld cells: neither can be found from the total
  });

  it('the subtraction case: a lone withheld cell takes the next smallest with it', () => {
    const rows = [row('a', 12), row('b', 15), row('c', 3)];
    const total = row('total', 30);
    suppress(rows, total, 10);
    expect(rows.map((r) => r.signals.value)).toEqual([null, 15, null]);
    expect(total.signals.value).toBe(30);
    // With no other cell to hide, the total goes instead.
    const pair = [row('a', 0), row('b', 4)];
    const pairTotal = row('total', 4);
    suppress(pair, pairTotal, 10);
    expect(pairTotal.signals).toEqual({ value: null, suppressed: true });
  });
});

describe('GET /v1/stats', () => {
  it('counts by municipality, suppresses small cells, and needs stats:read', async () => {
    const w = await World.create('groningen', ['school', 'gp', 'wij', 'muni', 'wij2', 'muni2']);
    for (let i = 0; i < 12; i++) {
      await w.register('school', i);
      await w.register('gp', i);
    }
    for (let i = 100; i < 103; i++) await w.register('school', i, { municipality: '0017', district: 'centrum' });
    const token = await w.h.token(w.agencies.get('muni')!);
    const res = await w.h.call('GET', '/v1/stats?from=2026-01&to=2026-12&by=municipality', { token });
    expect(res.status).toBe(200);
    const stats = (await res.json()) as Stats;
    expect(stats.minCell).toBe(10);
    const by = Object.fromEntries(stats.rows.map((r) => [r.key, r]));
    expect(by['0014']!.signals).toEqual({ value: null, suppressed: true }); // would give 0017 away: 27 − 24 = 3
    expect(by['0017']!.signals).toEqual({ value: null, suppressed: true });
    expect(stats.total.signals).toEqual({ value: 27, suppressed: false });
    expect(by['0014']!.matches).toEqual({ value: 12, suppressed: false });
    expect(by['0014']!.claimedWithinDeadline).toEqual({ value: 0, suppressed: false });

    const byMonth = (await (await w.h.call('GET', '/v1/stats?from=2026-03&to=2026-03&by=month', { token })).json()) as Stats;
    expect(byMonth.rows.map((r) => [r.key, r.signals.value, r.matches.value])).toEqual([['2026-03', 27, 12]]);
    const bad = await w.h.call('GET', '/v1/stats?from=2026-13&to=2026-12', { token });
    expect(bad.status).toBe(400);
    const school = await w.h.token(w.agencies.get('school')!);
    expect((await w.h.call('GET', '/v1/stats?from=2026-01&to=2026-12', { token: school })).status).toBe(403);
    expect(JSON.stringify(stats)).not.toContain(validBsn(1));
  });
});

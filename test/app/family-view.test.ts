import { describe, expect, it } from 'vitest';
import { type FamilySignal, familyAccesses, matchSpans } from '../../src/app/family-view.ts';
import type { SubjectAuditRow } from '../../src/store/subject-records.ts';

const day = (d: number) => `2026-03-${String(d).padStart(2, '0')}T09:00:00.000Z`;
let n = 0;
function signal(agencyId: string, from: number, until?: number): FamilySignal {
  return {
    id: `sig_${++n}`, agencyId, subjectId: 'sub_1', kind: 'involvement', status: until ? 'ended' : 'active', municipality: '0014', district: 'selwerd',
    informed: { status: 'informed' }, informingPending: false, sealed: Buffer.alloc(0), registeredAt: day(from), expiresAt: day(28), updatedAt: day(from),
    endedAt: until ? day(until) : null, endReason: until ? 'care_ended' : null,
  };
}
function record(agencyId: string | null, action: string, at: number): SubjectAuditRow {
  return { seq: ++n, at: day(at), agencyId, actor: null, action, subject: 'p', resource: null, outcome: 'ok', requestId: null, prevHash: '', hash: '' };
}
const spansOf = (signals: FamilySignal[]) => matchSpans(signals).map((s) => [s.from, s.until]);

describe('the family’s matches: spans with two or more agencies active at once', () => {
  it.each([
    ['one agency', [signal('a', 1)], []],
    ['two agencies, still active', [signal('a', 1), signal('b', 3)], [[day(3), null]]],
    ['one agency twice does not make a match', [signal('a', 1, 4), signal('a', 4)], []],
    ['a match that ended and one that began', [signal('a', 1), signal('b', 2, 4), signal('c', 6)], [[day(2), day(4)], [day(6), null]]],
    ['a third agency keeps it going', [signal('a', 1, 5), signal('b', 2), signal('c', 4)], [[day(2), null]]],
    ['a standing clock still sees a match that came and went', [signal('a', 1), signal('b', 1, 1)], [[day(1), day(1)]]],
  ])('%s', (_, signals, expected) => {
    expect(spansOf(signals)).toEqual(expected);
  });
});

describe('the family’s list of accesses', () => {
  const visible = [signal('a', 2), signal('b', 4, 8)];
  const spans = matchSpans(visible).map((s) => ({ ...s, coordinatorId: 'w' }));
  const seesAll = () => true;

  it('keeps own acts, drops shielded agencies and the index’s own jobs', () => {
    const shown = familyAccesses([record('a', 'signal.register', 2), record('vt', 'signal.register', 3), record(null, 'signal.expire', 5)], new Set(['vt']), [], [], seesAll);
    expect(familyAccesses([], new Set(), [], visible, seesAll)).toEqual([]);
    expect(shown.map((a) => `${a.agencyId} ${a.action}`)).toEqual(['a signal.register']);
  });

  it('shows that the coordinator and each party that could see another were told, once per match, from the signals; no coordinator acts', () => {
    const shown = familyAccesses(
      [
        record('w', 'match.claim', 3), // a match the family does not have
        record('w', 'notice.match.coordinator_assigned', 3),
        record('w', 'notice.match.party_added', 4),
        record('m', 'notice.match.escalated', 5), // the municipality, told because of an earlier match
        record('a', 'notice.read', 5),
        record('w', 'notice.match.party_left', 6),
        record('w', 'notice.read', 6),
        record('w', 'notice.read', 7),
        record('w', 'case_table.convene', 7),
        record('w', 'match.read', 9),
        record('w', 'stats.read', 9),
      ],
      new Set(),
      spans,
      visible,
      seesAll,
    );
    expect(shown.map((a) => `${a.at.slice(8, 10)} ${a.agencyId} ${a.action}`)).toEqual(['04 w notice.sent', '04 a notice.sent', '04 b notice.sent']);
    // A party that may see none of the others is not told.
    const blind = familyAccesses([], new Set(), spans, visible, (viewer) => viewer !== 'a');
    expect(blind.map((a) => `${a.agencyId} ${a.action}`)).toEqual(['w notice.sent', 'b notice.sent']);
  });

  it('shows the fixed outcome of an access request, not what it withheld', () => {
    const asked = { ...record('m', 'subject.access_request', 9), outcome: 'answered; withheld: x' };
    expect(familyAccesses([asked], new Set(), [], [], seesAll)[0]!.outcome).toBe('answered');
  });
});

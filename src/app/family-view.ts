import type { SubjectAuditRow, SubjectSignalRow } from '../store/subject-records.ts';
import type { SealedSignal } from './signal-record.ts';

/** A signal of the young person with the parts of its sealed record the answer needs. */
export type FamilySignal = SubjectSignalRow & Pick<SealedSignal, 'kind' | 'district' | 'informed'>;

/**
 * What a family's access request may show, worked out from the records of the agencies it may
 * see and nothing else (DESIGN, non-interference): the answer is the one the family would get had
 * the shielded agencies never acted. Pure, so a test can hold it to that.
 */

export interface MatchSpan {
  from: string;
  /** null while two or more visible agencies are still involved. */
  until: string | null;
  /** The visible signals active in the span's last state, latest first (where the family lives). */
  lastParties: FamilySignal[];
  /** Every visible agency with an active signal at some time in the span. */
  agencies: Set<string>;
}

/**
 * The spans in which two or more visible agencies had active signals at once (for a family match:
 * were its parties, `partiesOf`): the matches the family would have had without the shielded ones. At equal instants a registration counts
 * before an ending, so a standing clock still sees a match that came and went.
 */
export function matchSpans(visible: FamilySignal[], partiesOf: (active: FamilySignal[]) => FamilySignal[] = (active) => active): MatchSpan[] {
  const events = visible.flatMap((s, order) => [
    { at: s.registeredAt, start: true, order, signal: s },
    ...(s.endedAt ? [{ at: s.endedAt, start: false, order, signal: s }] : []),
  ]);
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.start !== b.start ? (a.start ? -1 : 1) : a.order - b.order));
  const active = new Map<string, FamilySignal>();
  const spans: MatchSpan[] = [];
  let open: MatchSpan | null = null;
  const latestFirst = (signals: Iterable<FamilySignal>) =>
    [...signals].sort((a, b) => (a.registeredAt === b.registeredAt ? (a.id < b.id ? 1 : -1) : a.registeredAt < b.registeredAt ? 1 : -1));
  for (const e of events) {
    if (e.start) active.set(e.signal.id, e.signal);
    else active.delete(e.signal.id);
    const parties = partiesOf(latestFirst(active.values()));
    const partyIds = new Set(parties.map((s) => s.agencyId));
    if (partyIds.size >= 2) {
      if (!open) spans.push((open = { from: e.at, until: null, lastParties: [], agencies: new Set() }));
      for (const a of active.values()) if (partyIds.has(a.agencyId)) open.agencies.add(a.agencyId);
      open.lastParties = parties;
    } else if (open) {
      open.until = e.at;
      open = null;
    }
  }
  return spans;
}


/**
 * Accesses that are the agency's own act on its own signal (or the erasure notice about it, which
 * goes to whoever has an active signal), or the family's own requests.
 */
const OWN_ACTS = new Set([
  'signal.register', 'signal.read', 'signal.update', 'signal.withdraw', 'notice.subject.erased',
  'subject.access_request', 'subject.erase', 'audit.read',
]);
/** Outcomes that would tell what was withheld or how much there was: shown as a fixed word. */
const FIXED_OUTCOME: Record<string, string> = { 'subject.access_request': 'answered', 'audit.read': 'ok' };

export interface FamilyAccess {
  at: string;
  agencyId: string;
  action: string;
  outcome: string;
}

/**
 * Who accessed the young person's data, as the family may see it:
 * - nothing by a shielded agency, and nothing without an agency (the index's own jobs);
 * - an agency's own acts on its own signal, and the requests made for the family, always;
 * - that the index told an agency of a match: once per match, for its coordinator when the match
 *   began and for each party when it first could see another of the match's agencies. These are
 *   worked out from the visible agencies' signals, not read from the log: which notices an agency
 *   got, when and how many, depends on who else was involved (the log keeps them for the privacy
 *   officer);
 * - nothing of what a coordinator did with a match (reads, claims, case tables, closes): it sees
 *   the shielded agencies and acts on what it sees, so its acts cannot be shown without their cause.
 * Any other action is left out: when in doubt, a party learns less.
 */
export function familyAccesses(
  audit: SubjectAuditRow[],
  shielded: ReadonlySet<string>,
  spans: Array<Pick<MatchSpan, 'from' | 'until' | 'agencies'> & { coordinatorId: string | null }>,
  visible: FamilySignal[],
  sees: (viewer: string, other: string) => boolean,
): FamilyAccess[] {
  const shown: FamilyAccess[] = [];
  for (const r of audit) {
    if (!r.agencyId || shielded.has(r.agencyId) || !OWN_ACTS.has(r.action)) continue;
    shown.push({ at: r.at, agencyId: r.agencyId, action: r.action, outcome: FIXED_OUTCOME[r.action] ?? r.outcome });
  }
  const told = (agencyId: string, at: string) => shown.push({ at, agencyId, action: 'notice.sent', outcome: 'disclosed' });
  for (const span of spans) {
    const inSpan = (s: FamilySignal) => span.agencies.has(s.agencyId) && (span.until === null || s.registeredAt <= span.until) && (s.endedAt === null || s.endedAt >= span.from);
    const signals = visible.filter(inSpan);
    if (span.coordinatorId) told(span.coordinatorId, span.from);
    for (const agencyId of span.agencies) {
      if (agencyId === span.coordinatorId) continue;
      let first: string | null = null;
      for (const own of signals.filter((s) => s.agencyId === agencyId)) {
        for (const other of signals) {
          if (other.agencyId === agencyId || !sees(agencyId, other.agencyId)) continue;
          const from = [own.registeredAt, other.registeredAt, span.from].sort().at(-1)!;
          const to = [own.endedAt, other.endedAt, span.until].filter((x): x is string => x !== null).sort()[0] ?? null;
          if ((to === null || from <= to) && (first === null || from < first)) first = from;
        }
      }
      if (first) told(agencyId, first);
    }
  }
  // In time order (a stable sort: in one instant, the acts in the order of the log, then the notices).
  return shown.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

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
 * The spans in which two or more visible agencies had active signals at once: the matches the
 * family would have had without the shielded ones. At equal instants a registration counts
 * before an ending, so a standing clock still sees a match that came and went.
 */
export function matchSpans(visible: FamilySignal[]): MatchSpan[] {
  const events = visible.flatMap((s, order) => [
    { at: s.registeredAt, start: true, order, signal: s },
    ...(s.endedAt ? [{ at: s.endedAt, start: false, order, signal: s }] : []),
  ]);
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.start !== b.start ? (a.start ? -1 : 1) : a.order - b.order));
  const active = new Map<string, FamilySignal>();
  const spans: MatchSpan[] = [];
  let open: MatchSpan | null = null;
  const agencyCount = () => new Set([...active.values()].map((s) => s.agencyId)).size;
  for (const e of events) {
    if (e.start) active.set(e.signal.id, e.signal);
    else active.delete(e.signal.id);
    const matched = agencyCount() >= 2;
    if (matched) {
      if (!open) spans.push((open = { from: e.at, until: null, lastParties: [], agencies: new Set() }));
      for (const a of active.values()) open.agencies.add(a.agencyId);
      open.lastParties = [...active.values()].sort((a, b) => (a.registeredAt === b.registeredAt ? (a.id < b.id ? 1 : -1) : a.registeredAt < b.registeredAt ? 1 : -1));
    } else if (open) {
      open.until = e.at;
      open = null;
    }
  }
  return spans;
}

/** Where the young person lives by the given signals: the latest one's municipality and the latest district named there. */
export function locationOf(latestFirst: FamilySignal[]): { municipality: string; district: string | null } {
  const latest = latestFirst[0]!;
  const district = latestFirst.find((s) => s.municipality === latest.municipality && s.district)?.district ?? null;
  return { municipality: latest.municipality, district };
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
 * - notices (sent, read, acknowledged) only within a span in which the family has a match, only
 *   those of the span's parties and its routed coordinator, and once per agency and span, at the
 *   first: outside such a span a notice could only be about a shielded agency's match, and how
 *   many an agency got, or whether the municipality got one on escalation, depends on who else
 *   was involved;
 * - nothing of what a coordinator did with a match (reads, claims, case tables, closes): it sees
 *   the shielded agencies and acts on what it sees (a match claimed before the family had one is
 *   not claimed again), so its acts cannot be shown without showing their cause. The match names
 *   its coordinator; the audit log keeps the acts for the privacy officer.
 * Any other action is left out: when in doubt, a party learns less.
 */
export function familyAccesses(
  audit: SubjectAuditRow[],
  shielded: ReadonlySet<string>,
  spans: Array<Pick<MatchSpan, 'from' | 'until' | 'agencies'> & { coordinatorId: string | null }>,
): FamilyAccess[] {
  const shown: FamilyAccess[] = [];
  const seenNotice = new Set<string>();
  const spanAt = (at: string) => spans.findIndex((s) => s.from <= at && (s.until === null || at <= s.until));
  for (const r of audit) {
    if (!r.agencyId || shielded.has(r.agencyId)) continue;
    if (OWN_ACTS.has(r.action)) {
      shown.push({ at: r.at, agencyId: r.agencyId, action: r.action, outcome: FIXED_OUTCOME[r.action] ?? r.outcome });
      continue;
    }
    if (!r.action.startsWith('notice.')) continue;
    const i = spanAt(r.at);
    const span = spans[i];
    if (!span || !(span.agencies.has(r.agencyId) || span.coordinatorId === r.agencyId)) continue;
    const action = r.action === 'notice.read' || r.action === 'notice.ack' ? r.action : 'notice.sent';
    const key = `${i}|${r.agencyId}|${action}`;
    if (seenNotice.has(key)) continue;
    seenNotice.add(key);
    shown.push({ at: r.at, agencyId: r.agencyId, action, outcome: action === 'notice.sent' ? 'disclosed' : 'ok' });
  }
  return shown;
}

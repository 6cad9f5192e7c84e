import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { agencies, matches, matchRecipients, signals } from '../../schema/tables.ts';
import { newId, opaqueId } from '../crypto/ids.ts';
import { decide, type Decision, type Facts, type Recipient } from '../policy/decide.ts';
import type { AgencyType } from '../policy/types.ts';
import { appendAudit } from '../store/audit.ts';
import type { Tx } from '../store/db.ts';
import { insertNotice } from '../store/notices.ts';
import type { Deps } from './context.ts';
import type { AgencyRef, NoticeBody, NoticeType, PartyEntry } from './notice-schemas.ts';
import { openSignal, type SignalRow } from './signal-record.ts';

type MatchRow = typeof matches.$inferSelect;
type Visible = Array<{ agencyId: string; view: 'contact' | 'type' }>;

/** The subject whose match is reconciled: its id, data key and pseudonym (for the audit log). */
export interface SubjectHandle {
  subjectId: string;
  dataKey: Uint8Array;
  pseudonym: string;
}

const LIVE = ['open', 'claimed', 'escalated'] as const;

function activeSignals(tx: Tx, subjectId: string) {
  return tx
    .select({ signal: signals, agency: { id: agencies.id, name: agencies.name, type: agencies.type } })
    .from(signals)
    .innerJoin(agencies, eq(agencies.id, signals.agencyId))
    .where(and(eq(signals.subjectId, subjectId), eq(signals.status, 'active')))
    .orderBy(desc(signals.registeredAt), desc(signals.id))
    .all();
}

/** Where the subject lives: the municipality of the latest signal, and the latest district named there. */
function locate(rows: Array<{ signal: SignalRow }>): Facts['location'] {
  const latest = rows[0]!.signal;
  const district = rows.find((r) => r.signal.municipality === latest.municipality && r.signal.district)?.signal.district ?? null;
  return { municipality: latest.municipality, district };
}

function coordinatorCandidates(tx: Tx, municipality: string): Facts['coordinators'] {
  return tx
    .select({ agencyId: agencies.id, agencyType: agencies.type, municipality: agencies.municipality, districts: agencies.districts })
    .from(agencies)
    .where(and(eq(agencies.municipality, municipality), eq(agencies.status, 'active'), inArray(agencies.type, ['wij', 'municipality'])))
    .all()
    .map((c) => ({ ...c, agencyType: c.agencyType as AgencyType }));
}

function agencyRef(tx: Tx, id: string): AgencyRef {
  const a = tx.select({ id: agencies.id, name: agencies.name, type: agencies.type }).from(agencies).where(eq(agencies.id, id)).get()!;
  return { ...a, type: a.type as AgencyType };
}

function sameSet(a: Visible, b: Visible): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => y.agencyId === x.agencyId && y.view === x.view));
}

/** Which notice, if any, a change of what a recipient sees calls for. */
function changeType(before: Visible | undefined, after: Visible, role: Recipient['role']): NoticeType | null {
  const isCoordinator = role !== 'party';
  if (!before || (before.length === 0 && after.length > 0)) return isCoordinator ? 'match.coordinator_assigned' : 'match.created';
  if (sameSet(before, after)) return null;
  if (after.some((x) => !before.some((y) => y.agencyId === x.agencyId))) return 'match.party_added';
  if (before.some((x) => !after.some((y) => y.agencyId === x.agencyId))) return 'match.party_left';
  return null;
}

/**
 * Brings a subject's match in line with its active signals, in the caller's transaction (DESIGN
 * rule 4): creates, grows, shrinks or dissolves it, and writes a notice for every recipient whose
 * view changed, exactly as the policy decides. A recipient whom a change does not concern hears
 * nothing, so that a hidden party's comings and goings cannot be read from the inbox.
 */
export function reconcileMatch(tx: Tx, deps: Deps, subject: SubjectHandle, requestId: string | null): Decision {
  const now = deps.clock.now().toISOString();
  const rows = activeSignals(tx, subject.subjectId);
  const live = tx
    .select()
    .from(matches)
    .where(and(eq(matches.subjectId, subject.subjectId), inArray(matches.status, [...LIVE])))
    .get();

  const parties = rows.map((r) => ({ agencyId: r.agency.id, agencyType: r.agency.type as AgencyType }));
  const location = rows.length > 0 ? locate(rows) : { municipality: live?.municipality ?? '', district: live?.district ?? null };
  const facts: Facts = { parties, location, coordinators: parties.length >= 2 ? coordinatorCandidates(tx, location.municipality) : [] };
  const decision = decide(deps.policy, facts);

  if (!decision.match) {
    if (live) dissolve(tx, deps, subject, live, decision, requestId, now);
    return decision;
  }

  let match: MatchRow;
  if (live) {
    match = live;
    const coordinatorId = decision.coordinator?.agencyId ?? null;
    tx.update(matches)
      .set({ municipality: location.municipality, district: location.district, coordinatorId, policyVersion: deps.policy.version, updatedAt: now })
      .where(eq(matches.id, live.id))
      .run();
    match = { ...live, municipality: location.municipality, district: location.district, coordinatorId };
  } else {
    match = {
      id: opaqueId('mat'),
      subjectId: subject.subjectId,
      status: 'open',
      municipality: location.municipality,
      district: location.district,
      coordinatorId: decision.coordinator?.agencyId ?? null,
      policyVersion: deps.policy.version,
      createdAt: now,
      updatedAt: now,
      endedAt: null,
    };
    tx.insert(matches).values(match).run();
  }

  const previous = new Map(
    tx.select().from(matchRecipients).where(eq(matchRecipients.matchId, match.id)).all().map((r) => [r.agencyId, r]),
  );
  const byAgency = new Map(rows.map((r) => [r.agency.id, r]));
  const coordinator = match.coordinatorId ? { agency: agencyRef(tx, match.coordinatorId), contact: null } : null;

  const partyEntry = (p: Recipient['sees'][number]): PartyEntry => {
    if (p.view === 'type') return { view: 'type', agencyType: p.agencyType };
    const r = byAgency.get(p.agencyId)!;
    const sealed = openSignal(subject.dataKey, r.signal);
    return { view: 'contact', agency: { ...r.agency, type: r.agency.type as AgencyType }, contact: sealed.professional, since: r.signal.registeredAt };
  };

  const notify = (agencyId: string, type: NoticeType, parties: PartyEntry[], rules: string[]) => {
    const own = byAgency.get(agencyId);
    const body: NoticeBody = {
      id: newId('ntc', deps.clock.now()),
      type,
      createdAt: now,
      matchId: match.id,
      signalId: own?.signal.id ?? null,
      reference: own ? openSignal(subject.dataKey, own.signal).reference : null,
      parties,
      coordinator,
      policy: { id: deps.policy.id, version: deps.policy.version, rules },
    };
    insertNotice(tx, { body, agencyId, subjectId: subject.subjectId, dataKey: subject.dataKey });
    appendAudit(tx, { at: now, agencyId, actor: null, action: `notice.${type}`, subject: subject.pseudonym, resource: body.id, outcome: 'disclosed', requestId });
  };

  const current = new Set<string>();
  for (const recipient of decision.recipients) {
    current.add(recipient.agencyId);
    const visible: Visible = recipient.sees.map((p) => ({ agencyId: p.agencyId, view: p.view }));
    const before = previous.get(recipient.agencyId);
    const transferred = recipient.role !== 'party' && live?.coordinatorId && live.coordinatorId !== recipient.agencyId;
    const type = transferred ? 'match.transferred' : changeType(before?.visible, visible, recipient.role);
    if (type) notify(recipient.agencyId, type, recipient.sees.map(partyEntry), recipient.rules);
    tx.insert(matchRecipients)
      .values({ matchId: match.id, agencyId: recipient.agencyId, role: recipient.role, visible, updatedAt: now })
      .onConflictDoUpdate({ target: [matchRecipients.matchId, matchRecipients.agencyId], set: { role: recipient.role, visible, updatedAt: now } })
      .run();
  }
  // Those who were told before and are no longer recipients: a party that now sees nobody hears
  // that the parties it saw have left; a party that left itself knows already.
  for (const [agencyId, before] of previous) {
    if (current.has(agencyId)) continue;
    const stillParty = byAgency.has(agencyId);
    if (before.role !== 'party' && agencyId !== match.coordinatorId) {
      // The family moved: the former coordinator hears who took the match over.
      notify(agencyId, 'match.transferred', [], [decision.coordinator?.rule ?? deps.policy.coordination.rule]);
    } else if (stillParty && before.visible.length > 0) {
      const silent = decision.silent.find((s) => s.agencyId === agencyId);
      notify(agencyId, 'match.party_left', [], silent ? [silent.rule] : []);
    }
    if (stillParty) {
      tx.update(matchRecipients)
        .set({ visible: [], updatedAt: now })
        .where(and(eq(matchRecipients.matchId, match.id), eq(matchRecipients.agencyId, agencyId)))
        .run();
    } else {
      tx.delete(matchRecipients).where(and(eq(matchRecipients.matchId, match.id), eq(matchRecipients.agencyId, agencyId))).run();
    }
  }
  return decision;
}

/** Fewer than two agencies remain: the match ends; whoever saw someone hears they have left. */
function dissolve(tx: Tx, deps: Deps, subject: SubjectHandle, match: MatchRow, decision: Decision, requestId: string | null, now: string): void {
  tx.update(matches).set({ status: 'dissolved', endedAt: now, updatedAt: now }).where(eq(matches.id, match.id)).run();
  const remaining = new Map(activeSignals(tx, subject.subjectId).map((r) => [r.agency.id, r.signal]));
  const coordinator = match.coordinatorId ? { agency: agencyRef(tx, match.coordinatorId), contact: null } : null;
  const recipients = tx.select().from(matchRecipients).where(eq(matchRecipients.matchId, match.id)).orderBy(asc(matchRecipients.agencyId)).all();
  for (const r of recipients) {
    const isCoordinator = r.role !== 'party';
    const own = remaining.get(r.agencyId);
    if (!isCoordinator && (!own || r.visible.length === 0)) continue; // left itself, or saw nobody
    const body: NoticeBody = {
      id: newId('ntc', deps.clock.now()),
      type: isCoordinator ? 'match.closed' : 'match.party_left',
      createdAt: now,
      matchId: match.id,
      signalId: own?.id ?? null,
      reference: own ? openSignal(subject.dataKey, own).reference : null,
      parties: [],
      coordinator,
      policy: { id: deps.policy.id, version: deps.policy.version, rules: decision.rules },
    };
    insertNotice(tx, { body, agencyId: r.agencyId, subjectId: subject.subjectId, dataKey: subject.dataKey });
    appendAudit(tx, { at: now, agencyId: r.agencyId, actor: null, action: `notice.${body.type}`, subject: subject.pseudonym, resource: body.id, outcome: 'disclosed', requestId });
  }
  tx.delete(matchRecipients).where(eq(matchRecipients.matchId, match.id)).run();
}

import type { AgencyType, Policy, Route, View } from './types.ts';

/** What the index knows when it decides about one subject's match. Holds no subject data. */
export interface Facts {
  /** The agencies with an active signal for the subject (one entry per agency). */
  parties: Array<{ agencyId: string; agencyType: AgencyType }>;
  /** Where the subject lives, from the most recent signal. */
  location: { municipality: string; district: string | null };
  /** Agencies that could coordinate: WIJ teams and municipalities, with the districts they serve. */
  coordinators: Array<{ agencyId: string; agencyType: AgencyType; municipality: string; districts: string[] }>;
  /** The municipality agency a match was escalated to because nobody claimed it in time. */
  escalatedTo?: string | null;
}

export interface PartyView {
  agencyId: string;
  agencyType: AgencyType;
  view: Exclude<View, 'hidden'>;
  rule: string;
}

export interface Recipient {
  agencyId: string;
  role: 'party' | 'coordinator' | 'party_coordinator' | 'escalation';
  /** The other parties this recipient sees, and how; hidden parties are absent. */
  sees: PartyView[];
  /** Every rule that shaped this recipient's view, hidden parties included. */
  rules: string[];
}

export interface Decision {
  policy: { id: string; version: string };
  /** True when two or more agencies are involved (rule 4). */
  match: boolean;
  coordinator: { agencyId: string; route: Route; rule: string } | null;
  /** Who gets notices, and what each sees. */
  recipients: Recipient[];
  /** Parties who may see no other party: they get no match notice at all. */
  silent: Array<{ agencyId: string; rule: string }>;
  rules: string[];
}

/** Built-in: a notice that shows nobody would still tell its reader that someone is involved. */
export const NOTHING_VISIBLE_RULE = 'builtin.nothing-visible-no-notice';
/** Built-in (DESIGN rule 4): a match needs active signals of two or more agencies. */
export const MATCH_RULE = 'builtin.match-two-or-more-agencies';

function viewOf(see: Partial<Record<string, View>>, type: AgencyType): View {
  return see[type] ?? see['*']!;
}

function findCoordinator(policy: Policy, facts: Facts): Decision['coordinator'] {
  const { municipality, district } = facts.location;
  const inMunicipality = [...facts.coordinators]
    .filter((c) => c.municipality === municipality)
    .sort((a, b) => (a.agencyId < b.agencyId ? -1 : 1));
  for (const route of policy.coordination.route) {
    const found =
      route === 'district_wij'
        ? inMunicipality.find((c) => c.agencyType === 'wij' && district !== null && c.districts.includes(district))
        : inMunicipality.find((c) => c.agencyType === 'municipality');
    if (found) return { agencyId: found.agencyId, route, rule: policy.coordination.rule };
  }
  return null;
}

/**
 * Decides, for one subject, whether there is a match, who coordinates it, who is told and what
 * each sees of the others (DESIGN rules 3–4). Pure: the same facts give the same decision.
 */
export function decide(policy: Policy, facts: Facts): Decision {
  const parties = [...new Map(facts.parties.map((p) => [p.agencyId, p])).values()].sort((a, b) =>
    a.agencyId < b.agencyId ? -1 : a.agencyId > b.agencyId ? 1 : 0,
  );
  const base = { policy: { id: policy.id, version: policy.version } };
  if (parties.length < 2) return { ...base, match: false, coordinator: null, recipients: [], silent: [], rules: [MATCH_RULE] };

  const coordinator = findCoordinator(policy, facts);
  const recipients: Recipient[] = [];
  const silent: Decision['silent'] = [];

  const viewFor = (viewerId: string, viewer: { rule: string; see: Partial<Record<string, View>> }) => {
    const sees: PartyView[] = [];
    for (const other of parties) {
      if (other.agencyId === viewerId) continue;
      const view = viewOf(viewer.see, other.agencyType);
      if (view !== 'hidden') sees.push({ agencyId: other.agencyId, agencyType: other.agencyType, view, rule: viewer.rule });
    }
    return sees;
  };

  for (const party of parties) {
    if (party.agencyId === coordinator?.agencyId || party.agencyId === facts.escalatedTo) continue;
    const viewer = policy.disclosure.viewers[party.agencyType] ?? policy.disclosure.default;
    const sees = viewFor(party.agencyId, viewer);
    if (sees.length === 0) silent.push({ agencyId: party.agencyId, rule: NOTHING_VISIBLE_RULE });
    else recipients.push({ agencyId: party.agencyId, role: 'party', sees, rules: [MATCH_RULE, viewer.rule, ...(coordinator ? [coordinator.rule] : [])] });
  }
  if (coordinator) {
    const isParty = parties.some((p) => p.agencyId === coordinator.agencyId);
    recipients.push({
      agencyId: coordinator.agencyId,
      role: isParty ? 'party_coordinator' : 'coordinator',
      sees: viewFor(coordinator.agencyId, policy.disclosure.coordinator),
      rules: [MATCH_RULE, coordinator.rule, policy.disclosure.coordinator.rule],
    });
  }
  if (facts.escalatedTo && facts.escalatedTo !== coordinator?.agencyId) {
    // An escalated match is the municipality's to see as its coordinator would.
    recipients.push({
      agencyId: facts.escalatedTo,
      role: 'escalation',
      sees: viewFor(facts.escalatedTo, policy.disclosure.coordinator),
      rules: [MATCH_RULE, policy.coordination.rule, policy.disclosure.coordinator.rule],
    });
  }
  const rules = [
    MATCH_RULE,
    ...(coordinator ? [coordinator.rule] : [policy.coordination.rule]),
    ...recipients.flatMap((r) => r.rules),
    ...silent.map((s) => s.rule),
  ];
  return { ...base, match: true, coordinator, recipients, silent, rules: [...new Set(rules)] };
}

/** What the index knows when a match nobody claimed in time escalates. Holds no subject data. */
export interface EscalationFacts {
  /** The municipality the match belongs to (where its subject lives). */
  municipality: string;
  /** The agency the match is routed to and that let the deadline pass, if any. */
  coordinatorId: string | null;
  /** The agencies that could take it: the active WIJ teams and municipality agencies (as in `Facts`). */
  candidates: Facts['coordinators'];
}

/**
 * Where a match nobody claimed in time goes, so that every match is picked up (DESIGN): the
 * municipality's own agency, the first by id when it has several, unless that agency is the
 * coordinator that let the deadline pass. Null when there is nobody else to take it (the match is
 * marked escalated all the same). Pure.
 */
export function escalationTarget(facts: EscalationFacts): string | null {
  const target = facts.candidates
    .filter((c) => c.agencyType === 'municipality' && c.municipality === facts.municipality)
    .map((c) => c.agencyId)
    .sort()[0];
  return target !== undefined && target !== facts.coordinatorId ? target : null;
}

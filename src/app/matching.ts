import { newId, opaqueId } from '../crypto/ids.ts';
import { openJson, sealJson } from '../crypto/seal.ts';
import { decide, type Decision, type Facts, MATCH_RULE, type Recipient } from '../policy/decide.ts';
import { coordinatorLens, FULL_LENS, type Lens, lensesOf, letsThrough, locate, partyLens } from '../policy/lens.ts';
import { familyParties } from '../policy/family.ts';
import { claimDaysOf } from '../policy/types.ts';
import { appendAudit } from '../store/audit.ts';
import { type Tx } from '../store/db.ts';
import {
  activeSignalsOf as activeSignals,
  agencyRefById,
  childrenWithActiveSignals,
  coordinatorCandidatesIn as coordinatorCandidates,
  familiesOfSubjectSignals as familiesOf,
  signalsActiveAt as signalsEndingAt,
} from '../store/involvement.ts';
import {
  closedMatchCoverage,
  createMatch,
  dropMatchRecipient,
  dropRecipientsOfMatch,
  liveMatchesOfSubject,
  markMatchDissolved,
  type MatchRow,
  recipientsOfMatch,
  recordMatchEvent,
  saveMatch,
  saveMatchRecipient,
} from '../store/matches.ts';
import { eraseMatchRecords } from '../store/erase.ts';
import { insertNotice, insertSubjectlessNotice } from '../store/notices.ts';
import { loadSubjectKey, subjectKeys, type SubjectKind } from '../store/subjects.ts';
import type { Deps } from './context.ts';
import { addDays } from './dates.ts';
import { type AgencyRef, type NoticeBody, noticeBodySchema, type NoticeType, type PartyEntry } from './notice-schemas.ts';
import { openSignal, type SealedSignal, type SignalRow } from './signal-record.ts';
import type { ProfessionalInput } from './signal-schemas.ts';

export type { MatchRow };
export { LIVE_STATUSES } from '../store/matches.ts';
type Visible = Array<{ agencyId: string; view: 'contact' | 'type' }>;

/**
 * The subject whose match is handled: its id, data key and name in the audit log. A family (the
 * children of one parent) is a subject too: its matches are family matches.
 */
export interface SubjectHandle {
  subjectId: string;
  dataKey: Uint8Array;
  pseudonym: string;
  kind?: SubjectKind;
}

export type ActiveRow = { signal: SignalRow; agency: AgencyRef };

type Whose = Pick<SubjectHandle, 'subjectId' | 'kind'>;

// A subject's (or family's) active signals, those active when a match ended (its parties as they
// were), the families a young person's signals name, and a municipality's coordinator candidates.
export { activeSignals, coordinatorCandidates, familiesOf, signalsEndingAt };

/**
 * The live coordinator's matches beside a subject's: a young person's family matches, or a
 * family's child matches. They stay separate; the coordinator sees that both exist.
 */
export function relatedMatches(tx: Tx, subject: Whose): Array<{ kind: 'child' | 'family'; match: MatchRow }> {
  const family = subject.kind === 'family';
  const others = family ? childrenWithActiveSignals(tx, subject.subjectId) : familiesOf(tx, subject.subjectId);
  return others.flatMap((id) => {
    const match = liveMatchOf(tx, id, FULL_LENS);
    return match ? [{ kind: family ? ('child' as const) : ('family' as const), match }] : [];
  });
}


export function agencyRef(tx: Tx, id: string): AgencyRef {
  return agencyRefById(tx, id)!;
}

/** The subject's live matches, one per lens at most. */
export function liveMatchesOf(tx: Tx, subjectId: string): MatchRow[] {
  return liveMatchesOfSubject(tx, subjectId);
}

export function liveMatchOf(tx: Tx, subjectId: string, lens: Lens = FULL_LENS): MatchRow | undefined {
  return liveMatchesOf(tx, subjectId).find((m) => m.lens === lens);
}

export const claimAad = (matchId: string) => `claim:${matchId}`;
export interface Claim {
  agencyId: string;
  contact: ProfessionalInput;
}

export function sealClaim(dataKey: Uint8Array, matchId: string, claim: Claim): Buffer {
  return Buffer.from(sealJson(dataKey, claim, claimAad(matchId)));
}

/** Who claimed the match (the coordinator, or the municipality it was escalated to), if anyone. */
export function openClaim(match: MatchRow, dataKey: Uint8Array): Claim | null {
  return match.claimSealed ? openJson<Claim>(dataKey, match.claimSealed, claimAad(match.id)) : null;
}

/** The coordinator as notices and match views show it: whoever claimed it, else the routed one. */
export function coordinatorOf(tx: Tx, match: MatchRow, dataKey: Uint8Array): { agency: AgencyRef; contact: ProfessionalInput | null } | null {
  const claim = openClaim(match, dataKey);
  if (claim) return { agency: agencyRef(tx, claim.agencyId), contact: claim.contact };
  return match.coordinatorId ? { agency: agencyRef(tx, match.coordinatorId), contact: null } : null;
}

/**
 * A subject's match as it stands: its active signals, the live match and the policy's decision
 * over them. Every notice about a match is built from this, so each recipient sees exactly what
 * the policy grants it at that moment.
 */
export class MatchState {
  readonly rows: ActiveRow[];
  readonly byAgency: Map<string, ActiveRow>;
  /**
   * Every agency with a signal seen through the lens, by its newest: the parties, and in a family
   * those whose children have no match with another agency's (they are told when it ends).
   */
  readonly involved: Map<string, ActiveRow>;
  readonly decision: Decision;
  readonly location: Facts['location'];
  /** The line of matches this state belongs to; only recipients looking through it hear from it. */
  readonly lens: Lens;
  /**
   * Notices that must outlive the subject (its erasure is under way): written without subject or
   * match, sealed by the key ring, as subject.erased is.
   */
  readonly subjectless: boolean;

  constructor(
    private readonly tx: Tx,
    private readonly deps: Deps,
    readonly subject: SubjectHandle,
    public match: MatchRow | undefined,
    opts: { lens?: Lens; active?: ActiveRow[]; subjectless?: boolean } = {},
  ) {
    this.subjectless = opts.subjectless ?? false;
    this.lens = match?.lens ?? opts.lens ?? FULL_LENS;
    const lens = this.lens;
    const seen = (opts.active ?? activeSignals(tx, subject)).filter((r) => letsThrough(lens, r.agency.type));
    this.rows = subject.kind === 'family'
      ? familyParties(deps.policy, seen, (r) => ({ agencyId: r.agency.id, subjectId: r.signal.subjectId, type: r.agency.type }))
      : seen;
    this.involved = new Map([...seen].reverse().map((r) => [r.agency.id, r]));
    this.byAgency = new Map(this.rows.map((r) => [r.agency.id, r]));
    this.location = this.rows.length > 0
      ? locate(deps.policy, this.rows.map((r) => ({ type: r.agency.type, municipality: r.signal.municipality, district: () => this.opened(r.signal).district })))
      : { municipality: match?.municipality ?? '', district: null };
    const parties = this.rows.map((r) => ({ agencyId: r.agency.id, agencyType: r.agency.type }));
    this.decision = decide(deps.policy, {
      parties,
      location: this.location,
      coordinators: parties.length >= 2 ? coordinatorCandidates(tx, this.location.municipality) : [],
      escalatedTo: match?.escalatedTo ?? null,
    });
  }

  /** The subject's match as a recipient looking through `lens` knows it. */
  static load(tx: Tx, deps: Deps, subject: SubjectHandle, lens: Lens = FULL_LENS): MatchState {
    return new MatchState(tx, deps, subject, liveMatchOf(tx, subject.subjectId, lens), { lens });
  }

  /**
   * Whether a recipient in this role hears from this line of matches: only from the one of its
   * own lens, so that everything it is told is what it would be told had the parties hidden from
   * it never acted.
   */
  hears(agencyId: string, role: Recipient['role']): boolean {
    if (role !== 'party') return coordinatorLens(this.deps.policy) === this.lens;
    const type = this.involved.get(agencyId)?.agency.type ?? agencyRef(this.tx, agencyId).type;
    return partyLens(this.deps.policy, type) === this.lens;
  }

  /** The role an agency has in this match. */
  roleOf(agencyId: string): Recipient['role'] {
    const decided = this.recipient(agencyId)?.role;
    if (decided) return decided;
    if (agencyId === this.match?.escalatedTo) return 'escalation';
    if (agencyId === this.match?.coordinatorId) return this.byAgency.has(agencyId) ? 'party_coordinator' : 'coordinator';
    return 'party';
  }

  readonly #opened = new Map<string, SealedSignal>();
  #keys: ReturnType<typeof subjectKeys> | undefined;
  #coordinator: { of: MatchRow | undefined; value: ReturnType<typeof coordinatorOf> } | undefined;

  /** The coordinator as notices show it, looked up once per state of the match. */
  coordinator(): ReturnType<typeof coordinatorOf> {
    let cached = this.#coordinator;
    if (!cached || cached.of !== this.match) {
      cached = { of: this.match, value: this.match ? coordinatorOf(this.tx, this.match, this.subject.dataKey) : null };
      this.#coordinator = cached;
    }
    return cached.value;
  }

  /** A signal's sealed part, opened once however many notices show it. */
  opened(signal: SignalRow): SealedSignal {
    let sealed = this.#opened.get(signal.id);
    if (!sealed) this.#opened.set(signal.id, (sealed = openSignal(this.keyOf(signal.subjectId), signal)));
    return sealed;
  }

  /** The data key a signal is sealed under: the young person's (a family's signals are its children's). */
  private keyOf(subjectId: string): Uint8Array {
    if (subjectId === this.subject.subjectId) return this.subject.dataKey;
    return (this.#keys ??= subjectKeys(this.tx, this.deps.keys))(subjectId).dataKey;
  }

  /** Whether this is a family match (of the children of one parent). */
  get family(): boolean {
    return this.subject.kind === 'family';
  }

  /** The claim deadline the policy gives this match from now: shorter once it holds a concern. */
  claimBy(now: Date): string {
    // Signals are opened only as far as the policy needs: not at all for one deadline, up to the first concern for two.
    const kinds = function* (state: MatchState) {
      for (const r of state.rows) yield state.opened(r.signal).kind;
    };
    return addDays(now, claimDaysOf(this.deps.policy, kinds(this))).toISOString();
  }

  recipient(agencyId: string): Recipient | undefined {
    return this.decision.recipients.find((r) => r.agencyId === agencyId);
  }

  partyEntries(recipient: Recipient | undefined): PartyEntry[] {
    return (recipient?.sees ?? []).map((p) => {
      if (p.view === 'type') return { view: 'type', agencyType: p.agencyType };
      const r = this.byAgency.get(p.agencyId)!;
      const { professional, kind } = this.opened(r.signal);
      // The kind travels with disclosure: shown beside the contact, never with a bare type.
      return { view: 'contact', agency: r.agency, kind, contact: professional, since: r.signal.registeredAt };
    });
  }

  /** Writes one notice about the match to one agency, and audits the disclosure. */
  notify(
    agencyId: string,
    type: NoticeType,
    opts: { parties?: PartyEntry[]; rules?: string[]; requestId: string | null; caseTable?: NoticeBody['caseTable']; role?: Recipient['role'] },
  ): void {
    if (!this.hears(agencyId, opts.role ?? this.roleOf(agencyId))) return;
    const now = this.deps.clock.now();
    const own = this.involved.get(agencyId);
    const match = this.match;
    const coordinator = this.coordinator();
    const body: NoticeBody = noticeBodySchema.parse({
      id: newId('ntc', now, agencyId),
      type: this.family ? familyNoticeType(type) : type,
      createdAt: now.toISOString(),
      matchId: this.subjectless ? null : (match?.id ?? null),
      signalId: own?.signal.id ?? null,
      reference: own ? this.opened(own.signal).reference : null,
      parties: opts.parties ?? this.partyEntries(this.recipient(agencyId)),
      coordinator,
      caseTable: opts.caseTable ?? null,
      policy: { id: this.deps.policy.id, version: this.deps.policy.version, rules: opts.rules ?? this.recipient(agencyId)?.rules ?? this.decision.rules },
    } satisfies NoticeBody);
    const written = this.subjectless
      ? insertSubjectlessNotice(this.tx, this.deps.keys, { body, agencyId })
      : insertNotice(this.tx, { body, agencyId, subjectId: this.subject.subjectId, dataKey: this.subject.dataKey });
    if (!written) return;
    appendAudit(this.tx, {
      at: body.createdAt,
      agencyId,
      actor: null,
      action: `notice.${type}`,
      subject: this.subject.pseudonym,
      resource: body.id,
      outcome: 'disclosed',
      requestId: opts.requestId,
    });
  }

  /** Tells the coordinator and the municipality the match was escalated to, but for `except`. */
  notifyCoordinators(type: NoticeType, opts: { except?: string; requestId: string | null }): void {
    const match = this.match;
    for (const agencyId of new Set([match?.coordinatorId, match?.escalatedTo])) {
      if (agencyId && agencyId !== opts.except) this.notify(agencyId, type, { requestId: opts.requestId, role: agencyId === match?.escalatedTo ? 'escalation' : 'coordinator' });
    }
  }

  /** Tells every party that currently sees someone (the coordinators aside). */
  notifyParties(type: NoticeType, opts: { requestId: string | null; only?: ReadonlySet<string>; caseTable?: (agencyId: string) => NoticeBody['caseTable'] }): void {
    for (const r of this.decision.recipients) {
      if (r.role !== 'party' || (opts.only && !opts.only.has(r.agencyId))) continue;
      this.notify(r.agencyId, type, { requestId: opts.requestId, role: 'party', ...(opts.caseTable ? { caseTable: opts.caseTable(r.agencyId) } : {}) });
    }
  }
}

/** A family match's notices are family_match.*; the rest (case tables) name the family match by id. */
function familyNoticeType(type: NoticeType): NoticeType {
  return type.startsWith('match.') ? (`family_${type}` as NoticeType) : type;
}

const visibleAad = (matchId: string, agencyId: string) => `recipient:${matchId}:${agencyId}`;

/** What each recipient of a match was last shown (the lists are sealed: they are the involvement graph). */
function readRecipients(tx: Tx, matchId: string, dataKey: Uint8Array) {
  return recipientsOfMatch(tx, matchId).map((r) => ({ ...r, visible: r.visibleSealed ? openJson<Visible>(dataKey, r.visibleSealed, visibleAad(matchId, r.agencyId)) : [] }));
}

function writeRecipient(tx: Tx, dataKey: Uint8Array, r: { matchId: string; agencyId: string; role: Recipient['role']; visible: Visible; updatedAt: string }): void {
  const visibleSealed = Buffer.from(sealJson(dataKey, r.visible, visibleAad(r.matchId, r.agencyId)));
  saveMatchRecipient(tx, { matchId: r.matchId, agencyId: r.agencyId, role: r.role, visibleSealed, updatedAt: r.updatedAt });
}

function sameSet(a: Visible, b: Visible): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => y.agencyId === x.agencyId && y.view === x.view));
}

/** Which notice, if any, a change of what a recipient sees calls for. */
function changeType(before: Visible | undefined, after: Visible, role: Recipient['role']): NoticeType | null {
  const coordinating = role !== 'party';
  if (!before || (before.length === 0 && after.length > 0)) {
    if (role === 'escalation') return 'match.escalated';
    return coordinating ? 'match.coordinator_assigned' : 'match.created';
  }
  if (sameSet(before, after)) return null;
  if (after.some((x) => !before.some((y) => y.agencyId === x.agencyId))) return 'match.party_added';
  if (before.some((x) => !after.some((y) => y.agencyId === x.agencyId))) return 'match.party_left';
  return null;
}

/**
 * Brings a subject's matches in line with its active signals, in the caller's transaction (DESIGN
 * rule 4): for each lens of the policy, creates, grows, shrinks, moves or dissolves that line's
 * match, and writes a notice for every recipient of that lens whose view changed, exactly as the
 * policy decides. Returns the decision over every party (the coordinator's line).
 */
export function reconcileMatch(tx: Tx, deps: Deps, subject: SubjectHandle, requestId: string | null): Decision {
  const full = reconcileLines(tx, deps, subject, requestId);
  // A young person's signals count in the family matches of the parents they were registered with.
  if (subject.kind !== 'family') reconcileFamilies(tx, deps, familiesOf(tx, subject.subjectId), requestId);
  return full;
}

/** Brings the family matches of these families in line with their children's signals. */
export function reconcileFamilies(tx: Tx, deps: Deps, familyIds: Iterable<string>, requestId: string | null): void {
  for (const familyId of familyIds) reconcileLines(tx, deps, loadSubjectKey(tx, deps.keys, familyId), requestId);
}

/**
 * Ends every live match of a subject that is about to be erased, as a dissolve would, by notices
 * that outlive it (a parent's erasure: the family's matches go, its children's signals stay).
 */
export function endBeforeErasure(tx: Tx, deps: Deps, subject: SubjectHandle, requestId: string | null): void {
  const active = activeSignals(tx, subject);
  const at = deps.clock.now().toISOString();
  for (const live of liveMatchesOf(tx, subject.subjectId)) {
    dissolve(tx, new MatchState(tx, deps, subject, live, { active, subjectless: true }), live, requestId, at);
  }
}

/**
 * Before a young person's records are erased (at the family's request, or after the archive
 * period): their families' matches hold their registrants' details (in notices, events and who
 * was shown whom), so those matches end, their parties told by notices that outlive them, and are
 * erased. Afterwards `reconcileFamilies` makes a new family match from the remaining children's
 * signals, if they still match. Returns the families.
 */
export function forgetInFamilies(tx: Tx, deps: Deps, childId: string, requestId: string | null): string[] {
  const families = familiesOf(tx, childId);
  for (const familyId of families) {
    endBeforeErasure(tx, deps, loadSubjectKey(tx, deps.keys, familyId), requestId);
    eraseMatchRecords(tx, familyId);
  }
  return families;
}

function reconcileLines(tx: Tx, deps: Deps, subject: SubjectHandle, requestId: string | null): Decision {
  const active = activeSignals(tx, subject);
  const live = liveMatchesOf(tx, subject.subjectId);
  let full: Decision | undefined;
  for (const lens of lensesOf(deps.policy)) {
    const decision = reconcileLine(tx, deps, subject, lens, live.find((m) => m.lens === lens), active, requestId);
    if (lens === FULL_LENS) full = decision;
  }
  return full!;
}

/**
 * A closed match covers its signals: only a registration that no closed match covered starts a
 * new one (by signal, not by time: two closes can share an instant).
 */
function coveredByClosed(tx: Tx, subjectId: string, lens: Lens, rows: ActiveRow[]): boolean {
  const covered = new Set(closedMatchCoverage(tx, subjectId, lens).flatMap((covered) => covered ?? []));
  return covered.size > 0 && rows.every((r) => covered.has(r.signal.id));
}

function reconcileLine(
  tx: Tx,
  deps: Deps,
  subject: SubjectHandle,
  lens: Lens,
  live: MatchRow | undefined,
  active: ActiveRow[],
  requestId: string | null,
): Decision {
  const now = deps.clock.now();
  const at = now.toISOString();
  const state = new MatchState(tx, deps, subject, live, { lens, active });
  const { decision, location } = state;

  if (!decision.match) {
    if (live) dissolve(tx, state, live, requestId, at);
    return decision;
  }
  if (!live && coveredByClosed(tx, subject.subjectId, lens, state.rows)) return decision;

  const coordinatorId = decision.coordinator?.agencyId ?? null;
  let match: MatchRow;
  if (live) {
    const moved = live.coordinatorId !== coordinatorId;
    // A match that moves to another coordinator starts over: it must be claimed there in time.
    // One not yet claimed that now holds a concern gets the concern's deadline if that is sooner.
    const claimBy = moved || live.status === 'open' ? state.claimBy(now) : live.claimBy;
    const reset = moved
      ? { status: 'open' as const, claimBy, claimedAt: null, claimSealed: null, escalatedTo: null, escalatedAt: null }
      : claimBy < live.claimBy ? { claimBy } : {};
    match = { ...live, municipality: location.municipality, coordinatorId, policyVersion: deps.policy.version, updatedAt: at, ...reset };
    saveMatch(tx, match);
    if (moved) recordMatchEvent(tx, match.id, at, 'transferred', coordinatorId);
  } else {
    match = {
      id: opaqueId('mat'),
      subjectId: subject.subjectId,
      lens,
      status: 'open',
      municipality: location.municipality,
      coordinatorId,
      policyVersion: deps.policy.version,
      createdAt: at,
      updatedAt: at,
      claimBy: state.claimBy(now),
      claimedAt: null,
      claimSealed: null,
      escalatedTo: null,
      escalatedAt: null,
      endedAt: null,
      closeReason: null,
      coveredSignals: null,
    };
    createMatch(tx, match);
    recordMatchEvent(tx, match.id, at, 'created', null);
  }
  const current = match.escalatedTo === live?.escalatedTo ? state : new MatchState(tx, deps, subject, match, { active });
  current.match = match;

  const previous = new Map(readRecipients(tx, match.id, subject.dataKey).map((r) => [r.agencyId, r]));
  const recipients = new Set<string>();
  for (const recipient of current.decision.recipients) {
    recipients.add(recipient.agencyId);
    const visible: Visible = recipient.sees.map((p) => ({ agencyId: p.agencyId, view: p.view }));
    const before = previous.get(recipient.agencyId);
    const transferred = recipient.role !== 'party' && recipient.role !== 'escalation' && live?.coordinatorId && live.coordinatorId !== recipient.agencyId;
    const type = transferred ? 'match.transferred' : changeType(before?.visible, visible, recipient.role);
    if (type) current.notify(recipient.agencyId, type, { requestId, role: recipient.role });
    writeRecipient(tx, subject.dataKey, { matchId: match.id, agencyId: recipient.agencyId, role: recipient.role, visible, updatedAt: at });
  }
  for (const [agencyId, before] of previous) {
    if (recipients.has(agencyId)) continue;
    const stillParty = current.involved.has(agencyId);
    if (before.role === 'coordinator' || before.role === 'party_coordinator') {
      // The family moved: the former coordinator hears who took the match over.
      current.notify(agencyId, 'match.transferred', { parties: [], rules: [decision.coordinator?.rule ?? deps.policy.coordination.rule], requestId, role: before.role });
    } else if (stillParty && before.visible.length > 0) {
      // A party that now sees nobody hears that those it saw have left, as a dissolve would tell it.
      current.notify(agencyId, 'match.party_left', { parties: [], rules: [MATCH_RULE], requestId, role: 'party' });
    }
    if (stillParty) writeRecipient(tx, subject.dataKey, { matchId: match.id, agencyId, role: 'party', visible: [], updatedAt: at });
    else dropMatchRecipient(tx, match.id, agencyId);
  }
  // Silent parties are remembered too, so that the timeline and later changes know them.
  for (const s of current.decision.silent) {
    if (previous.has(s.agencyId)) continue;
    writeRecipient(tx, subject.dataKey, { matchId: match.id, agencyId: s.agencyId, role: 'party', visible: [], updatedAt: at });
  }
  const wasParty = new Set([...previous.values()].filter((r) => r.role === 'party' || r.role === 'party_coordinator').map((r) => r.agencyId));
  for (const r of current.rows) if (!wasParty.has(r.agency.id)) recordMatchEvent(tx, match.id, at, 'party_added', r.agency.id);
  for (const agencyId of wasParty) if (!current.byAgency.has(agencyId)) recordMatchEvent(tx, match.id, at, 'party_left', agencyId);
  return current.decision;
}

/** Fewer than two agencies remain: the match ends; whoever saw someone hears they have left. */
function dissolve(tx: Tx, state: MatchState, match: MatchRow, requestId: string | null, at: string): void {
  const recipients = readRecipients(tx, match.id, state.subject.dataKey);
  for (const r of recipients) {
    if (r.role === 'party') {
      if (state.involved.has(r.agencyId) && r.visible.length > 0) state.notify(r.agencyId, 'match.party_left', { parties: [], requestId, role: 'party' });
    } else {
      state.notify(r.agencyId, 'match.closed', { parties: [], requestId, role: r.role });
    }
  }
  markMatchDissolved(tx, match.id, at);
  dropRecipientsOfMatch(tx, match.id);
  recordMatchEvent(tx, match.id, at, 'dissolved', null);
}

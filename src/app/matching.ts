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
export async function relatedMatches(tx: Tx, subject: Whose): Promise<Array<{ kind: 'child' | 'family'; match: MatchRow }>> {
  const family = subject.kind === 'family';
  const others = family ? await childrenWithActiveSignals(tx, subject.subjectId) : await familiesOf(tx, subject.subjectId);
  const related: Array<{ kind: 'child' | 'family'; match: MatchRow }> = [];
  for (const id of others) {
    const match = await liveMatchOf(tx, id, FULL_LENS);
    if (match) related.push({ kind: family ? 'child' : 'family', match });
  }
  return related;
}

export async function agencyRef(tx: Tx, id: string): Promise<AgencyRef> {
  return (await agencyRefById(tx, id))!;
}

/** The subject's live matches, one per lens at most. */
export async function liveMatchesOf(tx: Tx, subjectId: string): Promise<MatchRow[]> {
  return liveMatchesOfSubject(tx, subjectId);
}

export async function liveMatchOf(tx: Tx, subjectId: string, lens: Lens = FULL_LENS): Promise<MatchRow | undefined> {
  return (await liveMatchesOf(tx, subjectId)).find((m) => m.lens === lens);
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

export type CoordinatorView = { agency: AgencyRef; contact: ProfessionalInput | null } | null;

/** The coordinator as notices and match views show it: whoever claimed it, else the routed one. */
export async function coordinatorOf(tx: Tx, match: MatchRow, dataKey: Uint8Array): Promise<CoordinatorView> {
  const claim = openClaim(match, dataKey);
  if (claim) return { agency: await agencyRef(tx, claim.agencyId), contact: claim.contact };
  return match.coordinatorId ? { agency: await agencyRef(tx, match.coordinatorId), contact: null } : null;
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
  // Set by create(), which asks the store for the coordinator candidates first.
  decision!: Decision;
  readonly location: Facts['location'];
  /** The line of matches this state belongs to; only recipients looking through it hear from it. */
  readonly lens: Lens;
  /**
   * Notices that must outlive the subject (its erasure is under way): written without subject or
   * match, sealed by the key ring, as subject.erased is.
   */
  readonly subjectless: boolean;

  private constructor(
    private readonly tx: Tx,
    private readonly deps: Deps,
    readonly subject: SubjectHandle,
    public match: MatchRow | undefined,
    lens: Lens,
    seen: ActiveRow[],
    /** The data keys of the other young people whose signals are seen (a family's children). */
    private readonly otherKeys: ReadonlyMap<string, Uint8Array>,
    subjectless: boolean,
  ) {
    this.subjectless = subjectless;
    this.lens = lens;
    this.rows = subject.kind === 'family'
      ? familyParties(deps.policy, seen, (r) => ({ agencyId: r.agency.id, subjectId: r.signal.subjectId, type: r.agency.type }))
      : seen;
    this.involved = new Map([...seen].reverse().map((r) => [r.agency.id, r]));
    this.byAgency = new Map(this.rows.map((r) => [r.agency.id, r]));
    this.location = this.rows.length > 0
      ? locate(deps.policy, this.rows.map((r) => ({ type: r.agency.type, municipality: r.signal.municipality, district: () => this.opened(r.signal).district })))
      : { municipality: match?.municipality ?? '', district: null };
  }

  /**
   * The state of `match` (or of the subject's line through `lens` without one): reads the active
   * signals (unless given), the data keys they are sealed under and the coordinator candidates,
   * and decides.
   */
  static async create(
    tx: Tx,
    deps: Deps,
    subject: SubjectHandle,
    match: MatchRow | undefined,
    opts: { lens?: Lens; active?: ActiveRow[]; subjectless?: boolean } = {},
  ): Promise<MatchState> {
    const lens = match?.lens ?? opts.lens ?? FULL_LENS;
    const seen = (opts.active ?? (await activeSignals(tx, subject))).filter((r) => letsThrough(lens, r.agency.type));
    const otherKeys = new Map<string, Uint8Array>();
    let keyOf: ReturnType<typeof subjectKeys> | undefined;
    for (const r of seen) {
      const id = r.signal.subjectId;
      if (id !== subject.subjectId && !otherKeys.has(id)) otherKeys.set(id, (await (keyOf ??= subjectKeys(tx, deps.keys))(id)).dataKey);
    }
    const state = new MatchState(tx, deps, subject, match, lens, seen, otherKeys, opts.subjectless ?? false);
    const parties = state.rows.map((r) => ({ agencyId: r.agency.id, agencyType: r.agency.type }));
    state.decision = decide(deps.policy, {
      parties,
      location: state.location,
      coordinators: parties.length >= 2 ? await coordinatorCandidates(tx, state.location.municipality) : [],
      escalatedTo: match?.escalatedTo ?? null,
    });
    return state;
  }

  /** The subject's match as a recipient looking through `lens` knows it. */
  static async load(tx: Tx, deps: Deps, subject: SubjectHandle, lens: Lens = FULL_LENS): Promise<MatchState> {
    return MatchState.create(tx, deps, subject, await liveMatchOf(tx, subject.subjectId, lens), { lens });
  }

  /**
   * Whether a recipient in this role hears from this line of matches: only from the one of its
   * own lens, so that everything it is told is what it would be told had the parties hidden from
   * it never acted.
   */
  async hears(agencyId: string, role: Recipient['role']): Promise<boolean> {
    if (role !== 'party') return coordinatorLens(this.deps.policy) === this.lens;
    const type = this.involved.get(agencyId)?.agency.type ?? (await agencyRef(this.tx, agencyId)).type;
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
  #coordinator: { of: MatchRow | undefined; value: CoordinatorView } | undefined;

  /** The coordinator as notices show it, looked up once per state of the match. */
  async coordinator(): Promise<CoordinatorView> {
    let cached = this.#coordinator;
    if (!cached || cached.of !== this.match) {
      const of = this.match;
      cached = { of, value: of ? await coordinatorOf(this.tx, of, this.subject.dataKey) : null };
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
    const key = this.otherKeys.get(subjectId);
    if (!key) throw new Error(`the match state of ${this.subject.subjectId} has no key for ${subjectId}`);
    return key;
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
  async notify(
    agencyId: string,
    type: NoticeType,
    opts: { parties?: PartyEntry[]; rules?: string[]; requestId: string | null; caseTable?: NoticeBody['caseTable']; role?: Recipient['role'] },
  ): Promise<void> {
    if (!(await this.hears(agencyId, opts.role ?? this.roleOf(agencyId)))) return;
    const now = this.deps.clock.now();
    const own = this.involved.get(agencyId);
    const match = this.match;
    const coordinator = await this.coordinator();
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
      ? await insertSubjectlessNotice(this.tx, this.deps.keys, { body, agencyId })
      : await insertNotice(this.tx, { body, agencyId, subjectId: this.subject.subjectId, dataKey: this.subject.dataKey });
    if (!written) return;
    await appendAudit(this.tx, {
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
  async notifyCoordinators(type: NoticeType, opts: { except?: string; requestId: string | null }): Promise<void> {
    const match = this.match;
    for (const agencyId of new Set([match?.coordinatorId, match?.escalatedTo])) {
      if (agencyId && agencyId !== opts.except) await this.notify(agencyId, type, { requestId: opts.requestId, role: agencyId === match?.escalatedTo ? 'escalation' : 'coordinator' });
    }
  }

  /** Tells every party that currently sees someone (the coordinators aside). */
  async notifyParties(type: NoticeType, opts: { requestId: string | null; only?: ReadonlySet<string>; caseTable?: (agencyId: string) => NoticeBody['caseTable'] }): Promise<void> {
    for (const r of this.decision.recipients) {
      if (r.role !== 'party' || (opts.only && !opts.only.has(r.agencyId))) continue;
      await this.notify(r.agencyId, type, { requestId: opts.requestId, role: 'party', ...(opts.caseTable ? { caseTable: opts.caseTable(r.agencyId) } : {}) });
    }
  }
}

/** A family match's notices are family_match.*; the rest (case tables) name the family match by id. */
function familyNoticeType(type: NoticeType): NoticeType {
  return type.startsWith('match.') ? (`family_${type}` as NoticeType) : type;
}

const visibleAad = (matchId: string, agencyId: string) => `recipient:${matchId}:${agencyId}`;

/** What each recipient of a match was last shown (the lists are sealed: they are the involvement graph). */
async function readRecipients(tx: Tx, matchId: string, dataKey: Uint8Array) {
  return (await recipientsOfMatch(tx, matchId)).map((r) => ({ ...r, visible: r.visibleSealed ? openJson<Visible>(dataKey, r.visibleSealed, visibleAad(matchId, r.agencyId)) : [] }));
}

async function writeRecipient(tx: Tx, dataKey: Uint8Array, r: { matchId: string; agencyId: string; role: Recipient['role']; visible: Visible; updatedAt: string }): Promise<void> {
  const visibleSealed = Buffer.from(sealJson(dataKey, r.visible, visibleAad(r.matchId, r.agencyId)));
  await saveMatchRecipient(tx, { matchId: r.matchId, agencyId: r.agencyId, role: r.role, visibleSealed, updatedAt: r.updatedAt });
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
export async function reconcileMatch(tx: Tx, deps: Deps, subject: SubjectHandle, requestId: string | null): Promise<Decision> {
  const full = await reconcileLines(tx, deps, subject, requestId);
  // A young person's signals count in the family matches of the parents they were registered with.
  if (subject.kind !== 'family') await reconcileFamilies(tx, deps, await familiesOf(tx, subject.subjectId), requestId);
  return full;
}

/** Brings the family matches of these families in line with their children's signals. */
export async function reconcileFamilies(tx: Tx, deps: Deps, familyIds: Iterable<string>, requestId: string | null): Promise<void> {
  for (const familyId of familyIds) await reconcileLines(tx, deps, await loadSubjectKey(tx, deps.keys, familyId), requestId);
}

/**
 * Ends every live match of a subject that is about to be erased, as a dissolve would, by notices
 * that outlive it (a parent's erasure: the family's matches go, its children's signals stay).
 */
export async function endBeforeErasure(tx: Tx, deps: Deps, subject: SubjectHandle, requestId: string | null): Promise<void> {
  const active = await activeSignals(tx, subject);
  const at = deps.clock.now().toISOString();
  for (const live of await liveMatchesOf(tx, subject.subjectId)) {
    await dissolve(tx, await MatchState.create(tx, deps, subject, live, { active, subjectless: true }), live, requestId, at);
  }
}

/**
 * Before a young person's records are erased (at the family's request, or after the archive
 * period): their families' matches hold their registrants' details (in notices, events and who
 * was shown whom), so those matches end, their parties told by notices that outlive them, and are
 * erased. Afterwards `reconcileFamilies` makes a new family match from the remaining children's
 * signals, if they still match. Returns the families.
 */
export async function forgetInFamilies(tx: Tx, deps: Deps, childId: string, requestId: string | null): Promise<string[]> {
  const families = await familiesOf(tx, childId);
  for (const familyId of families) {
    await endBeforeErasure(tx, deps, await loadSubjectKey(tx, deps.keys, familyId), requestId);
    await eraseMatchRecords(tx, familyId);
  }
  return families;
}

async function reconcileLines(tx: Tx, deps: Deps, subject: SubjectHandle, requestId: string | null): Promise<Decision> {
  const active = await activeSignals(tx, subject);
  const live = await liveMatchesOf(tx, subject.subjectId);
  let full: Decision | undefined;
  for (const lens of lensesOf(deps.policy)) {
    const decision = await reconcileLine(tx, deps, subject, lens, live.find((m) => m.lens === lens), active, requestId);
    if (lens === FULL_LENS) full = decision;
  }
  return full!;
}

/**
 * A closed match covers its signals: only a registration that no closed match covered starts a
 * new one (by signal, not by time: two closes can share an instant).
 */
async function coveredByClosed(tx: Tx, subjectId: string, lens: Lens, rows: ActiveRow[]): Promise<boolean> {
  const covered = new Set((await closedMatchCoverage(tx, subjectId, lens)).flatMap((covered) => covered ?? []));
  return covered.size > 0 && rows.every((r) => covered.has(r.signal.id));
}

async function reconcileLine(
  tx: Tx,
  deps: Deps,
  subject: SubjectHandle,
  lens: Lens,
  live: MatchRow | undefined,
  active: ActiveRow[],
  requestId: string | null,
): Promise<Decision> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const state = await MatchState.create(tx, deps, subject, live, { lens, active });
  const { decision, location } = state;

  if (!decision.match) {
    if (live) await dissolve(tx, state, live, requestId, at);
    return decision;
  }
  if (!live && (await coveredByClosed(tx, subject.subjectId, lens, state.rows))) return decision;

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
    await saveMatch(tx, match);
    if (moved) await recordMatchEvent(tx, match.id, at, 'transferred', coordinatorId);
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
    await createMatch(tx, match);
    await recordMatchEvent(tx, match.id, at, 'created', null);
  }
  const current = match.escalatedTo === live?.escalatedTo ? state : await MatchState.create(tx, deps, subject, match, { active });
  current.match = match;

  const previous = new Map((await readRecipients(tx, match.id, subject.dataKey)).map((r) => [r.agencyId, r]));
  const recipients = new Set<string>();
  for (const recipient of current.decision.recipients) {
    recipients.add(recipient.agencyId);
    const visible: Visible = recipient.sees.map((p) => ({ agencyId: p.agencyId, view: p.view }));
    const before = previous.get(recipient.agencyId);
    const transferred = recipient.role !== 'party' && recipient.role !== 'escalation' && live?.coordinatorId && live.coordinatorId !== recipient.agencyId;
    const type = transferred ? 'match.transferred' : changeType(before?.visible, visible, recipient.role);
    if (type) await current.notify(recipient.agencyId, type, { requestId, role: recipient.role });
    await writeRecipient(tx, subject.dataKey, { matchId: match.id, agencyId: recipient.agencyId, role: recipient.role, visible, updatedAt: at });
  }
  for (const [agencyId, before] of previous) {
    if (recipients.has(agencyId)) continue;
    const stillParty = current.involved.has(agencyId);
    if (before.role === 'coordinator' || before.role === 'party_coordinator') {
      // The family moved: the former coordinator hears who took the match over.
      await current.notify(agencyId, 'match.transferred', { parties: [], rules: [decision.coordinator?.rule ?? deps.policy.coordination.rule], requestId, role: before.role });
    } else if (stillParty && before.visible.length > 0) {
      // A party that now sees nobody hears that those it saw have left, as a dissolve would tell it.
      await current.notify(agencyId, 'match.party_left', { parties: [], rules: [MATCH_RULE], requestId, role: 'party' });
    }
    if (stillParty) await writeRecipient(tx, subject.dataKey, { matchId: match.id, agencyId, role: 'party', visible: [], updatedAt: at });
    else await dropMatchRecipient(tx, match.id, agencyId);
  }
  // Silent parties are remembered too, so that the timeline and later changes know them.
  for (const s of current.decision.silent) {
    if (previous.has(s.agencyId)) continue;
    await writeRecipient(tx, subject.dataKey, { matchId: match.id, agencyId: s.agencyId, role: 'party', visible: [], updatedAt: at });
  }
  const wasParty = new Set([...previous.values()].filter((r) => r.role === 'party' || r.role === 'party_coordinator').map((r) => r.agencyId));
  for (const r of current.rows) if (!wasParty.has(r.agency.id)) await recordMatchEvent(tx, match.id, at, 'party_added', r.agency.id);
  for (const agencyId of wasParty) if (!current.byAgency.has(agencyId)) await recordMatchEvent(tx, match.id, at, 'party_left', agencyId);
  return current.decision;
}

/** Fewer than two agencies remain: the match ends; whoever saw someone hears they have left. */
async function dissolve(tx: Tx, state: MatchState, match: MatchRow, requestId: string | null, at: string): Promise<void> {
  const recipients = await readRecipients(tx, match.id, state.subject.dataKey);
  for (const r of recipients) {
    if (r.role === 'party') {
      if (state.involved.has(r.agencyId) && r.visible.length > 0) await state.notify(r.agencyId, 'match.party_left', { parties: [], requestId, role: 'party' });
    } else {
      await state.notify(r.agencyId, 'match.closed', { parties: [], requestId, role: r.role });
    }
  }
  await markMatchDissolved(tx, match.id, at);
  await dropRecipientsOfMatch(tx, match.id);
  await recordMatchEvent(tx, match.id, at, 'dissolved', null);
}

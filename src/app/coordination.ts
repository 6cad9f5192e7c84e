import { newId } from '../crypto/ids.ts';
import type { Tx } from '../store/db.ts';
import { findIdempotent, type IdempotencyRequest, rememberIdempotent } from '../store/idempotency.ts';
import {
  caseTableById,
  caseTablesOfMatch,
  caseTablesUnder,
  type CaseTableRow,
  coordinatedMatch,
  coordinatedMatches,
  createCaseTable,
  matchById,
  matchTimeline,
  recordMatchEvent,
  rootCaseTableById,
  saveCaseTableOutcome,
  saveMatch,
} from '../store/matches.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { auditAccess } from './audit.ts';
import { type Ctx, requireScope, withTransaction } from './context.ts';
import { conflict, invalid, notFound, unprocessable } from './errors.ts';
import type {
  CaseTableOutcomeInput,
  CaseTableView,
  ClaimMatchInput,
  CloseMatchInput,
  ConveneCaseTableInput,
  ListMatchesQuery,
  MatchView,
} from './match-schemas.ts';
import { FULL_LENS, letsThrough } from '../policy/lens.ts';
import {
  type ActiveRow,
  activeSignals,
  agencyRef,
  coordinatorOf,
  liveMatchesOf,
  type MatchRow,
  MatchState,
  relatedMatches,
  sealClaim,
  signalsEndingAt,
  type SubjectHandle,
} from './matching.ts';
import type { AgencyRef, NoticeBody, NoticeType } from './notice-schemas.ts';

/**
 * Coordination (API.md, matches and case tables): only a match's coordinator, or the
 * municipality it was escalated to, may see or act on it; to anyone else it does not exist.
 *
 * The coordinator works on the match of the full lens. Each of its acts is applied to every live
 * line of the subject's matches (src/policy/lens.ts) on which it would be allowed there, so that a
 * party looking through a narrower lens is told exactly what it would be told had the parties
 * hidden from it never acted: a claim reaches a party whose view of the match began after the
 * claim only when the coordinator claims again (introduces itself), as it would for a new match.
 */

const isMine = (ctx: Ctx, m: MatchRow) => m.coordinatorId === ctx.actor.agencyId || m.escalatedTo === ctx.actor.agencyId;

async function loadOwnMatch(tx: Tx, ctx: Ctx, id: string): Promise<MatchRow> {
  const row = await coordinatedMatch(tx, id, ctx.actor.agencyId, FULL_LENS);
  if (!row) throw notFound('match_not_found', 'no such match');
  return row;
}

async function handle(tx: Tx, ctx: Ctx, match: MatchRow): Promise<SubjectHandle> {
  return loadSubjectKey(tx, ctx.deps.keys, match.subjectId);
}

/** The live matches of the narrower lenses beside the coordinator's one. */
async function otherLines(tx: Tx, match: MatchRow): Promise<MatchRow[]> {
  return (await liveMatchesOf(tx, match.subjectId)).filter((m) => m.lens !== FULL_LENS && m.id !== match.id);
}

function caseTableView(row: CaseTableRow): CaseTableView {
  return {
    id: row.id,
    scheduledFor: row.scheduledFor,
    invited: row.invited,
    createdAt: row.createdAt,
    held: row.held ?? null,
    attendedBy: row.attendedBy ?? null,
    leadAgencyId: row.leadAgencyId ?? null,
    nextReviewOn: row.nextReviewOn ?? null,
  };
}

/** A case table as one invitee may see it: whom it may see among those present, never who was invited. */
function caseTableFor(row: CaseTableRow, state: MatchState, agencyId: string): NonNullable<NoticeBody['caseTable']> {
  const visible = new Set([
    agencyId,
    ...(state.match?.coordinatorId ? [state.match.coordinatorId] : []),
    ...(state.recipient(agencyId)?.sees ?? []).filter((s) => s.view === 'contact').map((s) => s.agencyId),
  ]);
  return {
    id: row.id,
    scheduledFor: row.scheduledFor,
    held: row.held ?? null,
    attendedBy: row.attendedBy ? row.attendedBy.filter((a) => visible.has(a)) : null,
    leadAgencyId: row.leadAgencyId && visible.has(row.leadAgencyId) ? row.leadAgencyId : null,
    nextReviewOn: row.nextReviewOn ?? null,
  };
}

/** Parties that were told of the match but not yet who coordinates it, in the narrower lines. */
async function awaitingIntroduction(tx: Tx, ctx: Ctx, match: MatchRow, state: MatchState): Promise<AgencyRef[]> {
  if (match.status !== 'claimed') return [];
  const waiting = new Set<string>();
  for (const line of await otherLines(tx, match)) {
    if (line.status === 'claimed' || !isMine(ctx, line)) continue;
    const lineState = await MatchState.create(tx, ctx.deps, state.subject, line, { active: state.rows });
    for (const r of lineState.decision.recipients) if (r.role === 'party' && await lineState.hears(r.agencyId, 'party')) waiting.add(r.agencyId);
  }
  const refs: AgencyRef[] = [];
  for (const id of [...waiting].sort()) refs.push(state.byAgency.get(id)?.agency ?? (await agencyRef(tx, id)));
  return refs;
}

async function toMatchView(tx: Tx, ctx: Ctx, match: MatchRow, known?: MatchState): Promise<MatchView> {
  // A match that ended shows its parties as they were then; whoever registered since is another match.
  const subject = known?.subject ?? (await handle(tx, ctx, match));
  const ended = match.endedAt ? { active: await signalsEndingAt(tx, subject, match.endedAt) } : {};
  const state = known && !match.endedAt ? known : await MatchState.create(tx, ctx.deps, subject, match, ended);
  await auditAccess(tx, ctx, { action: 'match.read', subject: subject.pseudonym, resource: match.id, outcome: 'ok' });
  const related: MatchView['related'] = [];
  for (const { kind, match: m } of await relatedMatches(tx, subject)) {
    related.push({ id: m.id, kind, status: m.status, coordinator: m.coordinatorId ? await agencyRef(tx, m.coordinatorId) : null });
  }
  return {
    id: match.id,
    kind: subject.kind === 'family' ? 'family' : 'child',
    status: match.status,
    municipality: match.municipality,
    district: state.location.district,
    createdAt: match.createdAt,
    claimBy: match.claimBy,
    claimedAt: match.claimedAt,
    endedAt: match.endedAt,
    closeReason: match.closeReason,
    coordinator: await coordinatorOf(tx, match, subject.dataKey),
    escalatedTo: match.escalatedTo ? await agencyRef(tx, match.escalatedTo) : null,
    // The coordinator sees every party with contact details (the policy's coordinator rule).
    parties: [...state.rows].reverse().map((r) => {
      const { kind, professional } = state.opened(r.signal);
      return { agency: r.agency, kind, contact: professional, since: r.signal.registeredAt };
    }),
    related,
    awaitingIntroduction: await awaitingIntroduction(tx, ctx, match, state),
    caseTables: (await caseTablesOfMatch(tx, match.id)).map(caseTableView),
    timeline: await matchTimeline(tx, match.id),
  };
}

const encodeCursor = (m: MatchRow) => Buffer.from(JSON.stringify([m.createdAt, m.id])).toString('base64url');
function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string')) return v as [string, string];
  } catch {
    /* fall through */
  }
  throw invalid('invalid_cursor', 'the cursor is not one this service gave out');
}

/** The matches the caller coordinates or was escalated to, newest first. */
export async function listMatches({ ctx, query }: { ctx: Ctx; query: ListMatchesQuery }): Promise<{ items: MatchView[]; next: string | null }> {
  requireScope(ctx, 'matches:coordinate');
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  return withTransaction(ctx.deps, async (tx) => {
    const rows = await coordinatedMatches(tx, { agencyId: ctx.actor.agencyId, lens: FULL_LENS, status: query.status, after, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const items: MatchView[] = [];
    for (const m of page) items.push(await toMatchView(tx, ctx, m));
    return { items, next: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null };
  });
}

export async function getMatch({ ctx, id }: { ctx: Ctx; id: string }): Promise<MatchView> {
  requireScope(ctx, 'matches:coordinate');
  return withTransaction(ctx.deps, async (tx) => toMatchView(tx, ctx, await loadOwnMatch(tx, ctx, id)));
}

function requireLive(match: MatchRow): void {
  if (match.status === 'closed' || match.status === 'dissolved') throw conflict('match_not_open', 'this match has ended');
}

/**
 * Writes a coordinator's change to one line of a match with its timeline event, tells the parties
 * of that line that were told of it and the other coordinator, and answers the line's state.
 */
async function changeLine(tx: Tx, ctx: Ctx, subject: SubjectHandle, active: ActiveRow[], changed: MatchRow, change: { event: string; notice: NoticeType }): Promise<MatchState> {
  await saveMatch(tx, changed);
  await recordMatchEvent(tx, changed.id, changed.updatedAt, change.event, ctx.actor.agencyId);
  const state = await MatchState.create(tx, ctx.deps, subject, changed, { active });
  await state.notifyParties(change.notice, { requestId: ctx.requestId });
  // When the municipality acts on an escalated match, the WIJ team hears of it, and vice versa.
  await state.notifyCoordinators(change.notice, { except: ctx.actor.agencyId, requestId: ctx.requestId });
  return state;
}

/**
 * Applies a coordinator's act to every live line of the match where it applies (`change` answers
 * the changed row, or null where the act does not apply to that line); answers the coordinator's
 * line as it now stands, or null when the act applied nowhere.
 */
async function actOnLines(
  tx: Tx,
  ctx: Ctx,
  match: MatchRow,
  change: (line: MatchRow, subject: SubjectHandle, active: ActiveRow[]) => MatchRow | null,
  how: { event: string; action: string; outcome: string; notice: NoticeType },
): Promise<MatchView | null> {
  const subject = await handle(tx, ctx, match);
  const active = await activeSignals(tx, subject);
  let applied = false;
  let own: MatchState | undefined;
  for (const line of [match, ...(await otherLines(tx, match))]) {
    if (!isMine(ctx, line)) continue;
    const changed = change(line, subject, active);
    if (!changed) continue;
    applied = true;
    const state = await changeLine(tx, ctx, subject, active, changed, how);
    if (line === match) own = state;
  }
  if (!applied) return null;
  await auditAccess(tx, ctx, { action: how.action, subject: subject.pseudonym, resource: match.id, outcome: how.outcome });
  const now = own?.match ?? (await matchById(tx, match.id))!;
  return toMatchView(tx, ctx, now, own);
}

/**
 * The coordinator picks the match up; every party told of the match learns whom to call. Claiming
 * a match that is claimed already introduces the coordinator to the parties that were told of the
 * match since (`awaitingIntroduction`).
 */
export async function claimMatch({ ctx, id, input }: { ctx: Ctx; id: string; input: ClaimMatchInput }): Promise<MatchView> {
  requireScope(ctx, 'matches:coordinate');
  const at = ctx.deps.clock.now().toISOString();
  return withTransaction(ctx.deps, async (tx) => {
    const match = await loadOwnMatch(tx, ctx, id);
    requireLive(match);
    const view = await actOnLines(
      tx,
      ctx,
      match,
      (line, subject) =>
        line.status === 'claimed'
          ? null
          : {
              ...line,
              status: 'claimed',
              claimedAt: at,
              claimSealed: sealClaim(subject.dataKey, line.id, { agencyId: ctx.actor.agencyId, contact: input.coordinator }),
              updatedAt: at,
            },
      { event: 'claimed', action: 'match.claim', outcome: 'ok', notice: 'match.claimed' },
    );
    if (!view) throw conflict('match_already_claimed', 'this match has been claimed already');
    return view;
  });
}

/** Convenes a case table with parties that were told of the match (by default all of them). */
export async function conveneCaseTable({ ctx, id, input, idempotency }: { ctx: Ctx; id: string; input: ConveneCaseTableInput; idempotency?: IdempotencyRequest }): Promise<CaseTableView & { replayed?: true }> {
  requireScope(ctx, 'matches:coordinate');
  const now = ctx.deps.clock.now();
  const scheduledFor = new Date(input.scheduledFor);
  if (scheduledFor.getTime() < now.getTime()) throw unprocessable('scheduled_in_past', 'a case table is convened for a time to come');
  return withTransaction(ctx.deps, async (tx) => {
    const match = await loadOwnMatch(tx, ctx, id);
    if (idempotency) {
      const prior = await findIdempotent(tx, ctx.actor.agencyId, idempotency.key, now);
      if (prior) {
        if (prior.fingerprint !== idempotency.fingerprint) throw conflict('idempotency_key_reused', 'this Idempotency-Key was used for another request');
        const row = (await caseTableById(tx, prior.resourceId))!;
        return { ...caseTableView(row), replayed: true as const };
      }
    }
    requireLive(match);
    if (match.status !== 'claimed') throw conflict('match_not_claimed', 'claim the match before convening a case table');
    const subject = await handle(tx, ctx, match);
    const active = await activeSignals(tx, subject);
    const told = (state: MatchState) => new Set(state.decision.recipients.filter((r) => r.role === 'party').map((r) => r.agencyId));
    const state = await MatchState.create(tx, ctx.deps, subject, match, { active });
    // Only parties that were told of the match can be invited: a party that may see nobody must
    // not learn from an invitation that others are involved.
    const toldHere = told(state);
    const invited = [...new Set(input.invite ?? [...toldHere])];
    if (invited.some((a) => !toldHere.has(a))) throw unprocessable('invitee_not_a_party', 'invite only parties that were told of this match');
    const convene = async (line: MatchState, rootId: string | null, invitees: string[]): Promise<CaseTableRow> => {
      const row: CaseTableRow = {
        id: newId('cst', now, line.match!.id),
        matchId: line.match!.id,
        rootId,
        scheduledFor: scheduledFor.toISOString(),
        invited: invitees,
        createdAt: now.toISOString(),
        held: null,
        attendedBy: null,
        leadAgencyId: null,
        nextReviewOn: null,
        outcomeAt: null,
      };
      await createCaseTable(tx, row);
      await recordMatchEvent(tx, line.match!.id, row.createdAt, 'case_table.convened', ctx.actor.agencyId);
      await line.notifyParties('case_table.convened', { requestId: ctx.requestId, only: new Set(invitees), caseTable: (agencyId) => caseTableFor(row, line, agencyId) });
      return row;
    };
    const root = await convene(state, null, invited);
    // A narrower line hears of the case table only where the coordinator has claimed it there.
    for (const other of await otherLines(tx, match)) {
      if (other.status !== 'claimed' || !isMine(ctx, other)) continue;
      const line = await MatchState.create(tx, ctx.deps, subject, other, { active });
      const toldThere = told(line);
      await convene(line, root.id, invited.filter((a) => toldThere.has(a)));
    }
    await auditAccess(tx, ctx, { action: 'case_table.convene', subject: subject.pseudonym, resource: root.id, outcome: 'ok' });
    if (idempotency) await rememberIdempotent(tx, ctx.actor.agencyId, idempotency, 201, root.id, now);
    return caseTableView(root);
  });
}

/** Records what came of a case table; the invitees hear it, each seeing only whom it may see. */
export async function recordCaseTableOutcome({ ctx, id, input }: { ctx: Ctx; id: string; input: CaseTableOutcomeInput }): Promise<CaseTableView> {
  requireScope(ctx, 'matches:coordinate');
  const at = ctx.deps.clock.now().toISOString();
  return withTransaction(ctx.deps, async (tx) => {
    const table = await rootCaseTableById(tx, id);
    if (!table) throw notFound('case_table_not_found', 'no such case table');
    const match = await coordinatedMatch(tx, table.matchId, ctx.actor.agencyId, FULL_LENS);
    if (!match) throw notFound('case_table_not_found', 'no such case table');
    if (table.outcomeAt) throw conflict('outcome_already_recorded', 'the outcome of this case table has been recorded');
    const present = new Set([...table.invited, ctx.actor.agencyId, ...(match.coordinatorId ? [match.coordinatorId] : [])]);
    if (input.attendedBy.some((a) => !present.has(a))) throw unprocessable('not_invited', 'attendedBy names an agency that was not invited');
    if (input.leadAgencyId && !present.has(input.leadAgencyId)) throw unprocessable('not_invited', 'the lead agency was not invited');
    if (!input.held && input.attendedBy.length > 0) throw unprocessable('not_held', 'a case table that was not held had no attendees');
    const outcome = {
      held: input.held,
      attendedBy: [...new Set(input.attendedBy)],
      leadAgencyId: input.leadAgencyId ?? null,
      nextReviewOn: input.nextReviewOn ?? null,
      outcomeAt: at,
    };
    const subject = await handle(tx, ctx, match);
    const active = await activeSignals(tx, subject);
    const rows = [table, ...(await caseTablesUnder(tx, table.id))];
    for (const row of rows) {
      const line = row === table ? match : (await matchById(tx, row.matchId))!;
      const updated: CaseTableRow = { ...row, ...outcome };
      await saveCaseTableOutcome(tx, row.id, outcome);
      await recordMatchEvent(tx, line.id, at, 'case_table.outcome', ctx.actor.agencyId);
      // The parties of a line that has since dissolved are not told: in their world it ended.
      if (line.status === 'dissolved') continue;
      const state = await MatchState.create(tx, ctx.deps, subject, line, { active });
      await state.notifyParties('case_table.outcome', { requestId: ctx.requestId, only: new Set(row.invited), caseTable: (agencyId) => caseTableFor(updated, state, agencyId) });
    }
    await auditAccess(tx, ctx, { action: 'case_table.outcome', subject: subject.pseudonym, resource: table.id, outcome: 'ok' });
    return caseTableView({ ...table, ...outcome });
  });
}

/** The coordinator closes the match; the parties that were told of it hear so. */
export async function closeMatch({ ctx, id, input }: { ctx: Ctx; id: string; input: CloseMatchInput }): Promise<MatchView> {
  requireScope(ctx, 'matches:coordinate');
  const at = ctx.deps.clock.now().toISOString();
  return withTransaction(ctx.deps, async (tx) => {
    const match = await loadOwnMatch(tx, ctx, id);
    requireLive(match);
    const close = (line: MatchRow, _: SubjectHandle, active: ActiveRow[]): MatchRow => ({
      ...line,
      status: 'closed',
      endedAt: at,
      closeReason: input.reason,
      updatedAt: at,
      coveredSignals: active.filter((r) => letsThrough(line.lens, r.agency.type)).map((r) => r.signal.id),
    });
    return (await actOnLines(tx, ctx, match, close, {
      event: 'closed',
      action: 'match.close',
      outcome: input.reason,
      notice: 'match.closed',
    }))!;
  });
}

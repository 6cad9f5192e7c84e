import { and, asc, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import { caseTables, matches, matchEvents } from '../../schema/tables.ts';
import { newId } from '../crypto/ids.ts';
import { inTransaction, type Tx } from '../store/db.ts';
import { findIdempotent, type IdempotencyRequest, rememberIdempotent } from '../store/idempotency.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { auditAccess } from './audit.ts';
import { type Ctx, requireScope } from './context.ts';
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
import { agencyRef, coordinatorOf, type MatchRow, MatchState, recordEvent, saveMatch, sealClaim, type SubjectHandle } from './matching.ts';
import type { NoticeBody, NoticeType } from './notice-schemas.ts';
import { openSignal } from './signal-record.ts';

/**
 * Coordination (API.md, matches and case tables): only a match's coordinator, or the
 * municipality it was escalated to, may see or act on it; to anyone else it does not exist.
 */

const mine = (ctx: Ctx) => or(eq(matches.coordinatorId, ctx.actor.agencyId), eq(matches.escalatedTo, ctx.actor.agencyId))!;

function loadOwnMatch(tx: Tx, ctx: Ctx, id: string): MatchRow {
  const row = tx.select().from(matches).where(and(eq(matches.id, id), mine(ctx))).get();
  if (!row) throw notFound('match_not_found', 'no such match');
  return row;
}

function handle(tx: Tx, ctx: Ctx, match: MatchRow) {
  const { dataKey, pseudonym } = loadSubjectKey(tx, ctx.deps.keys, match.subjectId);
  return { subjectId: match.subjectId, dataKey, pseudonym };
}

function caseTableView(row: typeof caseTables.$inferSelect): CaseTableView {
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

function toMatchView(tx: Tx, ctx: Ctx, match: MatchRow, known?: MatchState): MatchView {
  const state = known ?? new MatchState(tx, ctx.deps, handle(tx, ctx, match), match);
  const { subject } = state;
  auditAccess(tx, ctx, { action: 'match.read', subject: subject.pseudonym, resource: match.id, outcome: 'ok' });
  return {
    id: match.id,
    status: match.status,
    municipality: match.municipality,
    district: match.district,
    createdAt: match.createdAt,
    claimBy: match.claimBy,
    claimedAt: match.claimedAt,
    endedAt: match.endedAt,
    closeReason: match.closeReason,
    coordinator: coordinatorOf(tx, match, subject.dataKey),
    escalatedTo: match.escalatedTo ? agencyRef(tx, match.escalatedTo) : null,
    // The coordinator sees every party with contact details (the policy's coordinator rule).
    parties: [...state.rows]
      .reverse()
      .map((r) => ({ agency: r.agency, contact: openSignal(subject.dataKey, r.signal).professional, since: r.signal.registeredAt })),
    caseTables: tx.select().from(caseTables).where(eq(caseTables.matchId, match.id)).orderBy(asc(caseTables.id)).all().map(caseTableView),
    timeline: tx
      .select({ at: matchEvents.at, type: matchEvents.type, agencyId: matchEvents.agencyId })
      .from(matchEvents)
      .where(eq(matchEvents.matchId, match.id))
      .orderBy(asc(matchEvents.id))
      .all(),
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
export function listMatches({ ctx, query }: { ctx: Ctx; query: ListMatchesQuery }): { items: MatchView[]; next: string | null } {
  requireScope(ctx, 'matches:coordinate');
  const where: SQL[] = [mine(ctx)];
  if (query.status) where.push(eq(matches.status, query.status));
  if (query.cursor) {
    const [createdAt, id] = decodeCursor(query.cursor);
    where.push(or(lt(matches.createdAt, createdAt), and(eq(matches.createdAt, createdAt), lt(matches.id, id)))!);
  }
  return inTransaction(ctx.deps.db, (tx) => {
    const rows = tx.select().from(matches).where(and(...where)).orderBy(desc(matches.createdAt), desc(matches.id)).limit(query.limit + 1).all();
    const page = rows.slice(0, query.limit);
    return { items: page.map((m) => toMatchView(tx, ctx, m)), next: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null };
  });
}

export function getMatch({ ctx, id }: { ctx: Ctx; id: string }): MatchView {
  requireScope(ctx, 'matches:coordinate');
  return inTransaction(ctx.deps.db, (tx) => toMatchView(tx, ctx, loadOwnMatch(tx, ctx, id)));
}

function requireLive(match: MatchRow): void {
  if (match.status === 'closed' || match.status === 'dissolved') throw conflict('match_not_open', 'this match has ended');
}

/**
 * Writes a coordinator's change to a match with its timeline event and audit record, tells the
 * parties that were told of the match and the other coordinator, and answers the match as it is now.
 */
function changeMatch(
  tx: Tx,
  ctx: Ctx,
  subject: SubjectHandle,
  changed: MatchRow,
  change: { event: string; action: string; outcome: string; notice: NoticeType },
): MatchView {
  saveMatch(tx, changed);
  recordEvent(tx, changed.id, changed.updatedAt, change.event, ctx.actor.agencyId);
  auditAccess(tx, ctx, { action: change.action, subject: subject.pseudonym, resource: changed.id, outcome: change.outcome });
  const state = new MatchState(tx, ctx.deps, subject, changed);
  state.notifyParties(change.notice, { requestId: ctx.requestId });
  // When the municipality acts on an escalated match, the WIJ team hears of it, and vice versa.
  state.notifyCoordinators(change.notice, { except: ctx.actor.agencyId, requestId: ctx.requestId });
  return toMatchView(tx, ctx, changed, state);
}

/** The coordinator picks the match up; every party told of the match learns whom to call. */
export function claimMatch({ ctx, id, input }: { ctx: Ctx; id: string; input: ClaimMatchInput }): MatchView {
  requireScope(ctx, 'matches:coordinate');
  const at = ctx.deps.clock.now().toISOString();
  return inTransaction(ctx.deps.db, (tx) => {
    const match = loadOwnMatch(tx, ctx, id);
    requireLive(match);
    if (match.status === 'claimed') throw conflict('match_already_claimed', 'this match has been claimed already');
    const subject = handle(tx, ctx, match);
    const claimed: MatchRow = {
      ...match,
      status: 'claimed',
      claimedAt: at,
      claimSealed: sealClaim(subject.dataKey, match.id, { agencyId: ctx.actor.agencyId, contact: input.coordinator }),
      updatedAt: at,
    };
    return changeMatch(tx, ctx, subject, claimed, { event: 'claimed', action: 'match.claim', outcome: 'ok', notice: 'match.claimed' });
  });
}

/** Convenes a case table with parties that were told of the match (by default all of them). */
export function conveneCaseTable({ ctx, id, input, idempotency }: { ctx: Ctx; id: string; input: ConveneCaseTableInput; idempotency?: IdempotencyRequest }): CaseTableView & { replayed?: true } {
  requireScope(ctx, 'matches:coordinate');
  const now = ctx.deps.clock.now();
  const scheduledFor = new Date(input.scheduledFor);
  if (scheduledFor.getTime() < now.getTime()) throw unprocessable('scheduled_in_past', 'a case table is convened for a time to come');
  return inTransaction(ctx.deps.db, (tx) => {
    const match = loadOwnMatch(tx, ctx, id);
    if (idempotency) {
      const prior = findIdempotent(tx, ctx.actor.agencyId, idempotency.key, now);
      if (prior) {
        if (prior.fingerprint !== idempotency.fingerprint) throw conflict('idempotency_key_reused', 'this Idempotency-Key was used for another request');
        const row = tx.select().from(caseTables).where(eq(caseTables.id, prior.resourceId)).get()!;
        return { ...caseTableView(row), replayed: true as const };
      }
    }
    requireLive(match);
    if (match.status !== 'claimed') throw conflict('match_not_claimed', 'claim the match before convening a case table');
    const subject = handle(tx, ctx, match);
    const state = new MatchState(tx, ctx.deps, subject, match);
    // Only parties that were told of the match can be invited: a party that may see nobody must
    // not learn from an invitation that others are involved.
    const told = new Set(state.decision.recipients.filter((r) => r.role === 'party').map((r) => r.agencyId));
    const invited = [...new Set(input.invite ?? [...told])];
    const stranger = invited.find((a) => !told.has(a));
    if (stranger) throw unprocessable('invitee_not_a_party', 'invite only parties that were told of this match');
    const row = {
      id: newId('cst', now),
      matchId: match.id,
      scheduledFor: scheduledFor.toISOString(),
      invited,
      createdAt: now.toISOString(),
      held: null,
      attendedBy: null,
      leadAgencyId: null,
      nextReviewOn: null,
      outcomeAt: null,
    };
    tx.insert(caseTables).values(row).run();
    recordEvent(tx, match.id, row.createdAt, 'case_table.convened', ctx.actor.agencyId);
    auditAccess(tx, ctx, { action: 'case_table.convene', subject: subject.pseudonym, resource: row.id, outcome: 'ok' });
    if (idempotency) rememberIdempotent(tx, ctx.actor.agencyId, idempotency, 201, row.id, now);
    const view = caseTableView(row);
    state.notifyParties('case_table.convened', { requestId: ctx.requestId, only: new Set(invited), caseTable: () => view });
    return view;
  });
}

/** Records what came of a case table; the invitees hear it, each seeing only whom it may see. */
export function recordCaseTableOutcome({ ctx, id, input }: { ctx: Ctx; id: string; input: CaseTableOutcomeInput }): CaseTableView {
  requireScope(ctx, 'matches:coordinate');
  const at = ctx.deps.clock.now().toISOString();
  return inTransaction(ctx.deps.db, (tx) => {
    const table = tx.select().from(caseTables).where(eq(caseTables.id, id)).get();
    if (!table) throw notFound('case_table_not_found', 'no such case table');
    const match = tx.select().from(matches).where(and(eq(matches.id, table.matchId), mine(ctx))).get();
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
    tx.update(caseTables).set(outcome).where(eq(caseTables.id, table.id)).run();
    const subject = handle(tx, ctx, match);
    recordEvent(tx, match.id, at, 'case_table.outcome', ctx.actor.agencyId);
    auditAccess(tx, ctx, { action: 'case_table.outcome', subject: subject.pseudonym, resource: table.id, outcome: 'ok' });
    const state = new MatchState(tx, ctx.deps, subject, match);
    const view = caseTableView({ ...table, ...outcome });
    const forRecipient = (agencyId: string): NoticeBody['caseTable'] => {
      const visible = new Set([agencyId, ...(match.coordinatorId ? [match.coordinatorId] : []), ...(state.recipient(agencyId)?.sees ?? []).filter((s) => s.view === 'contact').map((s) => s.agencyId)]);
      return {
        ...view,
        attendedBy: view.attendedBy!.filter((a) => visible.has(a)),
        leadAgencyId: view.leadAgencyId && visible.has(view.leadAgencyId) ? view.leadAgencyId : null,
      };
    };
    state.notifyParties('case_table.outcome', { requestId: ctx.requestId, only: new Set(table.invited), caseTable: forRecipient });
    return view;
  });
}

/** The coordinator closes the match; the parties that were told of it hear so. */
export function closeMatch({ ctx, id, input }: { ctx: Ctx; id: string; input: CloseMatchInput }): MatchView {
  requireScope(ctx, 'matches:coordinate');
  const at = ctx.deps.clock.now().toISOString();
  return inTransaction(ctx.deps.db, (tx) => {
    const match = loadOwnMatch(tx, ctx, id);
    requireLive(match);
    const closed: MatchRow = { ...match, status: 'closed', endedAt: at, closeReason: input.reason, updatedAt: at };
    return changeMatch(tx, ctx, handle(tx, ctx, match), closed, { event: 'closed', action: 'match.close', outcome: input.reason, notice: 'match.closed' });
  });
}


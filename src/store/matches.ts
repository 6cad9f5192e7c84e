import { and, asc, desc, eq, inArray, isNull, lt, lte, notExists, or, type SQL, sql } from 'drizzle-orm';
import { caseTables, matches, matchEvents, matchRecipients } from '../../schema/tables.ts';
import { placeholders, preparedQuery, type Tx, updateSet } from './db.ts';

/**
 * Matches with their recipients, timeline events and case tables. A match belongs to one subject
 * and one lens (the party types its line leaves out; '' for the coordinator's full view).
 */

export type MatchRow = typeof matches.$inferSelect;
export type MatchStatus = MatchRow['status'];
export type MatchRecipientRow = typeof matchRecipients.$inferSelect;
export type CaseTableRow = typeof caseTables.$inferSelect;
export type CaseTableOutcome = Pick<CaseTableRow, 'held' | 'attendedBy' | 'leadAgencyId' | 'nextReviewOn' | 'outcomeAt'>;
export type MatchEvent = Pick<typeof matchEvents.$inferSelect, 'at' | 'type' | 'agencyId'>;

export const LIVE_STATUSES = ['open', 'claimed', 'escalated'] as const;

const liveMatches = preparedQuery((db) =>
  db.select().from(matches).where(and(eq(matches.subjectId, sql.placeholder('subjectId')), inArray(matches.status, [...LIVE_STATUSES]))).prepare(),
);
const closedCoverage = preparedQuery((db) =>
  db
    .select({ covered: matches.coveredSignals })
    .from(matches)
    .where(and(eq(matches.subjectId, sql.placeholder('subjectId')), eq(matches.lens, sql.placeholder('lens')), eq(matches.status, 'closed')))
    .prepare(),
);
const insertEvent = preparedQuery((db) => db.insert(matchEvents).values(placeholders('matchId', 'at', 'type', 'agencyId')).prepare());
const recipientsOf = preparedQuery((db) =>
  db.select().from(matchRecipients).where(eq(matchRecipients.matchId, sql.placeholder('matchId'))).orderBy(asc(matchRecipients.agencyId)).prepare(),
);
const MATCH_COLUMNS = [
  'subjectId', 'lens', 'status', 'municipality', 'coordinatorId', 'policyVersion', 'createdAt', 'updatedAt',
  'claimBy', 'claimedAt', 'claimSealed', 'escalatedTo', 'escalatedAt', 'endedAt', 'closeReason', 'coveredSignals',
] as const;
const insertMatch = preparedQuery((db) => db.insert(matches).values(placeholders('id', ...MATCH_COLUMNS)).prepare());
const updateMatch = preparedQuery((db) => db.update(matches).set(updateSet<MatchRow>(...MATCH_COLUMNS)).where(eq(matches.id, sql.placeholder('id'))).prepare());
const dropRecipient = preparedQuery((db) =>
  db.delete(matchRecipients).where(and(eq(matchRecipients.matchId, sql.placeholder('matchId')), eq(matchRecipients.agencyId, sql.placeholder('agencyId')))).prepare(),
);
const upsertRecipient = preparedQuery((db) =>
  db
    .insert(matchRecipients)
    .values(placeholders('matchId', 'agencyId', 'role', 'visibleSealed', 'updatedAt'))
    .onConflictDoUpdate({
      target: [matchRecipients.matchId, matchRecipients.agencyId],
      set: { role: sql`excluded.role`, visibleSealed: sql`excluded.visible_sealed`, updatedAt: sql`excluded.updated_at` },
    })
    .prepare(),
);

/** The subject's live matches, one per lens at most. */
export function liveMatchesOfSubject(tx: Tx, subjectId: string): MatchRow[] {
  return liveMatches(tx).all({ subjectId });
}

/** The signals the subject's closed matches of a lens covered, one list per match. */
export function closedMatchCoverage(tx: Tx, subjectId: string, lens: string): Array<string[] | null> {
  return closedCoverage(tx).all({ subjectId, lens }).map((m) => m.covered);
}

export function matchById(tx: Tx, id: string): MatchRow | undefined {
  return tx.select().from(matches).where(eq(matches.id, id)).get();
}

export function createMatch(tx: Tx, match: MatchRow): void {
  insertMatch(tx).run(match);
}

/** Writes a match's row as it now stands. */
export function saveMatch(tx: Tx, match: MatchRow): void {
  updateMatch(tx).run(match);
}

/** Ends a match whose agencies fell below two. */
export function markMatchDissolved(tx: Tx, matchId: string, at: string): void {
  tx.update(matches).set({ status: 'dissolved', endedAt: at, updatedAt: at }).where(eq(matches.id, matchId)).run();
}

export function recordMatchEvent(tx: Tx, matchId: string, at: string, type: string, agencyId: string | null): void {
  insertEvent(tx).run({ matchId, at, type, agencyId });
}

/** The match's timeline, in order. */
export function matchTimeline(tx: Tx, matchId: string): MatchEvent[] {
  return tx
    .select({ at: matchEvents.at, type: matchEvents.type, agencyId: matchEvents.agencyId })
    .from(matchEvents)
    .where(eq(matchEvents.matchId, matchId))
    .orderBy(asc(matchEvents.id))
    .all();
}

/** A match's recipients by agency id, each with what it was last shown (sealed). */
export function recipientsOfMatch(tx: Tx, matchId: string): MatchRecipientRow[] {
  return recipientsOf(tx).all({ matchId });
}

export function saveMatchRecipient(tx: Tx, r: MatchRecipientRow): void {
  upsertRecipient(tx).run(r);
}

export function dropMatchRecipient(tx: Tx, matchId: string, agencyId: string): void {
  dropRecipient(tx).run({ matchId, agencyId });
}

export function dropRecipientsOfMatch(tx: Tx, matchId: string): void {
  tx.delete(matchRecipients).where(eq(matchRecipients.matchId, matchId)).run();
}

/** A coordinator's matches: those of `lens` it coordinates or was escalated to. */
const coordinatedBy = (agencyId: string, lens: string) =>
  and(eq(matches.lens, lens), or(eq(matches.coordinatorId, agencyId), eq(matches.escalatedTo, agencyId)))!;

/** The match of `lens` with this id, if the agency coordinates it or it was escalated to the agency. */
export function coordinatedMatch(tx: Tx, id: string, agencyId: string, lens: string): MatchRow | undefined {
  return tx.select().from(matches).where(and(eq(matches.id, id), coordinatedBy(agencyId, lens))).get();
}

/**
 * A page of the agency's coordinated matches of `lens`, newest first: up to `limit` rows after the
 * (createdAt, id) of `after`, optionally of one status.
 */
export function coordinatedMatches(
  tx: Tx,
  q: { agencyId: string; lens: string; status?: MatchStatus; after?: [createdAt: string, id: string]; limit: number },
): MatchRow[] {
  const where: SQL[] = [coordinatedBy(q.agencyId, q.lens)];
  if (q.status) where.push(eq(matches.status, q.status));
  if (q.after) {
    const [createdAt, id] = q.after;
    where.push(or(lt(matches.createdAt, createdAt), and(eq(matches.createdAt, createdAt), lt(matches.id, id)))!);
  }
  return tx.select().from(matches).where(and(...where)).orderBy(desc(matches.createdAt), desc(matches.id)).limit(q.limit).all();
}

/** The open matches whose claim deadline has passed by `at`, earliest deadline first. */
export function openMatchesDueBy(tx: Tx, at: string): Array<{ id: string }> {
  return tx.select({ id: matches.id }).from(matches).where(and(eq(matches.status, 'open'), lte(matches.claimBy, at))).orderBy(asc(matches.claimBy)).all();
}

export function openMatchById(tx: Tx, id: string): MatchRow | undefined {
  return tx.select().from(matches).where(and(eq(matches.id, id), eq(matches.status, 'open'))).get();
}

/** The claimed matches of `lens` claimed by `claimedBefore` that have no case table yet. */
export function claimedMatchesWithoutCaseTable(tx: Tx, lens: string, claimedBefore: string): Array<{ id: string }> {
  return tx
    .select({ id: matches.id })
    .from(matches)
    .where(
      and(
        eq(matches.status, 'claimed'),
        eq(matches.lens, lens),
        lte(matches.claimedAt, claimedBefore),
        notExists(tx.select({ id: caseTables.id }).from(caseTables).where(eq(caseTables.matchId, matches.id))),
      ),
    )
    .all();
}

/** The ids of every live match of `lens`. */
export function liveMatchIds(tx: Tx, lens: string): Array<{ id: string }> {
  return tx.select({ id: matches.id }).from(matches).where(and(eq(matches.lens, lens), inArray(matches.status, [...LIVE_STATUSES]))).all();
}

/** The case tables convened for a match, in order. */
export function caseTablesOfMatch(tx: Tx, matchId: string): CaseTableRow[] {
  return tx.select().from(caseTables).where(eq(caseTables.matchId, matchId)).orderBy(asc(caseTables.id)).all();
}

export function caseTableById(tx: Tx, id: string): CaseTableRow | undefined {
  return tx.select().from(caseTables).where(eq(caseTables.id, id)).get();
}

/** A case table the coordinator convened (not a narrower line's copy of one). */
export function rootCaseTableById(tx: Tx, id: string): CaseTableRow | undefined {
  return tx.select().from(caseTables).where(and(eq(caseTables.id, id), isNull(caseTables.rootId))).get();
}

/** The copies of a case table in the narrower lines of its match. */
export function caseTablesUnder(tx: Tx, rootId: string): CaseTableRow[] {
  return tx.select().from(caseTables).where(eq(caseTables.rootId, rootId)).all();
}

export function createCaseTable(tx: Tx, row: CaseTableRow): void {
  tx.insert(caseTables).values(row).run();
}

export function saveCaseTableOutcome(tx: Tx, id: string, outcome: CaseTableOutcome): void {
  tx.update(caseTables).set(outcome).where(eq(caseTables.id, id)).run();
}

import { and, asc, desc, eq, inArray, isNull, lt, lte, notExists, or, type SQL, sql } from 'drizzle-orm';
import type { caseTables, matches, matchEvents, matchRecipients } from '../../schema/tables.ts';
import { exec, first, many, placeholders, preparedQuery, type Tables, type Tx, updateSet } from './db.ts';

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

const liveMatches = preparedQuery(({ db, t: { matches } }) =>
  db.select().from(matches).where(and(eq(matches.subjectId, sql.placeholder('subjectId')), inArray(matches.status, [...LIVE_STATUSES]))),
);
const closedCoverage = preparedQuery(({ db, t: { matches } }) =>
  db
    .select({ covered: matches.coveredSignals })
    .from(matches)
    .where(and(eq(matches.subjectId, sql.placeholder('subjectId')), eq(matches.lens, sql.placeholder('lens')), eq(matches.status, 'closed'))),
);
const insertEvent = preparedQuery(({ db, t: { matchEvents } }) => db.insert(matchEvents).values(placeholders('matchId', 'at', 'type', 'agencyId')));
const recipientsOf = preparedQuery(({ db, t: { matchRecipients } }) =>
  db.select().from(matchRecipients).where(eq(matchRecipients.matchId, sql.placeholder('matchId'))).orderBy(asc(matchRecipients.agencyId)),
);
const MATCH_COLUMNS = [
  'subjectId', 'lens', 'status', 'municipality', 'coordinatorId', 'policyVersion', 'createdAt', 'updatedAt',
  'claimBy', 'claimedAt', 'claimSealed', 'escalatedTo', 'escalatedAt', 'endedAt', 'closeReason', 'coveredSignals',
] as const;
const insertMatch = preparedQuery(({ db, t: { matches } }) => db.insert(matches).values(placeholders('id', ...MATCH_COLUMNS)));
const updateMatch = preparedQuery(({ db, t: { matches } }) => db.update(matches).set(updateSet<MatchRow>(...MATCH_COLUMNS)).where(eq(matches.id, sql.placeholder('id'))));
const dropRecipient = preparedQuery(({ db, t: { matchRecipients } }) =>
  db.delete(matchRecipients).where(and(eq(matchRecipients.matchId, sql.placeholder('matchId')), eq(matchRecipients.agencyId, sql.placeholder('agencyId')))),
);
const upsertRecipient = preparedQuery(({ db, t: { matchRecipients } }) =>
  db
    .insert(matchRecipients)
    .values(placeholders('matchId', 'agencyId', 'role', 'visibleSealed', 'updatedAt'))
    .onConflictDoUpdate({
      target: [matchRecipients.matchId, matchRecipients.agencyId],
      set: { role: sql`excluded.role`, visibleSealed: sql`excluded.visible_sealed`, updatedAt: sql`excluded.updated_at` },
    }),
);

/** The subject's live matches, one per lens at most. */
export async function liveMatchesOfSubject(tx: Tx, subjectId: string): Promise<MatchRow[]> {
  return liveMatches(tx).many({ subjectId });
}

/** The signals the subject's closed matches of a lens covered, one list per match. */
export async function closedMatchCoverage(tx: Tx, subjectId: string, lens: string): Promise<Array<string[] | null>> {
  return (await closedCoverage(tx).many({ subjectId, lens })).map((m) => m.covered);
}

export async function matchById(tx: Tx, id: string): Promise<MatchRow | undefined> {
  const { matches } = tx.t;
  return first(tx, tx.db.select().from(matches).where(eq(matches.id, id)));
}

export async function createMatch(tx: Tx, match: MatchRow): Promise<void> {
  await insertMatch(tx).exec(match);
}

/** Writes a match's row as it now stands. */
export async function saveMatch(tx: Tx, match: MatchRow): Promise<void> {
  await updateMatch(tx).exec(match);
}

/** Ends a match whose agencies fell below two. */
export async function markMatchDissolved(tx: Tx, matchId: string, at: string): Promise<void> {
  const { matches } = tx.t;
  await exec(tx, tx.db.update(matches).set({ status: 'dissolved', endedAt: at, updatedAt: at }).where(eq(matches.id, matchId)));
}

export async function recordMatchEvent(tx: Tx, matchId: string, at: string, type: string, agencyId: string | null): Promise<void> {
  await insertEvent(tx).exec({ matchId, at, type, agencyId });
}

/** The match's timeline, in order. */
export async function matchTimeline(tx: Tx, matchId: string): Promise<MatchEvent[]> {
  const { matchEvents } = tx.t;
  return many(
    tx,
    tx.db
      .select({ at: matchEvents.at, type: matchEvents.type, agencyId: matchEvents.agencyId })
      .from(matchEvents)
      .where(eq(matchEvents.matchId, matchId))
      .orderBy(asc(matchEvents.id)),
  );
}

/** A match's recipients by agency id, each with what it was last shown (sealed). */
export async function recipientsOfMatch(tx: Tx, matchId: string): Promise<MatchRecipientRow[]> {
  return recipientsOf(tx).many({ matchId });
}

export async function saveMatchRecipient(tx: Tx, r: MatchRecipientRow): Promise<void> {
  await upsertRecipient(tx).exec(r);
}

export async function dropMatchRecipient(tx: Tx, matchId: string, agencyId: string): Promise<void> {
  await dropRecipient(tx).exec({ matchId, agencyId });
}

export async function dropRecipientsOfMatch(tx: Tx, matchId: string): Promise<void> {
  const { matchRecipients } = tx.t;
  await exec(tx, tx.db.delete(matchRecipients).where(eq(matchRecipients.matchId, matchId)));
}

/** A coordinator's matches: those of `lens` it coordinates or was escalated to. */
const coordinatedBy = ({ matches }: Tables, agencyId: string, lens: string) =>
  and(eq(matches.lens, lens), or(eq(matches.coordinatorId, agencyId), eq(matches.escalatedTo, agencyId)))!;

/** The match of `lens` with this id, if the agency coordinates it or it was escalated to the agency. */
export async function coordinatedMatch(tx: Tx, id: string, agencyId: string, lens: string): Promise<MatchRow | undefined> {
  const { matches } = tx.t;
  return first(tx, tx.db.select().from(matches).where(and(eq(matches.id, id), coordinatedBy(tx.t, agencyId, lens))));
}

/**
 * A page of the agency's coordinated matches of `lens`, newest first: up to `limit` rows after the
 * (createdAt, id) of `after`, optionally of one status.
 */
export async function coordinatedMatches(
  tx: Tx,
  q: { agencyId: string; lens: string; status?: MatchStatus; after?: [createdAt: string, id: string]; limit: number },
): Promise<MatchRow[]> {
  const { matches } = tx.t;
  const where: SQL[] = [coordinatedBy(tx.t, q.agencyId, q.lens)];
  if (q.status) where.push(eq(matches.status, q.status));
  if (q.after) {
    const [createdAt, id] = q.after;
    where.push(or(lt(matches.createdAt, createdAt), and(eq(matches.createdAt, createdAt), lt(matches.id, id)))!);
  }
  return many(tx, tx.db.select().from(matches).where(and(...where)).orderBy(desc(matches.createdAt), desc(matches.id)).limit(q.limit));
}

/** The open matches whose claim deadline has passed by `at`, earliest deadline first. */
export async function openMatchesDueBy(tx: Tx, at: string): Promise<Array<{ id: string }>> {
  const { matches } = tx.t;
  return many(tx, tx.db.select({ id: matches.id }).from(matches).where(and(eq(matches.status, 'open'), lte(matches.claimBy, at))).orderBy(asc(matches.claimBy)));
}

export async function openMatchById(tx: Tx, id: string): Promise<MatchRow | undefined> {
  const { matches } = tx.t;
  return first(tx, tx.db.select().from(matches).where(and(eq(matches.id, id), eq(matches.status, 'open'))));
}

/** The claimed matches of `lens` claimed by `claimedBefore` that have no case table yet. */
export async function claimedMatchesWithoutCaseTable(tx: Tx, lens: string, claimedBefore: string): Promise<Array<{ id: string }>> {
  const { caseTables, matches } = tx.t;
  return many(
    tx,
    tx.db
      .select({ id: matches.id })
      .from(matches)
      .where(
        and(
          eq(matches.status, 'claimed'),
          eq(matches.lens, lens),
          lte(matches.claimedAt, claimedBefore),
          notExists(tx.db.select({ id: caseTables.id }).from(caseTables).where(eq(caseTables.matchId, matches.id))),
        ),
      ),
  );
}

/** The ids of every live match of `lens`. */
export async function liveMatchIds(tx: Tx, lens: string): Promise<Array<{ id: string }>> {
  const { matches } = tx.t;
  return many(tx, tx.db.select({ id: matches.id }).from(matches).where(and(eq(matches.lens, lens), inArray(matches.status, [...LIVE_STATUSES]))));
}

/** The case tables convened for a match, in order. */
export async function caseTablesOfMatch(tx: Tx, matchId: string): Promise<CaseTableRow[]> {
  const { caseTables } = tx.t;
  return many(tx, tx.db.select().from(caseTables).where(eq(caseTables.matchId, matchId)).orderBy(asc(caseTables.id)));
}

export async function caseTableById(tx: Tx, id: string): Promise<CaseTableRow | undefined> {
  const { caseTables } = tx.t;
  return first(tx, tx.db.select().from(caseTables).where(eq(caseTables.id, id)));
}

/** A case table the coordinator convened (not a narrower line's copy of one). */
export async function rootCaseTableById(tx: Tx, id: string): Promise<CaseTableRow | undefined> {
  const { caseTables } = tx.t;
  return first(tx, tx.db.select().from(caseTables).where(and(eq(caseTables.id, id), isNull(caseTables.rootId))));
}

/** The copies of a case table in the narrower lines of its match. */
export async function caseTablesUnder(tx: Tx, rootId: string): Promise<CaseTableRow[]> {
  const { caseTables } = tx.t;
  return many(tx, tx.db.select().from(caseTables).where(eq(caseTables.rootId, rootId)));
}

export async function createCaseTable(tx: Tx, row: CaseTableRow): Promise<void> {
  await exec(tx, tx.db.insert(tx.t.caseTables).values(row));
}

export async function saveCaseTableOutcome(tx: Tx, id: string, outcome: CaseTableOutcome): Promise<void> {
  const { caseTables } = tx.t;
  await exec(tx, tx.db.update(caseTables).set(outcome).where(eq(caseTables.id, id)));
}

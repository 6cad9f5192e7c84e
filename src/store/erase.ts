import { eq, inArray } from 'drizzle-orm';
import { caseTables, matches, matchEvents, matchRecipients, notices, signalFamilies, signals, subjects } from '../../schema/tables.ts';
import type { Tx } from './db.ts';

/**
 * Removes every row about a subject, its wrapped data key last: whatever copy of the sealed data
 * survives elsewhere (a backup) can no longer be opened (crypto-shredding). The audit log keeps
 * only the pseudonym, as the law asks. secure_delete overwrites the freed pages.
 */
export function eraseSubject(tx: Tx, subjectId: string): { signals: number; notices: number; matches: number } {
  const { notices: removedNotices, matches: removedMatches } = eraseMatchRecords(tx, subjectId);
  // A young person's signals leave the families they were registered with; a family loses its links.
  tx.delete(signalFamilies)
    .where(inArray(signalFamilies.signalId, tx.select({ id: signals.id }).from(signals).where(eq(signals.subjectId, subjectId))))
    .run();
  tx.delete(signalFamilies).where(eq(signalFamilies.familyId, subjectId)).run();
  const removedSignals = tx.delete(signals).where(eq(signals.subjectId, subjectId)).run().changes;
  tx.delete(subjects).where(eq(subjects.id, subjectId)).run();
  return { signals: removedSignals, notices: removedNotices, matches: removedMatches };
}

/**
 * Removes a subject's matches (every line, with their events, case tables and recipients) and the
 * notices sealed under its key; returns how many notices and coordinator's matches went.
 */
export function eraseMatchRecords(tx: Tx, subjectId: string): { notices: number; matches: number } {
  const lines = tx.select({ id: matches.id, lens: matches.lens }).from(matches).where(eq(matches.subjectId, subjectId)).all();
  const matchIds = lines.map((m) => m.id);
  const removedNotices = tx.delete(notices).where(eq(notices.subjectId, subjectId)).run().changes;
  if (matchIds.length > 0) {
    tx.delete(matchEvents).where(inArray(matchEvents.matchId, matchIds)).run();
    tx.delete(caseTables).where(inArray(caseTables.matchId, matchIds)).run();
    tx.delete(matchRecipients).where(inArray(matchRecipients.matchId, matchIds)).run();
    tx.delete(matches).where(inArray(matches.id, matchIds)).run();
  }
  return { notices: removedNotices, matches: lines.filter((m) => m.lens === '').length };
}

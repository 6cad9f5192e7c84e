import { eq, inArray } from 'drizzle-orm';
import { exec, many, type Tx } from './db.ts';

/**
 * Removes every row about a subject, its wrapped data key last: whatever copy of the sealed data
 * survives elsewhere (a backup) can no longer be opened (crypto-shredding). The audit log keeps
 * only the pseudonym, as the law asks. secure_delete overwrites the freed pages.
 */
export async function eraseSubject(tx: Tx, subjectId: string): Promise<{ signals: number; notices: number; matches: number }> {
  const { signalFamilies, signals, subjects } = tx.t;
  const { notices: removedNotices, matches: removedMatches } = await eraseMatchRecords(tx, subjectId);
  // A young person's signals leave the families they were registered with; a family loses its links.
  await exec(
    tx,
    tx.db.delete(signalFamilies).where(inArray(signalFamilies.signalId, tx.db.select({ id: signals.id }).from(signals).where(eq(signals.subjectId, subjectId)))),
  );
  await exec(tx, tx.db.delete(signalFamilies).where(eq(signalFamilies.familyId, subjectId)));
  const removedSignals = await exec(tx, tx.db.delete(signals).where(eq(signals.subjectId, subjectId)));
  await exec(tx, tx.db.delete(subjects).where(eq(subjects.id, subjectId)));
  return { signals: removedSignals, notices: removedNotices, matches: removedMatches };
}

/**
 * Removes a subject's matches (every line, with their events, case tables and recipients) and the
 * notices sealed under its key; returns how many notices and coordinator's matches went.
 */
export async function eraseMatchRecords(tx: Tx, subjectId: string): Promise<{ notices: number; matches: number }> {
  const { caseTables, matches, matchEvents, matchRecipients, notices } = tx.t;
  const lines = await many(tx, tx.db.select({ id: matches.id, lens: matches.lens }).from(matches).where(eq(matches.subjectId, subjectId)));
  const matchIds = lines.map((m) => m.id);
  const removedNotices = await exec(tx, tx.db.delete(notices).where(eq(notices.subjectId, subjectId)));
  if (matchIds.length > 0) {
    await exec(tx, tx.db.delete(matchEvents).where(inArray(matchEvents.matchId, matchIds)));
    await exec(tx, tx.db.delete(caseTables).where(inArray(caseTables.matchId, matchIds)));
    await exec(tx, tx.db.delete(matchRecipients).where(inArray(matchRecipients.matchId, matchIds)));
    await exec(tx, tx.db.delete(matches).where(inArray(matches.id, matchIds)));
  }
  return { notices: removedNotices, matches: lines.filter((m) => m.lens === '').length };
}

import { and, eq, gte, isNotNull, isNull, lt } from 'drizzle-orm';
import { FULL_LENS } from '../policy/lens.ts';
import { many, type Tx } from './db.ts';

/** The rows the region's statistics count; every range is [start, end) on ISO timestamps. */

export interface RegisteredSignal {
  at: string;
  municipality: string;
  /** The registrant's agency type. */
  type: string;
}

export interface CreatedMatch {
  createdAt: string;
  municipality: string;
  claimBy: string;
  claimedAt: string | null;
  /** The coordinator's agency type; null while none is assigned. */
  type: string | null;
  kind: 'person' | 'family';
}

export interface HeldCaseTable {
  at: string | null;
  municipality: string;
  /** The coordinator's agency type; null while none is assigned. */
  type: string | null;
}

/** The signals registered in the range, with their municipality and registrant's type. */
export async function signalsRegisteredBetween(tx: Tx, start: string, end: string): Promise<RegisteredSignal[]> {
  const { agencies, signals } = tx.t;
  return many(
    tx,
    tx.db
    .select({ at: signals.registeredAt, municipality: signals.municipality, type: agencies.type })
    .from(signals)
    .innerJoin(agencies, eq(agencies.id, signals.agencyId))
    .where(and(gte(signals.registeredAt, start), lt(signals.registeredAt, end))),
  );
}

/** The matches (of the full lens: the coordinator's line) created in the range, young people's and families'. */
export async function matchesCreatedBetween(tx: Tx, start: string, end: string): Promise<CreatedMatch[]> {
  const { agencies, matches, subjects } = tx.t;
  return many(
    tx,
    tx.db
    .select({ createdAt: matches.createdAt, municipality: matches.municipality, claimBy: matches.claimBy, claimedAt: matches.claimedAt, type: agencies.type, kind: subjects.kind })
    .from(matches)
    .innerJoin(subjects, eq(subjects.id, matches.subjectId))
    .leftJoin(agencies, eq(agencies.id, matches.coordinatorId))
    .where(and(eq(matches.lens, FULL_LENS), gte(matches.createdAt, start), lt(matches.createdAt, end))),
  );
}

/** The case tables the coordinators convened (not the copies narrower lenses see) that were held, with their outcome in the range. */
export async function caseTablesHeldBetween(tx: Tx, start: string, end: string): Promise<HeldCaseTable[]> {
  const { agencies, caseTables, matches } = tx.t;
  return many(
    tx,
    tx.db
    .select({ at: caseTables.outcomeAt, municipality: matches.municipality, type: agencies.type })
    .from(caseTables)
    .innerJoin(matches, eq(matches.id, caseTables.matchId))
    .leftJoin(agencies, eq(agencies.id, matches.coordinatorId))
    .where(and(isNull(caseTables.rootId), eq(caseTables.held, true), isNotNull(caseTables.outcomeAt), gte(caseTables.outcomeAt, start), lt(caseTables.outcomeAt, end))),
  );
}

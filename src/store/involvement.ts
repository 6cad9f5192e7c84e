import { and, asc, desc, eq, gte, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { AgencyType } from '../policy/types.ts';
import { first, many, preparedQuery, type Tx } from './db.ts';

/**
 * Who is involved with a subject: a young person's or a family's signals with their agencies, the
 * families a young person's signals name, the coordinators a municipality has, and the signals the
 * coordination reminders look at.
 */

import type { SignalRow } from './signals.ts';

export type { SignalRow };
export interface AgencyRef {
  id: string;
  name: string;
  type: AgencyType;
}
export interface InvolvedSignal {
  signal: SignalRow;
  agency: AgencyRef;
}
export interface CoordinatorCandidate {
  agencyId: string;
  agencyType: AgencyType;
  municipality: string;
  districts: string[];
}
/** A young person's (`person`) or a family's (`family`) subject. */
export type SubjectOf = { subjectId: string; kind?: 'person' | 'family' };

/**
 * A young person's signals with their agencies, or a family's (those whose registration named its
 * parent): the active ones, and those active at an instant; newest first.
 */
function signalQueries(of: 'person' | 'family') {
  const select = ({ db, t: { agencies, signalFamilies, signals } }: Tx) => {
    const q = db.select({ signal: signals, agency: { id: agencies.id, name: agencies.name, type: agencies.type } });
    const from = of === 'family' ? q.from(signalFamilies).innerJoin(signals, eq(signals.id, signalFamilies.signalId)).$dynamic() : q.from(signals).$dynamic();
    return from.innerJoin(agencies, eq(agencies.id, signals.agencyId));
  };
  const ownerOf = ({ t: { signalFamilies, signals } }: Tx) => (of === 'family' ? signalFamilies.familyId : signals.subjectId);
  return {
    active: preparedQuery((tx) => {
      const { agencies, signals } = tx.t;
      return (
        select(tx)
          // A disabled agency's signals are suspended: they do not count until it is enabled again.
          .where(and(eq(ownerOf(tx), sql.placeholder('subjectId')), eq(signals.status, 'active'), eq(agencies.status, 'active')))
          .orderBy(desc(signals.registeredAt), desc(signals.id))
      );
    }),
    activeAt: preparedQuery((tx) => {
      const { signals } = tx.t;
      return select(tx)
        .where(
          and(
            eq(ownerOf(tx), sql.placeholder('subjectId')),
            lte(signals.registeredAt, sql.placeholder('at')),
            or(isNull(signals.endedAt), gte(signals.endedAt, sql.placeholder('at'))),
          ),
        )
        .orderBy(desc(signals.registeredAt), desc(signals.id));
    }),
  };
}
const SIGNALS_OF = { person: signalQueries('person'), family: signalQueries('family') };
const familiesOfSubject = preparedQuery(({ db, t: { signalFamilies, signals } }) =>
  db
    .selectDistinct({ familyId: signalFamilies.familyId })
    .from(signalFamilies)
    .innerJoin(signals, eq(signals.id, signalFamilies.signalId))
    .where(eq(signals.subjectId, sql.placeholder('subjectId')))
    .orderBy(asc(signalFamilies.familyId)),
);
const childrenOfFamily = preparedQuery(({ db, t: { signalFamilies, signals } }) =>
  db
    .selectDistinct({ subjectId: signals.subjectId })
    .from(signalFamilies)
    .innerJoin(signals, eq(signals.id, signalFamilies.signalId))
    .where(and(eq(signalFamilies.familyId, sql.placeholder('familyId')), eq(signals.status, 'active')))
    .orderBy(asc(signals.subjectId)),
);
const coordinatorsIn = preparedQuery(({ db, t: { agencies } }) =>
  db
    .select({ agencyId: agencies.id, agencyType: agencies.type, municipality: agencies.municipality, districts: agencies.districts })
    .from(agencies)
    .where(and(eq(agencies.municipality, sql.placeholder('municipality')), eq(agencies.status, 'active'), inArray(agencies.type, ['wij', 'municipality']))),
);
const agencyById = preparedQuery(({ db, t: { agencies } }) =>
  db.select({ id: agencies.id, name: agencies.name, type: agencies.type }).from(agencies).where(eq(agencies.id, sql.placeholder('id'))),
);

function toInvolved(r: { signal: SignalRow; agency: { id: string; name: string; type: string } }): InvolvedSignal {
  return { signal: r.signal, agency: { ...r.agency, type: r.agency.type as AgencyType } };
}

/** The subject's (or the family's) active signals with their agencies, newest first. */
export async function activeSignalsOf(tx: Tx, subject: SubjectOf): Promise<InvolvedSignal[]> {
  return (await SIGNALS_OF[subject.kind ?? 'person'].active(tx).many({ subjectId: subject.subjectId })).map(toInvolved);
}

/** The subject's (or the family's) signals that were active at the instant `at`, newest first. */
export async function signalsActiveAt(tx: Tx, subject: SubjectOf, at: string): Promise<InvolvedSignal[]> {
  return (await SIGNALS_OF[subject.kind ?? 'person'].activeAt(tx).many({ subjectId: subject.subjectId, at })).map(toInvolved);
}

/** The families the young person's signals were registered with (by a parent named). */
export async function familiesOfSubjectSignals(tx: Tx, subjectId: string): Promise<string[]> {
  return (await familiesOfSubject(tx).many({ subjectId })).map((f) => f.familyId);
}

/** The young people with an active signal that named the family's parent. */
export async function childrenWithActiveSignals(tx: Tx, familyId: string): Promise<string[]> {
  return (await childrenOfFamily(tx).many({ familyId })).map((c) => c.subjectId);
}

/** The active WIJ teams and municipality agencies of a municipality, with the districts they serve. */
export async function coordinatorCandidatesIn(tx: Tx, municipality: string): Promise<CoordinatorCandidate[]> {
  return (await coordinatorsIn(tx).many({ municipality })).map((c) => ({ ...c, agencyType: c.agencyType as AgencyType }));
}

/** An agency's id, name and type; undefined when there is no such agency. */
export async function agencyRefById(tx: Tx, id: string): Promise<AgencyRef | undefined> {
  const a = await agencyById(tx).first({ id });
  return a && { ...a, type: a.type as AgencyType };
}

/** The active signals registered by `registeredBefore` whose registrant has yet to inform. */
export async function informingPendingSignalIds(tx: Tx, registeredBefore: string): Promise<Array<{ id: string }>> {
  const { signals } = tx.t;
  return many(
    tx,
    tx.db
    .select({ id: signals.id })
    .from(signals)
    .where(and(eq(signals.status, 'active'), eq(signals.informingPending, true), lte(signals.registeredAt, registeredBefore))),
  );
}

/** The signal, if its registrant has still to inform. */
export async function informingPendingSignal(tx: Tx, id: string): Promise<SignalRow | undefined> {
  const { signals } = tx.t;
  return first(tx, tx.db.select().from(signals).where(and(eq(signals.id, id), eq(signals.informingPending, true))));
}

/** The young person's earliest registered signal that is active and not ended. */
export async function oldestActiveSignalOf(tx: Tx, subjectId: string): Promise<SignalRow | undefined> {
  const { signals } = tx.t;
  return first(
    tx,
    tx.db
    .select()
    .from(signals)
    .where(and(eq(signals.subjectId, subjectId), eq(signals.status, 'active'), isNull(signals.endedAt)))
    .orderBy(asc(signals.registeredAt)),
  );
}

/**
 * Unique rules that decide between transactions doing the same thing at once, and how a broken one
 * is recognised on either store.
 *
 * On SQLite one writer runs the transactions one after another, with their reads inside them, so
 * the second of two requests with one Idempotency-Key reads the first one's answer and replays it.
 * On PostgreSQL, with a pool or several instances, both can read "nothing yet" and both write: the
 * database then refuses the second write with a unique violation, after the first has committed.
 * Such a transaction lost a race, not an argument, and running it again gives the answer SQLite
 * gives (a replay, 409 idempotency_key_reused, 200 with the existing signal, a refused assertion);
 * pg-store.ts does that. Any other unique violation (a broken audit chain append, a bug) is thrown.
 */

/** A unique rule: its name on PostgreSQL (the constraint or unique index), its table and columns. */
interface UniqueRule {
  name: string;
  table: string;
  columns: readonly string[];
}

/**
 * The rules whose violation means that another transaction did the same first and committed: the
 * use case reads that when it runs again. Named as in schema/tables.pg.ts; SQLite names the columns.
 */
export const RACE_DECIDING_RULES: readonly UniqueRule[] = [
  // One answer per agency's Idempotency-Key (registrations, case tables).
  { name: 'idempotency_keys_agency_id_key_pk', table: 'idempotency_keys', columns: ['agency_id', 'key'] },
  // A client assertion gives one token.
  { name: 'used_assertions_agency_id_jti_pk', table: 'used_assertions', columns: ['agency_id', 'jti'] },
  // One active signal per agency and young person.
  { name: 'signals_one_active_per_agency', table: 'signals', columns: ['agency_id', 'subject_id'] },
  // One subject per pseudonym, one live match per subject and lens.
  { name: 'subjects_kind_pseudonym', table: 'subjects', columns: ['kind', 'pseudonym'] },
  { name: 'matches_one_live_per_subject_lens', table: 'matches', columns: ['subject_id', 'lens'] },
  // One professional per agency and e-mail address (the console's invitation).
  { name: 'professionals_agency_email', table: 'professionals', columns: ['agency_id', 'email'] },
];

const SQLITE_UNIQUE = /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/;
const SQLITE_COLUMNS = /^UNIQUE constraint failed: (.+)$/;

/**
 * The unique rule an error broke, by PostgreSQL's name for it, on either store: PostgreSQL's
 * 23505 carries the constraint's name; SQLite's SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY names the
 * table and columns, which give the name of a rule above (or `table(columns)` for another). Looks
 * through drizzle's wrapping; never reads the values, which PostgreSQL puts in the error's detail.
 */
export function uniqueViolation(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown };
    if (code === '23505') return typeof constraint === 'string' ? constraint : 'unknown';
    if (typeof code === 'string' && SQLITE_UNIQUE.test(code)) {
      const columns = SQLITE_COLUMNS.exec(e.message)?.[1]?.split(', ') ?? [];
      const table = columns[0]?.split('.')[0] ?? 'unknown';
      const names = columns.map((c) => c.slice(c.indexOf('.') + 1));
      const rule = RACE_DECIDING_RULES.find((r) => r.table === table && r.columns.join() === names.join());
      return rule?.name ?? `${table}(${names.join(', ')})`;
    }
  }
  return undefined;
}

/** Whether the error is a race-deciding rule's violation: the transaction may run again and read the winner. */
export function lostRace(err: unknown): boolean {
  const name = uniqueViolation(err);
  return name !== undefined && RACE_DECIDING_RULES.some((r) => r.name === name);
}

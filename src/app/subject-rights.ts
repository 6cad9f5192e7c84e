import { and, asc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { agencies, auditLog, matches, signals, subjects } from '../../schema/tables.ts';
import { isValidBsn } from '../crypto/bsn.ts';
import { AGENCY_TYPES, type AgencyType } from '../policy/types.ts';
import { appendAudit } from '../store/audit.ts';
import { inTransaction, type Tx } from '../store/db.ts';
import { eraseSubject } from '../store/erase.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { type Ctx, requireScope } from './context.ts';
import { notFound, unprocessable } from './errors.ts';
import { openSignal } from './signal-record.ts';
import { informedSchema } from './signal-schemas.ts';

/** Subject rights (DESIGN rule 7, API.md): what a young person or parent may ask of the index. */

export const accessRequestSchema = z.strictObject({ bsn: z.string() }).meta({ id: 'SubjectAccessRequest' });
export const erasureRequestSchema = z
  .strictObject({ bsn: z.string(), reason: z.enum(['registered_in_error', 'court_order', 'other']) })
  .meta({ id: 'SubjectErasureRequest' });

const agencyBrief = z.object({ name: z.string(), type: z.enum(AGENCY_TYPES) });

export const accessReportSchema = z
  .object({
    registrations: z.array(
      z.object({
        agency: agencyBrief,
        kind: z.string(),
        status: z.enum(['active', 'ended']),
        registeredAt: z.iso.datetime(),
        expiresAt: z.iso.datetime(),
        endedAt: z.iso.datetime().nullable(),
        endReason: z.string().nullable(),
        informed: informedSchema,
      }),
    ),
    matches: z.array(
      z.object({ status: z.string(), createdAt: z.iso.datetime(), endedAt: z.iso.datetime().nullable(), coordinator: agencyBrief.nullable() }),
    ),
    accesses: z.array(z.object({ at: z.iso.datetime(), agency: agencyBrief.nullable(), action: z.string(), outcome: z.string() })),
    withheld: z.array(z.string()).meta({
      description: 'Rule ids of the shielding that left something out of this report (for the privacy officer, not the family).',
    }),
  })
  .meta({ id: 'SubjectAccessReport' });
export type AccessReport = z.infer<typeof accessReportSchema>;

export const erasureResultSchema = z
  .object({ erased: z.boolean(), signals: z.number().int(), notices: z.number().int(), matches: z.number().int() })
  .meta({ id: 'SubjectErasureResult' });

function pseudonymOf(ctx: Ctx, bsn: string): string {
  if (!isValidBsn(bsn)) throw unprocessable('invalid_bsn', 'the BSN is not valid (11-test)');
  return ctx.deps.keys.pseudonymize(bsn);
}

function briefs(tx: Tx, ids: string[]): Map<string, { name: string; type: AgencyType }> {
  if (ids.length === 0) return new Map();
  return new Map(
    tx.select({ id: agencies.id, name: agencies.name, type: agencies.type }).from(agencies).where(inArray(agencies.id, [...new Set(ids)])).all()
      .map((a) => [a.id, { name: a.name, type: a.type as AgencyType }]),
  );
}

/**
 * Which agencies registered the young person, the matches and their coordinators, and who looked
 * at the data; minus what the policy shields while the shielding applies (an active signal of a
 * shielded type, such as Veilig Thuis, and that agency's accesses).
 */
export function subjectAccess({ ctx, bsn }: { ctx: Ctx; bsn: string }): AccessReport {
  requireScope(ctx, 'subjects:rights');
  const pseudonym = pseudonymOf(ctx, bsn);
  return inTransaction(ctx.deps.db, (tx) => {
    const subject = tx.select({ id: subjects.id }).from(subjects).where(eq(subjects.pseudonym, pseudonym)).get();
    const rows = subject ? tx.select().from(signals).where(eq(signals.subjectId, subject.id)).orderBy(asc(signals.registeredAt), asc(signals.id)).all() : [];
    const dataKey = subject && rows.length > 0 ? loadSubjectKey(tx, ctx.deps.keys, subject.id).dataKey : null;
    const matchRows = subject ? tx.select().from(matches).where(and(eq(matches.subjectId, subject.id), eq(matches.lens, ''))).orderBy(asc(matches.createdAt)).all() : [];
    const accessRows = tx.select().from(auditLog).where(eq(auditLog.subject, pseudonym)).orderBy(asc(auditLog.seq)).all();
    const names = briefs(tx, [...rows.map((r) => r.agencyId), ...matchRows.flatMap((m) => (m.coordinatorId ? [m.coordinatorId] : [])), ...accessRows.flatMap((a) => (a.agencyId ? [a.agencyId] : []))]);

    const shielded = new Set<string>();
    const withheld = new Set<string>();
    for (const rule of ctx.deps.policy.shielding) {
      for (const r of rows) {
        if (r.status === 'active' && rule.types.includes(names.get(r.agencyId)!.type)) {
          shielded.add(r.agencyId);
          withheld.add(rule.rule);
        }
      }
    }
    appendAudit(tx, {
      at: ctx.deps.clock.now().toISOString(),
      agencyId: ctx.actor.agencyId,
      actor: ctx.actor.professional,
      action: 'subject.access_request',
      subject: pseudonym,
      resource: null,
      outcome: withheld.size ? 'answered, shielded parts withheld' : 'answered',
      requestId: ctx.requestId,
    });
    return {
      registrations: rows
        .filter((r) => !shielded.has(r.agencyId))
        .map((r) => ({ row: r, sealed: openSignal(dataKey!, r) }))
        .map(({ row: r, sealed }) => ({
          agency: names.get(r.agencyId)!,
          kind: sealed.kind,
          status: r.status,
          registeredAt: r.registeredAt,
          expiresAt: r.expiresAt,
          endedAt: r.endedAt,
          endReason: r.endReason,
          informed: sealed.informed,
        })),
      matches: matchRows.map((m) => ({
        status: m.status,
        createdAt: m.createdAt,
        endedAt: m.endedAt,
        coordinator: m.coordinatorId ? names.get(m.coordinatorId) ?? null : null,
      })),
      accesses: accessRows
        .filter((a) => !(a.agencyId && shielded.has(a.agencyId)))
        .map((a) => ({ at: a.at, agency: a.agencyId ? names.get(a.agencyId) ?? null : null, action: a.action, outcome: a.outcome })),
      withheld: [...withheld],
    };
  });
}

/** Crypto-shreds everything about the subject (registered in error, or by order); audited. */
export function subjectErasure({ ctx, bsn, reason }: { ctx: Ctx; bsn: string; reason: string }): z.infer<typeof erasureResultSchema> {
  requireScope(ctx, 'subjects:rights');
  const pseudonym = pseudonymOf(ctx, bsn);
  return inTransaction(ctx.deps.db, (tx) => {
    const subject = tx.select({ id: subjects.id }).from(subjects).where(and(eq(subjects.pseudonym, pseudonym))).get();
    if (!subject) throw notFound('subject_not_found', 'nothing is registered for this young person');
    const removed = eraseSubject(tx, subject.id);
    appendAudit(tx, {
      at: ctx.deps.clock.now().toISOString(),
      agencyId: ctx.actor.agencyId,
      actor: ctx.actor.professional,
      action: 'subject.erase',
      subject: pseudonym,
      resource: null,
      outcome: reason,
      requestId: ctx.requestId,
    });
    return { erased: true, ...removed };
  });
}

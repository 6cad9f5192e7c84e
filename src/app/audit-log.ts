import { z } from 'zod';
import { appendAudit, auditRecords } from '../store/audit.ts';
import { type Ctx, requireScope, withTransaction } from './context.ts';
import { openAuditDetail } from './subject-rights.ts';

export const auditRecordSchema = z
  .object({
    seq: z.number().int(),
    at: z.iso.datetime(),
    agencyId: z.string().nullable(),
    actor: z.string().nullable().meta({
      description: 'Who acted: the professional the agency named (an opaque reference), `operator` for the command line, or `system:<job>` for a periodic job (retention, escalation, reminders; its `agencyId` is null). Null when no one is named.',
    }),
    action: z.string(),
    subject: z.string().nullable().meta({ description: 'The keyed pseudonym of the young person, never a BSN.' }),
    resource: z.string().nullable(),
    outcome: z.string(),
    requestId: z.string().nullable(),
    hash: z.string(),
    prevHash: z.string(),
    detail: z.record(z.string(), z.unknown()).nullable().meta({
      description: 'The sealed detail of the record opened for the reader (what a subject request withheld and why); not part of the hash.',
    }),
  })
  .meta({ id: 'AuditRecord' });
export type AuditRecord = z.infer<typeof auditRecordSchema>;

export const auditListSchema = z.object({ items: z.array(auditRecordSchema), next: z.string().nullable() }).meta({ id: 'AuditList' });

export const listAuditQuerySchema = z.strictObject({
  agencyId: z.string().max(64).optional(),
  subject: z.string().regex(/^[0-9a-f]{64}$/, 'a pseudonym').optional(),
  action: z.string().max(64).optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  cursor: z.coerce.number().int().min(0).optional().meta({ description: 'The `next` of the previous page (a sequence number).' }),
  after: z.coerce.number().int().min(0).optional().meta({ description: 'Deprecated: the old name of `cursor`.', deprecated: true }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
}).refine((q) => q.cursor === undefined || q.after === undefined, { message: 'give cursor, not also after', path: ['after'] });
export type ListAuditQuery = z.infer<typeof listAuditQuerySchema>;

/** The audit log with filters (NEN 7513 fields); reading it is itself recorded. */
export async function listAudit({ ctx, query }: { ctx: Ctx; query: ListAuditQuery }): Promise<{ items: AuditRecord[]; next: string | null }> {
  requireScope(ctx, 'audit:read');
  const filter = {
    agencyId: query.agencyId,
    subject: query.subject,
    action: query.action,
    from: query.from && new Date(query.from).toISOString(),
    to: query.to && new Date(query.to).toISOString(),
    afterSeq: query.cursor ?? query.after,
  };
  return withTransaction(ctx.deps, async (tx) => {
    const rows = await auditRecords(tx, filter, query.limit + 1);
    const items = rows.slice(0, query.limit).map((r) => ({ ...r, detail: openAuditDetail(ctx.deps.keys, r) }));
    await appendAudit(tx, {
      at: ctx.deps.clock.now().toISOString(),
      agencyId: ctx.actor.agencyId,
      actor: ctx.actor.professional,
      action: 'audit.read',
      subject: query.subject ?? null,
      resource: null,
      outcome: `${items.length} records`,
      requestId: ctx.requestId,
    });
    return { items, next: rows.length > query.limit ? String(items.at(-1)!.seq) : null };
  });
}

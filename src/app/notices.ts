import { ackNotice, findOwnNotice, listInbox, openNoticeRow } from '../store/notices.ts';
import { loadSubjectKey, subjectKeys } from '../store/subjects.ts';
import { type AccessEntry, auditAccess } from './audit.ts';
import { type Ctx, requireScope, withTransaction } from './context.ts';
import { idCursor } from './cursor.ts';
import { notFound } from './errors.ts';
import type { ListNoticesQuery, NoticeView } from './notice-schemas.ts';

const NOTICE_ID = /^ntc_[0-9a-z]{26}$/;
const cursor = idCursor('ntc');

/**
 * The caller's inbox, oldest first. Every notice whose content is shown is audited.
 * `acknowledgedOnly` (the console's read notices, after the unread ones) is not an API parameter.
 */
export async function listNotices({ ctx, query, acknowledgedOnly = false }: { ctx: Ctx; query: ListNoticesQuery; acknowledgedOnly?: boolean }): Promise<{ items: NoticeView[]; next: string | null }> {
  requireScope(ctx, 'notices:read');
  const given = query.cursor ?? query.after;
  const after = given ? cursor.decode(given) : undefined;
  return withTransaction(ctx.deps, async (tx) => {
    const rows = await listInbox(tx, ctx.actor.agencyId, { ...(after ? { after } : {}), limit: query.limit + 1, unacknowledged: query.unacknowledged === 'true', acknowledged: acknowledgedOnly });
    const page = rows.slice(0, query.limit);
    const keyOf = subjectKeys(tx, ctx.deps.keys);
    const reads: AccessEntry[] = [];
    const items: NoticeView[] = [];
    for (const row of page) {
      const { body, pseudonym } = await openNoticeRow(tx, ctx.deps.keys, row, keyOf);
      reads.push({ action: 'notice.read', subject: pseudonym, resource: row.id, outcome: 'ok' });
      items.push({ ...body, acknowledgedAt: row.ackedAt });
    }
    await auditAccess(tx, ctx, ...reads);
    return { items, next: rows.length > query.limit ? cursor.encode(page.at(-1)!.id) : null };
  });
}

/** Marks one of the caller's notices as read; acknowledging twice changes nothing. */
export async function acknowledgeNotice({ ctx, id }: { ctx: Ctx; id: string }): Promise<void> {
  requireScope(ctx, 'notices:read');
  await withTransaction(ctx.deps, async (tx) => {
    const row = NOTICE_ID.test(id) ? await findOwnNotice(tx, ctx.actor.agencyId, id) : undefined;
    if (!row) throw notFound('notice_not_found', 'no such notice');
    const pseudonym = row.subjectId === null ? null : (await loadSubjectKey(tx, ctx.deps.keys, row.subjectId)).pseudonym;
    await ackNotice(tx, row.id, ctx.deps.clock.now().toISOString());
    await auditAccess(tx, ctx, { action: 'notice.ack', subject: pseudonym, resource: row.id, outcome: row.ackedAt ? 'already_acknowledged' : 'ok' });
  });
}

import { inTransaction } from '../store/db.ts';
import { ackNotice, findOwnNotice, listInbox, openNoticeRow } from '../store/notices.ts';
import { loadSubjectKey, subjectKeys } from '../store/subjects.ts';
import { type AccessEntry, auditAccess } from './audit.ts';
import { type Ctx, requireScope } from './context.ts';
import { idCursor } from './cursor.ts';
import { notFound } from './errors.ts';
import type { ListNoticesQuery, NoticeView } from './notice-schemas.ts';

const NOTICE_ID = /^ntc_[0-9a-z]{26}$/;
const cursor = idCursor('ntc');

/**
 * The caller's inbox, oldest first. Every notice whose content is shown is audited.
 * `acknowledgedOnly` (the console's read notices, after the unread ones) is not an API parameter.
 */
export function listNotices({ ctx, query, acknowledgedOnly = false }: { ctx: Ctx; query: ListNoticesQuery; acknowledgedOnly?: boolean }): { items: NoticeView[]; next: string | null } {
  requireScope(ctx, 'notices:read');
  const given = query.cursor ?? query.after;
  const after = given ? cursor.decode(given) : undefined;
  return inTransaction(ctx.deps.db, (tx) => {
    const rows = listInbox(tx, ctx.actor.agencyId, { ...(after ? { after } : {}), limit: query.limit + 1, unacknowledged: query.unacknowledged === 'true', acknowledged: acknowledgedOnly });
    const page = rows.slice(0, query.limit);
    const keyOf = subjectKeys(tx, ctx.deps.keys);
    const reads: AccessEntry[] = [];
    const items = page.map((row): NoticeView => {
      const { body, pseudonym } = openNoticeRow(tx, ctx.deps.keys, row, keyOf);
      reads.push({ action: 'notice.read', subject: pseudonym, resource: row.id, outcome: 'ok' });
      return { ...body, acknowledgedAt: row.ackedAt };
    });
    auditAccess(tx, ctx, ...reads);
    return { items, next: rows.length > query.limit ? cursor.encode(page.at(-1)!.id) : null };
  });
}

/** Marks one of the caller's notices as read; acknowledging twice changes nothing. */
export function acknowledgeNotice({ ctx, id }: { ctx: Ctx; id: string }): void {
  requireScope(ctx, 'notices:read');
  inTransaction(ctx.deps.db, (tx) => {
    const row = NOTICE_ID.test(id) ? findOwnNotice(tx, ctx.actor.agencyId, id) : undefined;
    if (!row) throw notFound('notice_not_found', 'no such notice');
    const pseudonym = row.subjectId === null ? null : loadSubjectKey(tx, ctx.deps.keys, row.subjectId).pseudonym;
    ackNotice(tx, row.id, ctx.deps.clock.now().toISOString());
    auditAccess(tx, ctx, { action: 'notice.ack', subject: pseudonym, resource: row.id, outcome: row.ackedAt ? 'already_acknowledged' : 'ok' });
  });
}

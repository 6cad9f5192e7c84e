import { inTransaction } from '../store/db.ts';
import { ownSignalsPage } from '../store/signals.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { auditAccess } from './audit.ts';
import { type Ctx, requireScope } from './context.ts';
import { idCursor } from './cursor.ts';
import { loadOwnSignal, openSignal, toSignalView } from './signal-record.ts';
import type { ListSignalsQuery, SignalView } from './signal-schemas.ts';

const cursor = idCursor('sig');

/** The caller's own signals, oldest first, a page at a time. Each subject whose data is shown is audited. */
export function listSignals({ ctx, query }: { ctx: Ctx; query: ListSignalsQuery }): { items: SignalView[]; next: string | null } {
  requireScope(ctx, 'signals:read');
  const afterId = query.cursor ? cursor.decode(query.cursor) : undefined;

  return inTransaction(ctx.deps.db, (tx) => {
    const rows = ownSignalsPage(tx, ctx.actor.agencyId, { status: query.status, afterId, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const items = page.map((row) => {
      const { dataKey, pseudonym } = loadSubjectKey(tx, ctx.deps.keys, row.subjectId);
      auditAccess(tx, ctx, { action: 'signal.read', subject: pseudonym, resource: row.id, outcome: 'ok' });
      return toSignalView(row, openSignal(dataKey, row));
    });
    return { items, next: rows.length > query.limit ? cursor.encode(page.at(-1)!.id) : null };
  });
}

export function getSignal({ ctx, id }: { ctx: Ctx; id: string }): SignalView {
  requireScope(ctx, 'signals:read');
  return inTransaction(ctx.deps.db, (tx) => {
    const { row, sealed, pseudonym } = loadOwnSignal(tx, ctx, id);
    auditAccess(tx, ctx, { action: 'signal.read', subject: pseudonym, resource: row.id, outcome: 'ok' });
    return toSignalView(row, sealed);
  });
}

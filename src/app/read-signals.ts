import { ownSignalsPage } from '../store/signals.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { auditAccess } from './audit.ts';
import { type Ctx, requireScope, withTransaction } from './context.ts';
import { idCursor } from './cursor.ts';
import { loadOwnSignal, openSignal, toSignalView } from './signal-record.ts';
import type { ListSignalsQuery, SignalView } from './signal-schemas.ts';

const cursor = idCursor('sig');

/** The caller's own signals, oldest first, a page at a time. Each subject whose data is shown is audited. */
export async function listSignals({ ctx, query }: { ctx: Ctx; query: ListSignalsQuery }): Promise<{ items: SignalView[]; next: string | null }> {
  requireScope(ctx, 'signals:read');
  const afterId = query.cursor ? cursor.decode(query.cursor) : undefined;

  return withTransaction(ctx.deps, async (tx) => {
    const rows = await ownSignalsPage(tx, ctx.actor.agencyId, { status: query.status, afterId, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const items: SignalView[] = [];
    for (const row of page) {
      const { dataKey, pseudonym } = await loadSubjectKey(tx, ctx.deps.keys, row.subjectId);
      await auditAccess(tx, ctx, { action: 'signal.read', subject: pseudonym, resource: row.id, outcome: 'ok' });
      items.push(toSignalView(row, openSignal(dataKey, row)));
    }
    return { items, next: rows.length > query.limit ? cursor.encode(page.at(-1)!.id) : null };
  });
}

export async function getSignal({ ctx, id }: { ctx: Ctx; id: string }): Promise<SignalView> {
  requireScope(ctx, 'signals:read');
  return withTransaction(ctx.deps, async (tx) => {
    const { row, sealed, pseudonym } = await loadOwnSignal(tx, ctx, id);
    await auditAccess(tx, ctx, { action: 'signal.read', subject: pseudonym, resource: row.id, outcome: 'ok' });
    return toSignalView(row, sealed);
  });
}

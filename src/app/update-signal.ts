import { endSignal, resealSignal } from '../store/signals.ts';
import { auditAccess } from './audit.ts';
import { reconcileMatch } from './matching.ts';
import { type Ctx, requireScope, withTransaction } from './context.ts';
import { conflict } from './errors.ts';
import { rememberExemption } from './shielding.ts';
import { loadOwnSignal, sealSignal, toSignalView } from './signal-record.ts';
import type { SignalView, UpdateSignalInput, WithdrawSignalInput } from './signal-schemas.ts';

/** Updates the informing state, the professional or the reference of an active own signal. */
export async function updateSignal({ ctx, id, input }: { ctx: Ctx; id: string; input: UpdateSignalInput }): Promise<SignalView> {
  requireScope(ctx, 'signals:write');
  const now = ctx.deps.clock.now().toISOString();
  return withTransaction(ctx.deps, async (tx) => {
    const { row, sealed, dataKey, pseudonym } = await loadOwnSignal(tx, ctx, id);
    if (row.status !== 'active') throw conflict('signal_not_active', 'an ended signal cannot be changed');
    const nextSealed = {
      ...sealed,
      informed: input.informed ?? sealed.informed,
      professional: input.professional ?? sealed.professional,
      reference: input.reference === undefined ? sealed.reference : input.reference,
    };
    const changes = {
      informingPending: nextSealed.informed.status === 'pending',
      updatedAt: now,
      sealed: sealSignal(dataKey, row.id, nextSealed),
    };
    await resealSignal(tx, row.id, changes);
    if (input.informed) await rememberExemption(tx, ctx.deps.keys, { pseudonym, agencyId: row.agencyId }, input.informed);
    await auditAccess(tx, ctx, { action: 'signal.update', subject: pseudonym, resource: row.id, outcome: 'ok' });
    return toSignalView({ ...row, ...changes }, nextSealed);
  });
}

/**
 * Ends an own signal (rule 5). Withdrawing one that has already ended changes nothing and
 * answers its current state, so a retried request is harmless.
 */
export async function withdrawSignal({ ctx, id, input }: { ctx: Ctx; id: string; input: WithdrawSignalInput }): Promise<SignalView> {
  requireScope(ctx, 'signals:write');
  const now = ctx.deps.clock.now().toISOString();
  return withTransaction(ctx.deps, async (tx) => {
    const { row, sealed, pseudonym, dataKey } = await loadOwnSignal(tx, ctx, id);
    if (row.status !== 'active') {
      await auditAccess(tx, ctx, { action: 'signal.withdraw', subject: pseudonym, resource: row.id, outcome: 'already_ended' });
      return toSignalView(row, sealed);
    }
    const changes = { status: 'ended' as const, endedAt: now, endReason: input.reason, updatedAt: now };
    await endSignal(tx, row.id, changes);
    await auditAccess(tx, ctx, { action: 'signal.withdraw', subject: pseudonym, resource: row.id, outcome: 'ok' });
    await reconcileMatch(tx, ctx.deps, { subjectId: row.subjectId, dataKey, pseudonym }, ctx.requestId);
    return toSignalView({ ...row, ...changes }, sealed);
  });
}

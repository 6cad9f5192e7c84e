import { appendAudit } from '../store/audit.ts';
import type { Tx } from '../store/db.ts';
import { type Actor, auditedActor, type Ctx } from './context.ts';

export interface AccessEntry {
  action: string;
  subject: string | null;
  resource: string | null;
  outcome: string;
}

/** Records, in the caller's transaction, that the actor (an agency's, or a job's) did each `action` on a subject's data. */
export async function auditAccess(tx: Tx, ctx: Ctx<Actor>, ...entries: AccessEntry[]): Promise<void> {
  const at = ctx.deps.clock.now().toISOString();
  await appendAudit(tx, ...entries.map((entry) => ({ at, ...auditedActor(ctx.actor), requestId: ctx.requestId, ...entry })));
}

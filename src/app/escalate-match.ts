import { escalationTarget } from '../policy/decide.ts';
import type { Lens } from '../policy/lens.ts';
import { openMatchById, recordMatchEvent, saveMatch } from '../store/matches.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { auditAccess } from './audit.ts';
import { type Actor, type Ctx, requireJob, withTransaction } from './context.ts';
import { coordinatorCandidates, type MatchRow, MatchState } from './matching.ts';

/**
 * Escalation (the escalation job's verb): an open match whose claim deadline has passed goes to the
 * agency policy/decide chooses (the municipality's own), which sees it in its match list; the
 * coordinator hears of it too. Every lens's line escalates on its own clock, as it would in a
 * world without the parties that lens leaves out. Answers the line it escalated, or null when the
 * match was claimed, ended or given more time meanwhile.
 */
export async function escalateMatch({ ctx, id }: { ctx: Ctx<Actor>; id: string }): Promise<{ lens: Lens } | null> {
  requireJob(ctx, 'escalation');
  const { deps } = ctx;
  const now = deps.clock.now().toISOString();
  return withTransaction(deps, async (tx) => {
    const match = await openMatchById(tx, id);
    if (!match || match.claimBy > now) return null;
    const escalatedTo = escalationTarget({ municipality: match.municipality, coordinatorId: match.coordinatorId, candidates: await coordinatorCandidates(tx, match.municipality) });
    const escalated: MatchRow = { ...match, status: 'escalated', escalatedTo, escalatedAt: now, updatedAt: now };
    await saveMatch(tx, escalated);
    await recordMatchEvent(tx, match.id, now, 'escalated', escalatedTo);
    const subject = await loadSubjectKey(tx, deps.keys, match.subjectId);
    // The act is recorded before the notices it causes.
    await auditAccess(tx, ctx, { action: 'match.escalate', subject: subject.pseudonym, resource: match.id, outcome: 'ok' });
    const state = await MatchState.create(tx, deps, subject, escalated);
    await state.notifyCoordinators('match.escalated', { requestId: ctx.requestId });
    return { lens: match.lens };
  });
}

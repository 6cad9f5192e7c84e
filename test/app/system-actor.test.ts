import { beforeEach, describe, expect, it } from 'vitest';
import { type Actor, type Ctx, type JobName, systemCtx } from '../../src/app/context.ts';
import { listMatches } from '../../src/app/coordination.ts';
import { DomainError } from '../../src/app/errors.ts';
import { escalateMatch } from '../../src/app/escalate-match.ts';
import { registerSignal } from '../../src/app/register-signal.ts';
import { noticeTurning18, remindCaseTableDue, remindInformingOverdue } from '../../src/app/reminders.ts';
import { destroyFamiliesWithoutSignals, destroySubjects, endExpiredSignals, noticeExpiring } from '../../src/app/retention.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { verifyAuditChain } from '../../src/store/audit.ts';
import { signalBody, validBsn } from '../support/harness.ts';
import { World } from '../support/world.ts';

let w: World;
beforeEach(async () => {
  w = await World.create();
});

interface AuditRow {
  agency_id: string | null;
  actor: string | null;
  action: string;
  subject: string | null;
  resource: string | null;
}
const audit = () => w.h.rows<AuditRow>('select agency_id, actor, action, subject, resource from audit_log order by seq');
const refusal = async (p: Promise<unknown>) => p.then(() => null, (err: unknown) => (err instanceof DomainError ? `${err.kind} ${err.code}` : String(err)));

/** A match of a school and a GP whose claim deadline has passed, the school's informing still pending. */
async function overdueMatch(): Promise<{ matchId: string; signalId: string; subjectId: string }> {
  await w.register('school', 1, { informed: { status: 'pending' }, birthDate: '2008-06-01' });
  await w.step('+gp');
  w.h.clock.advanceDays(30);
  const match = (await w.h.row<{ id: string; subject_id: string }>('select id, subject_id from matches where lens = ?', ''))!;
  const signal = (await w.h.row<{ id: string }>('select id from signals where agency_id = ?', w.agencies.get('school')!.id))!;
  return { matchId: match.id, signalId: signal.id, subjectId: match.subject_id };
}

/** Every verb of the jobs, with the job whose system actor alone may perform it. */
const VERBS: Array<[string, JobName, (ctx: Ctx<Actor>, ids: { matchId: string; signalId: string; subjectId: string }) => Promise<unknown>]> = [
  ['escalateMatch', 'escalation', (ctx, { matchId }) => escalateMatch({ ctx, id: matchId })],
  ['remindCaseTableDue', 'reminders', (ctx, { matchId }) => remindCaseTableDue({ ctx, matchId })],
  ['remindInformingOverdue', 'reminders', (ctx, { signalId }) => remindInformingOverdue({ ctx, signalId })],
  ['noticeTurning18', 'reminders', (ctx, { matchId }) => noticeTurning18({ ctx, matchId })],
  ['noticeExpiring', 'retention', (ctx, { signalId }) => noticeExpiring({ ctx, signalId })],
  ['endExpiredSignals', 'retention', (ctx) => endExpiredSignals({ ctx, dueBy: '2099-01-01T00:00:00.000Z', limit: 10 })],
  ['destroySubjects', 'retention', (ctx, { subjectId }) => destroySubjects({ ctx, subjects: [{ id: subjectId, pseudonym: 'x' }] })],
  ['destroyFamiliesWithoutSignals', 'retention', (ctx) => destroyFamiliesWithoutSignals({ ctx })],
];

describe('jobs are use cases run by a system actor', () => {
  it.each(VERBS)('%s refuses an agency, whatever its scopes, and the system actor of another job, and changes nothing', async (_, job, verb) => {
    const ids = await overdueMatch();
    const before = { audit: (await audit()).length, signals: await w.h.rows('select id, status from signals order by id'), matches: await w.h.rows('select id, status from matches order by id') };
    const muni = w.ctx('muni');
    const everything = { ...muni, actor: { ...muni.actor, scopes: new Set(['matches:coordinate', 'signals:write', 'signals:read', 'notices:read', 'subjects:rights', 'audit:read', 'stats:read', 'admin'] as const) } };
    expect(await refusal(verb(everything, ids))).toBe('forbidden system_actor_required');
    const other = (['retention', 'escalation', 'reminders'] as const).find((j) => j !== job)!;
    expect(await refusal(verb(systemCtx(w.h.deps, other), ids))).toBe('forbidden system_actor_required');
    expect((await audit()).length).toBe(before.audit);
    expect(await w.h.rows('select id, status from signals order by id')).toEqual(before.signals);
    expect(await w.h.rows('select id, status from matches order by id')).toEqual(before.matches);
    // Its own job's actor is let through.
    expect(await refusal(verb(systemCtx(w.h.deps, job), ids))).toBeNull();
  });

  it('a system actor may not perform an agency\'s verbs (the compiler refuses it too)', async () => {
    const ctx = systemCtx(w.h.deps, 'escalation') as unknown as Ctx;
    expect(await refusal(listMatches({ ctx, query: { limit: 10 } as never }))).toBe('forbidden insufficient_scope');
    expect(await refusal(registerSignal({ ctx, input: signalBody(validBsn(7)) as never }))).toBe('forbidden insufficient_scope');
    expect(await w.h.rows('select id from signals')).toEqual([]);
  });

  it('the audit log names the job as the actor, without an agency, and the chain verifies', async () => {
    const { matchId, signalId } = await overdueMatch();
    const pseudonym = (await w.h.row<{ subject: string }>("select subject from audit_log where action = 'signal.register'"))!.subject;
    await runJobs(w.h.deps, ['escalation', 'reminders']);
    const own = (await audit()).filter((r) => r.actor?.startsWith('system:'));
    // Every line of the match escalates (each lens's on its own clock), the coordinator's among them.
    const lines = (await w.h.rows<{ id: string }>('select id from matches')).map((m) => m.id);
    expect(lines).toContain(matchId);
    const escalated = own.filter((r) => r.action === 'match.escalate');
    expect(escalated.map((r) => r.resource).sort()).toEqual([...lines].sort());
    expect(own.slice(escalated.length)).toEqual([
      { agency_id: null, actor: 'system:reminders', action: 'signal.remind_informing', subject: pseudonym, resource: signalId },
      { agency_id: null, actor: 'system:reminders', action: 'subject.turning_18', subject: pseudonym, resource: matchId },
    ]);
    expect(escalated.every((r) => r.agency_id === null && r.actor === 'system:escalation' && r.subject === pseudonym)).toBe(true);
    // The notices they caused are recorded as disclosures to their recipients, as every notice is.
    expect((await audit()).filter((r) => r.action === 'notice.match.escalated').map((r) => [r.agency_id, r.actor])).toEqual([
      [w.agencies.get('wij')!.id, null],
      [w.agencies.get('muni')!.id, null],
    ]);

    const signals = (await w.h.rows<{ id: string }>('select id from signals')).map((r) => r.id).sort();
    w.h.clock.set('2028-02-01T09:30:00.000Z'); // 30 days before the signals expire
    await runJobs(w.h.deps, ['retention']);
    w.h.clock.set('2028-03-02T09:00:00.000Z');
    await runJobs(w.h.deps, ['retention']);
    w.h.clock.set('2033-03-03T09:00:00.000Z');
    await runJobs(w.h.deps, ['retention']);
    const retention = (await audit()).filter((r) => r.actor === 'system:retention');
    expect(retention.slice(0, 2).map((r) => r.resource).sort()).toEqual(signals);
    expect(retention.map((r) => [r.agency_id, r.action, r.subject])).toEqual([
      [null, 'signal.notice_expiring', pseudonym],
      [null, 'signal.notice_expiring', pseudonym],
      [null, 'signal.expire', pseudonym],
      [null, 'subject.destroy', pseudonym],
    ]);
    expect(await verifyAuditChain(w.h.deps.store.reader)).toMatchObject({ ok: true });
  });
});

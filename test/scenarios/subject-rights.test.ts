import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NoticeView } from '../../src/app/notice-schemas.ts';
import { registerSignal } from '../../src/app/register-signal.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { deliverDue } from '../../src/notify/delivery.ts';
import type { AccessReport } from '../../src/app/subject-rights.ts';
import { signalBody, type TestAgency, validBsn } from '../support/harness.ts';
import { Receiver } from '../support/receiver.ts';
import { World } from '../support/world.ts';

let w: World;
let token: string;
const ask = async (path: string, body: unknown) => w.h.call('POST', `/v1/subject-requests/${path}`, { token, body });
const access = async (subject = 1) => {
  const res = await ask('access', { bsn: validBsn(subject) });
  expect(res.status).toBe(200);
  return (await res.json()) as AccessReport;
};
const id = (label: string) => w.agencies.get(label)!.id;
const rows = <T>(sql: string, ...args: unknown[]) => w.h.rows<T>(sql, ...args);
const lines = (r: AccessReport) => r.accesses.map((a) => `${a.agency.name} ${a.action}`);

beforeEach(async () => {
  w = await World.create();
  token = await w.h.token(w.agencies.get('muni')!);
});
// Each test's world closed after it (on PostgreSQL its database dropped), not all at the file's end.
afterEach(async () => w.h.close());

async function operatorToken(): Promise<string> {
  const op: TestAgency = await w.h.agency('operator', { name: 'operator' });
  return w.h.token(op);
}

describe('subject access request', () => {
  it('lists registrations, matches, coordinators and accesses', async () => {
    await w.register('school', 1, { informed: { status: 'exempt', exemption: 'unreachable' } });
    await w.step('+gp');
    await w.inbox('school'); // the school reads its notice
    const report = await access();
    expect(report.registrations.map((r) => [r.agency.name, r.agency.type, r.status])).toEqual([
      ['school', 'school', 'active'],
      ['gp', 'gp', 'active'],
    ]);
    expect(report.registrations[0]!.informed).toEqual({ status: 'exempt', exemption: 'unreachable' });
    expect(report.matches).toEqual([expect.objectContaining({ status: 'open', endedAt: null, coordinator: { name: 'wij', type: 'wij' } })]);
    expect(lines(report)).toEqual(expect.arrayContaining(['school signal.register', 'gp signal.register', 'school notice.sent', 'gp notice.sent', 'wij notice.sent']));
    expect(report).not.toHaveProperty('withheld');
    expect(JSON.stringify(report)).not.toContain(validBsn(1));
  });

  it('shows no open match that exists only through Veilig Thuis, nor its coordinator or anything of Veilig Thuis', async () => {
    await w.step('+school');
    await w.step('+vt'); // a real match: school and Veilig Thuis, coordinated by the WIJ team
    await w.inbox('wij');
    await w.inbox('vt');
    const report = await access();
    expect(report.registrations.map((r) => r.agency.type)).toEqual(['school']);
    expect(report.matches).toEqual([]);
    expect(lines(report)).toEqual(['school signal.register']);
    expect(report).not.toHaveProperty('withheld');
    // The explanation is the policy's legal basis, the same for every family (it names the covenant's
    // parties, Veilig Thuis among them); everything else must hold no trace.
    const { explanation, ...rest } = report;
    expect(explanation).toEqual({ index: w.h.policy.name, legalBasis: w.h.policy.legalBasis });
    const text = JSON.stringify(rest);
    for (const trace of ['veilig', 'vt', 'shielding', 'withheld', 'wij']) expect(text).not.toContain(trace);

    // Once a second agency the family may see is involved, the family sees that match.
    await w.step('+gp');
    const later = await access();
    expect(later.registrations.map((r) => r.agency.type)).toEqual(['school', 'gp']);
    expect(later.matches).toEqual([expect.objectContaining({ status: 'open', coordinator: { name: 'wij', type: 'wij' } })]);
    expect(JSON.stringify(later)).not.toContain('veilig');

    // Shielding does not end with Veilig Thuis's involvement: its ended registration stays out too.
    await w.step('-vt');
    await w.step('-gp');
    const after = await access();
    expect(after.registrations.map((r) => `${r.agency.type}:${r.status}`)).toEqual(['school:active', 'gp:ended']);
    expect(after.matches).toEqual([expect.objectContaining({ status: 'ended' })]);
    expect(JSON.stringify(after)).not.toContain('veilig');
  });

  it('writes what it withheld and why to the audit record of the request, sealed, for audit:read', async () => {
    for (const s of ['+school', '+vt']) await w.step(s);
    await access();
    const pseudonym = w.h.keys.pseudonymize(validBsn(1));
    const [stored] = await rows<{ outcome: string; resource: string }>("select outcome, resource from audit_log where action = 'subject.access_request' and subject = ?", pseudonym);
    expect(stored!.outcome).toBe('answered');
    // A copy of the database does not show that an agency was shielded, nor which.
    expect(stored!.resource).toMatch(/^sealed:/);
    expect(stored!.resource).not.toContain(id('vt'));
    expect(stored!.resource).not.toContain('shielding');

    const res = await w.h.call('GET', `/v1/audit?subject=${pseudonym}&action=subject.access_request`, { token: await operatorToken() });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<{ outcome: string; detail: { withheld: Array<{ agencyId: string; rule: string; registrations: number }> } }> };
    expect(items).toHaveLength(1);
    expect(items[0]!.detail.withheld).toEqual([expect.objectContaining({ agencyId: id('vt'), rule: 'shielding.veilig-thuis', registrations: 1 })]);
  });

  it('answers an empty report for a young person never registered, refuses a bad BSN, and needs subjects:rights', async () => {
    const empty = await access(42);
    expect(empty).toMatchObject({ registrations: [], matches: [] });
    expect(lines(empty)).toEqual([]);
    expect((await ask('access', { bsn: '123456789' })).status).toBe(422);
    expect((await ask('access', { bsn: validBsn(1), why: 'x' })).status).toBe(400);
    const school = await w.h.token(w.agencies.get('school')!);
    expect((await w.h.call('POST', '/v1/subject-requests/access', { token: school, body: { bsn: validBsn(1) } })).status).toBe(403);
  });

  it('shields a registration exempted from the informing duty for the child’s safety, before and after erasure', async () => {
    await w.step('+school');
    await w.register('gp', 1, { informed: { status: 'exempt', exemption: 'child_safety' } });
    await w.inbox('gp');
    const before = await access();
    expect(before.registrations.map((r) => r.agency.name)).toEqual(['school']);
    expect(before.matches).toEqual([]);
    expect(lines(before)).toEqual(['school signal.register']);

    // The marker that survives erasure names neither the agency nor the exemption in the clear.
    const markers = await rows<{ tag: string; sealed: Buffer }>('select tag, sealed from shield_markers');
    expect(markers).toHaveLength(1);
    const pseudonym = w.h.keys.pseudonymize(validBsn(1));
    expect(markers[0]!.tag).not.toBe(pseudonym);
    expect(markers[0]!.sealed.toString('latin1')).not.toContain(id('gp'));

    expect((await ask('erasure', { bsn: validBsn(1), reason: 'registered_in_error' })).status).toBe(200);
    const after = await access();
    expect(after.registrations).toEqual([]);
    expect(after.accesses.some((a) => a.agency.name === 'gp')).toBe(false);
    expect(lines(after)).toEqual(['school signal.register', 'muni subject.access_request', 'school notice.subject.erased', 'muni subject.erase']);
  });

  it('shields an agency that later records a safety exemption for others (PATCH)', async () => {
    await w.step('+school');
    await w.step('+gp');
    const gp = await w.h.token(w.agencies.get('gp')!);
    const own = (await (await w.h.call('GET', '/v1/signals?status=active', { token: gp })).json()) as { items: Array<{ id: string }> };
    const patched = await w.h.call('PATCH', `/v1/signals/${own.items[0]!.id}`, { token: gp, body: { informed: { status: 'exempt', exemption: 'others_safety' } } });
    expect(patched.status).toBe(200);
    const report = await access();
    expect(report.registrations.map((r) => r.agency.name)).toEqual(['school']);
    expect(report.matches).toEqual([]);
    expect(JSON.stringify(report)).not.toContain('gp');
  });
});

describe('subject erasure', () => {
  it('crypto-shreds the young person; the audit chain keeps that it happened', async () => {
    for (const s of ['+school', '+gp', '+school#2']) await w.step(s);
    const res = await ask('erasure', { bsn: validBsn(1), reason: 'registered_in_error' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ erased: true, signals: 2, matches: 1 });
    const count = async (t: string, where = '') => (await w.h.row<{ n: number }>(`select count(*) n from ${t} ${where}`))!.n;
    expect(await count('subjects')).toBe(1);
    expect(await count('signals')).toBe(1);
    expect(await count('notices', 'where subject_id is not null')).toBe(0);
    const pseudonym = w.h.keys.pseudonymize(validBsn(1));
    const last = await w.h.row('select action, outcome from audit_log where subject = ? order by seq desc limit 1', pseudonym);
    expect(last).toEqual({ action: 'subject.erase', outcome: 'registered_in_error' });
    // Erasing again, or a young person never registered, answers the same: nothing remains.
    expect(await (await ask('erasure', { bsn: validBsn(1), reason: 'other' })).json()).toEqual({ erased: true, signals: 0, matches: 0 });
    expect(await (await ask('erasure', { bsn: validBsn(77), reason: 'other' })).json()).toEqual({ erased: true, signals: 0, matches: 0 });
    expect((await ask('erasure', { bsn: '123456789', reason: 'other' })).status).toBe(422);
    // What is left of the subject is only what the audit log says happened.
    const report = await access();
    expect(report.registrations).toEqual([]);
    expect(report.matches).toEqual([]);
    expect(report.accesses.map((a) => a.action)).toContain('subject.erase');
  });

  it('after erasure nothing of Veilig Thuis appears, though its audit records remain', async () => {
    for (const s of ['+school', '+vt', '+gp']) await w.step(s);
    await w.inbox('vt');
    await w.inbox('gp');
    const res = await ask('erasure', { bsn: validBsn(1), reason: 'court_order' });
    expect(await res.json()).toEqual({ erased: true, signals: 2, matches: 1 });
    const pseudonym = w.h.keys.pseudonymize(validBsn(1));
    expect((await rows('select seq from audit_log where subject = ? and agency_id = ?', pseudonym, id('vt'))).length).toBeGreaterThan(0);
    const report = await access();
    expect(report.registrations).toEqual([]);
    expect(report.accesses.some((a) => a.agency.type === 'veilig_thuis')).toBe(false);
    expect(lines(report)).toEqual(['school signal.register', 'gp signal.register', 'school notice.subject.erased', 'gp notice.subject.erased', 'muni subject.erase']);
    expect(report).not.toHaveProperty('withheld');
    expect(JSON.stringify(report)).not.toContain('veilig');
  });

  it('tells every agency with an active signal, by a notice that survives the erasure', async () => {
    await w.register('school', 1, { reference: 'LLN-2024-17' });
    await w.step('+vt');
    await w.step('+yc');
    await w.step('-yc'); // ended: nothing to tell
    const ownSignal = async (label: string) => (await rows<{ id: string }>("select s.id from signals s where s.agency_id = ? and s.status = 'active'", id(label)))[0]!.id;
    const signals = { school: await ownSignal('school'), vt: await ownSignal('vt') };
    for (const label of ['school', 'vt', 'yc', 'wij']) await w.fresh(label);

    expect((await ask('erasure', { bsn: validBsn(1), reason: 'registered_in_error' })).status).toBe(200);
    const erased = async (label: string) => (await w.inbox(label)).filter((n: NoticeView) => n.type === 'subject.erased');
    expect(await erased('school')).toEqual([
      expect.objectContaining({ type: 'subject.erased', signalId: signals.school, reference: 'LLN-2024-17', matchId: null, parties: [], coordinator: null }),
    ]);
    // Veilig Thuis hears of its own signal only.
    expect(await erased('vt')).toEqual([expect.objectContaining({ signalId: signals.vt, parties: [] })]);
    expect(await erased('yc')).toEqual([]);
    expect(await erased('wij')).toEqual([]);
    // The notice names no young person: neither BSN nor pseudonym, in the inbox or at rest.
    const pseudonym = w.h.keys.pseudonymize(validBsn(1));
    const text = JSON.stringify(await erased('school'));
    expect(text).not.toContain(validBsn(1));
    expect(text).not.toContain(pseudonym);
    const stored = await rows<{ subject_id: string | null; sealed: Buffer }>("select subject_id, sealed from notices where type = 'subject.erased'");
    expect(stored).toHaveLength(2);
    for (const r of stored) {
      expect(r.subject_id).toBeNull();
      expect(r.sealed.toString('latin1')).not.toContain('LLN-2024-17');
    }
    // The school's acknowledgement works as for any notice.
    const school = await w.h.token(w.agencies.get('school')!);
    expect((await w.h.call('POST', `/v1/notices/${(await erased('school'))[0]!.id}/ack`, { token: school })).status).toBe(204);
  });

  it('delivers the erasure notice by webhook too, after the data key is gone', async () => {
    const receiver = await new Receiver().start();
    try {
      const hooked = await w.h.agency('jgz', { name: 'jgz-hooked', webhookUrl: receiver.url });
      await w.step('+school');
      await registerSignal({
        ctx: { ...w.ctx('jgz'), actor: { ...w.ctx('jgz').actor, agencyId: hooked.id } },
        input: { kind: 'involvement', ...signalBody(validBsn(1), { reference: 'JGZ-9' }) } as never,
      });
      await deliverDue(w.h.deps, { timeoutMs: 500, retryWindowMs: 3_600_000, backoffMs: 1_000, concurrency: 4 });
      receiver.received.length = 0;
      expect((await ask('erasure', { bsn: validBsn(1), reason: 'other' })).status).toBe(200);
      expect(await deliverDue(w.h.deps, { timeoutMs: 500, retryWindowMs: 3_600_000, backoffMs: 1_000, concurrency: 4 })).toMatchObject({ delivered: 1 });
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'subject.erased', reference: 'JGZ-9', matchId: null });
    } finally {
      await receiver.stop();
    }
  });
});

// Each history is run in two or three fresh worlds (on PostgreSQL a database each): more than
// vitest's five seconds on a busy machine.
describe('non-interference of the answer to the family', { timeout: 60_000 }, () => {
  /**
   * One history, run in a fresh world as is and once without every action of the shielded agency
   * types; the clock moves the same in both, so the answers must be equal as they stand.
   */
  async function answers(policy: string, history: string[], shielded: string[]): Promise<unknown[]> {
    await w.h.close(); // the last world's answers are taken; a property makes eighty worlds
    w = await World.create(policy);
    token = await w.h.token(w.agencies.get('muni')!);
    const out: unknown[] = [];
    for (const step of history) {
      w.h.clock.advanceDays(1);
      const [verb, label] = step.split(' ') as [string, string];
      if (shielded.includes((label ?? verb).replace(/^[+-]/, ''))) continue;
      token = await w.h.token(w.agencies.get('muni')!); // the clock moved past the last one
      if (verb === 'read') await w.inbox(label);
      else if (verb === 'claim') await claimIfOpen(label);
      else if (verb === 'jobs') await runJobs(w.h.deps, ['escalation', 'reminders']);
      else if (verb === 'access') out.push(await access());
      else if (verb === 'erase') out.push(await (await ask('erasure', { bsn: validBsn(1), reason: 'court_order' })).json());
      else if (step.endsWith('!')) await w.register(step.slice(1, -1), 1, { informed: { status: 'exempt', exemption: 'child_safety' } });
      else if (step.startsWith('-')) await withdrawIfRegistered(step.slice(1));
      else await w.step(step);
    }
    return out;
  }

  async function withdrawIfRegistered(label: string): Promise<void> {
    try {
      await w.withdraw(label);
    } catch (err) {
      if ((err as { code?: string }).code !== 'signal_not_found') throw err; // never registered
    }
  }

  async function claimIfOpen(label: string): Promise<void> {
    const t = await w.h.token(w.agencies.get(label)!);
    const { items } = (await (await w.h.call('GET', '/v1/matches?status=open', { token: t })).json()) as { items: Array<{ id: string }> };
    for (const m of items) {
      await w.h.call('POST', `/v1/matches/${m.id}/claim`, { token: t, body: { coordinator: { name: 'Sanne Bos', phone: '050 367 8000', email: 's.bos@wij.example.nl' } } });
    }
  }

  const history = [
    '+school', '+vt', 'read wij', 'claim wij', 'read school', 'access',
    '+gp', 'read gp', 'read wij', 'access',
    '-vt', 'read gp', 'read wij', '+vt', 'access',
    '-gp', 'read school', 'read wij', '+yc', 'read wij', 'access',
    '+gi', 'read gi', '-yc', 'access', 'erase', 'access',
  ];

  // The coordinator sees Veilig Thuis and acts on what it sees: a match claimed, or escalated,
  // before the family had one must not show in the family's answer.
  const coordinated = [
    '+school', '+vt', 'read wij', 'claim wij', '+gp', 'claim wij', 'read wij', 'read gp', 'access',
    '-gp', '+yc', 'read yc', 'read wij', 'jobs', 'jobs', 'jobs', 'jobs', 'jobs', 'jobs', 'read muni', 'access',
    '-yc', '+gp', 'read gp', 'jobs', 'jobs', 'jobs', 'jobs', 'jobs', 'jobs', 'read muni', 'read wij', 'access',
  ];

  it('is the same with and without Veilig Thuis when the coordinator acts on what it sees (groningen)', async () => {
    expect(await answers('groningen', coordinated, [])).toEqual(await answers('groningen', coordinated, ['vt']));
  });

  it('is the same with and without Veilig Thuis (groningen)', async () => {
    const withVt = await answers('groningen', history, []);
    const without = await answers('groningen', history, ['vt']);
    expect(withVt).toEqual(without);
    // The comparison is not empty: the family does see matches, and an agency it may see does change the answer.
    expect(JSON.stringify(withVt)).toContain('"status":"open"');
    expect(await answers('groningen', history, ['yc'])).not.toEqual(withVt);
  });

  it('is the same with and without the shielded agencies, for any history (property)', async () => {
    // jgz always registers exempted for the child's safety ("+jgz!"): shielded by its marker.
    const ops = [
      ...['school', 'gp', 'vt'].flatMap((l) => [`+${l}`, `-${l}`]), '+yc', '+jgz!', '-jgz',
      'read gp', 'read wij', 'read vt', 'claim wij', 'claim wij', 'jobs', 'access',
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...ops), { minLength: 1, maxLength: 12 }), fc.boolean(), async (steps, erase) => {
        const history = ['+school', ...steps, 'access', ...(erase ? ['erase', 'access'] : [])];
        expect(await answers('groningen', history, [])).toEqual(await answers('groningen', history, ['vt', 'jgz', 'jgz!']));
      }),
      // The first example is the coordinator's claim before the family had a match.
      { numRuns: 40, examples: [[['+vt', 'claim wij', '+gp', 'claim wij'], false]] },
    );
  }, 300_000);

  it('is the same with and without Veilig Thuis and the GI (strict)', async () => {
    expect(await answers('strict', history, [])).toEqual(await answers('strict', history, ['vt', 'gi']));
  });
});

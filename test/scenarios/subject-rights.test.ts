import { beforeEach, describe, expect, it } from 'vitest';
import type { AccessReport } from '../../src/app/subject-rights.ts';
import { validBsn } from '../support/harness.ts';
import { World } from '../support/world.ts';

let w: World;
let token: string;
const ask = async (path: string, body: unknown) => w.h.call('POST', `/v1/subject-requests/${path}`, { token, body });

beforeEach(async () => {
  w = await World.create();
  token = await w.h.token(w.agencies.get('muni')!);
});

describe('subject access request', () => {
  it('lists registrations, matches, coordinators and accesses', async () => {
    w.register('school', 1, { informed: { status: 'exempt', exemption: 'unreachable' } });
    w.step('+gp');
    w.inbox('school'); // the school reads its notice
    const res = await ask('access', { bsn: validBsn(1) });
    expect(res.status).toBe(200);
    const report = (await res.json()) as AccessReport;
    expect(report.registrations.map((r) => [r.agency.name, r.agency.type, r.status])).toEqual([
      ['school', 'school', 'active'],
      ['gp', 'gp', 'active'],
    ]);
    expect(report.registrations[0]!.informed).toEqual({ status: 'exempt', exemption: 'unreachable' });
    expect(report.matches).toEqual([expect.objectContaining({ status: 'open', coordinator: { name: 'wij', type: 'wij' } })]);
    const actions = report.accesses.map((a) => `${a.agency?.name ?? '-'} ${a.action}`);
    expect(actions).toEqual(expect.arrayContaining(['school signal.register', 'gp signal.register', 'school notice.match.created', 'school notice.read']));
    expect(report.withheld).toEqual([]);
    expect(JSON.stringify(report)).not.toContain(validBsn(1));
  });

  it('leaves Veilig Thuis out while its involvement is active, and names the shielding rule for the officer', async () => {
    for (const s of ['+school', '+vt', '+gp']) w.step(s);
    const report = (await (await ask('access', { bsn: validBsn(1) })).json()) as AccessReport;
    expect(report.registrations.map((r) => r.agency.type)).toEqual(['school', 'gp']);
    expect(report.accesses.some((a) => a.agency?.type === 'veilig_thuis')).toBe(false);
    expect(JSON.stringify(report)).not.toContain('veilig_thuis');
    expect(report.withheld).toEqual(['shielding.veilig-thuis']);

    w.step('-vt');
    const after = (await (await ask('access', { bsn: validBsn(1) })).json()) as AccessReport;
    expect(after.registrations.map((r) => `${r.agency.type}:${r.status}`)).toEqual(['school:active', 'veilig_thuis:ended', 'gp:active']);
    expect(after.withheld).toEqual([]);
  });

  it('answers an empty report for a young person never registered, refuses a bad BSN, and needs subjects:rights', async () => {
    const empty = (await (await ask('access', { bsn: validBsn(42) })).json()) as AccessReport;
    expect(empty).toMatchObject({ registrations: [], matches: [], withheld: [] });
    expect((await ask('access', { bsn: '123456789' })).status).toBe(422);
    expect((await ask('access', { bsn: validBsn(1), why: 'x' })).status).toBe(400);
    const school = await w.h.token(w.agencies.get('school')!);
    expect((await w.h.call('POST', '/v1/subject-requests/access', { token: school, body: { bsn: validBsn(1) } })).status).toBe(403);
  });
});

describe('subject erasure', () => {
  it('crypto-shreds the young person; the audit chain keeps that it happened', async () => {
    for (const s of ['+school', '+gp', '+school#2']) w.step(s);
    const res = await ask('erasure', { bsn: validBsn(1), reason: 'registered_in_error' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ erased: true, signals: 2, notices: 3, matches: 1 });
    const count = (t: string) => (w.h.db.$client.prepare(`select count(*) n from ${t}`).get() as { n: number }).n;
    expect(count('subjects')).toBe(1);
    expect(count('signals')).toBe(1);
    expect(w.inbox('school')).toEqual([]);
    const pseudonym = w.h.keys.pseudonymize(validBsn(1));
    const last = w.h.db.$client.prepare('select action, outcome from audit_log where subject = ? order by seq desc limit 1').get(pseudonym);
    expect(last).toEqual({ action: 'subject.erase', outcome: 'registered_in_error' });
    expect((await ask('erasure', { bsn: validBsn(1), reason: 'other' })).status).toBe(404);
    // What is left of the subject is only what the audit log says happened.
    const report = (await (await ask('access', { bsn: validBsn(1) })).json()) as AccessReport;
    expect(report.registrations).toEqual([]);
    expect(report.accesses.map((a) => a.action)).toContain('subject.erase');
  });
});

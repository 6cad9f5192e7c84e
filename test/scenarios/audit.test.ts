import { describe, expect, it } from 'vitest';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';
import { chosenTestStore } from '../support/store-choice.ts';

describe('tamper-evident audit log', () => {
  it('the database refuses to change or delete an audit record', async () => {
    const h = await createHarness();
    await h.agency('school');
    const count = async () => (await h.row<{ n: number }>('select count(*) n from audit_log'))!.n;
    const before = await count();
    expect(before).toBeGreaterThan(0);
    await expect(h.run("update audit_log set outcome = 'x'")).rejects.toThrow(/append-only/);
    await expect(h.run('delete from audit_log')).rejects.toThrow(/append-only/);
    // PostgreSQL's TRUNCATE skips row triggers; a statement trigger of its own refuses it (SQLite has no TRUNCATE).
    if (chosenTestStore() === 'postgres') await expect(h.run('truncate audit_log')).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
  });

  it('GET /v1/audit lists with filters for audit:read only, and records that it was read', async () => {
    const h = await createHarness();
    await h.agency('wij', { districts: ['selwerd'] });
    const [school, operator] = [await h.agency('school'), await h.agency('operator')];
    const ts = await h.token(school);
    await h.call('POST', '/v1/signals', { token: ts, body: signalBody(validBsn(1)), headers: { 'x-acting-professional': 'prf_mentor-9' } });
    await h.call('POST', '/v1/signals', { token: ts, body: signalBody(validBsn(2)) });
    const to = await h.token(operator);
    const pseudonym = h.keys.pseudonymize(validBsn(1));
    const res = await h.call('GET', `/v1/audit?subject=${pseudonym}`, { token: to });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<{ action: string; actor: string; agencyId: string; subject: string; hash: string; prevHash: string }> };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ action: 'signal.register', actor: 'prf_mentor-9', agencyId: school.id, subject: pseudonym });
    expect(JSON.stringify(items)).not.toContain(validBsn(1));
    const page = (await (await h.call('GET', '/v1/audit?limit=2', { token: to })).json()) as { items: Array<{ seq: number; hash: string; prevHash: string }>; next: string };
    expect(page.items[1]!.prevHash).toBe(page.items[0]!.hash);
    const rest = (await (await h.call('GET', `/v1/audit?cursor=${page.next}&action=audit.read`, { token: to })).json()) as { items: Array<{ action: string }> };
    expect(rest.items.map((r) => r.action)).toEqual(['audit.read', 'audit.read']);
    expect((await h.call('GET', '/v1/audit', { token: ts })).status).toBe(403);
  });
});

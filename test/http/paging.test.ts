import { describe, expect, it } from 'vitest';
import { createHarness } from '../support/harness.ts';

interface Param { name: string; in: string; deprecated?: boolean }
type Doc = { paths: Record<string, Record<string, { operationId: string; parameters: Array<Param | { $ref: string }> }>> };

describe('paging', () => {
  it('every list takes `cursor` and `limit`; `after` is only a deprecated alias', async () => {
    const h = await createHarness();
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as Doc;
    const lists = Object.values(doc.paths)
      .flatMap((item) => Object.values(item))
      .filter((op) => op.parameters.some((p) => 'name' in p && p.name === 'limit'));
    expect(lists.map((op) => op.operationId).sort()).toEqual(['listAuditRecords', 'listMatches', 'listNotices', 'listSignals']);
    for (const op of lists) {
      const query = op.parameters.filter((p): p is Param => 'name' in p && p.in === 'query');
      expect(query.find((p) => p.name === 'cursor'), op.operationId).toMatchObject({ name: 'cursor' });
      expect(query.find((p) => p.name === 'cursor')?.deprecated, op.operationId).toBeUndefined();
      const after = query.find((p) => p.name === 'after');
      if (after) expect(after.deprecated, op.operationId).toBe(true);
    }
  });

  it('pages the audit log with `cursor`, still takes `after`, and refuses both at once', async () => {
    const h = await createHarness();
    const operator = await h.agency('school', { grants: ['audit:read'] });
    const token = await h.token(operator, 'audit:read');
    for (let i = 0; i < 3; i++) await h.call('GET', '/v1/audit?limit=1', { token });
    const first = (await (await h.call('GET', '/v1/audit?limit=2', { token })).json()) as { items: Array<{ seq: number }>; next: string };
    expect(first.next).not.toBeNull();
    const byCursor = (await (await h.call('GET', `/v1/audit?limit=2&cursor=${first.next}`, { token })).json()) as { items: Array<{ seq: number }> };
    expect(byCursor.items[0]!.seq).toBeGreaterThan(first.items.at(-1)!.seq);
    const byAfter = (await (await h.call('GET', `/v1/audit?limit=2&after=${first.next}`, { token })).json()) as { items: Array<{ seq: number }> };
    expect(byAfter.items.map((r) => r.seq)).toEqual(byCursor.items.map((r) => r.seq));
    const both = await h.call('GET', `/v1/audit?cursor=${first.next}&after=${first.next}`, { token });
    expect(both.status).toBe(400);
    expect(((await both.json()) as { code: string }).code).toBe('validation_failed');
  });

  it('takes the inbox cursor as `cursor` or, deprecated, `after`', async () => {
    const h = await createHarness();
    const token = await h.token(await h.agency('school'));
    expect((await h.call('GET', '/v1/notices?cursor=bogus', { token })).status).toBe(400);
    expect((await h.call('GET', '/v1/notices?after=bogus', { token })).status).toBe(400);
    expect((await h.call('GET', '/v1/notices?cursor=', { token })).status).toBe(200);
    const both = await h.call('GET', '/v1/notices?cursor=a&after=b', { token });
    expect(both.status).toBe(400);
  });
});

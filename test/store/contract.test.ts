import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/app/context.ts';
import { appendAudit, auditRecords, readChainHead, verifyAuditChain } from '../../src/store/audit.ts';
import { agencyById } from '../../src/store/agencies.ts';
import { findIdempotent, rememberIdempotent } from '../../src/store/idempotency.ts';
import { markOnce } from '../../src/store/job-marks.ts';
import { findOrCreateSubject, subjectIdOf } from '../../src/store/subjects.ts';
import { markAssertionUsed } from '../../src/store/used-assertions.ts';
import { createHarness, type Harness } from '../support/harness.ts';

/**
 * The repositories' contract, run unchanged against the store of the run (the sqlite and postgres
 * projects both run this file): what each promises, including under transactions that overlap,
 * which on PostgreSQL really run at once on pooled connections and on SQLite queue for the writer.
 */

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => h.store.close());

const AT = '2026-03-02T09:00:00.000Z';
const entry = (action: string) => ({ at: AT, agencyId: null, actor: 'contract', action, subject: null, resource: null, outcome: 'ok', requestId: null });
const tx = <T>(fn: Parameters<typeof withTransaction<T>>[1]) => withTransaction(h.deps, fn);

describe('a transaction', () => {
  it('leaves nothing when it throws after writing, and its writes are seen after it commits', async () => {
    await expect(
      tx(async (t) => {
        await markOnce(t, 'contract', 'rolled-back', AT);
        await appendAudit(t, entry('contract.rolled_back'));
        throw new Error('after the write');
      }),
    ).rejects.toThrow('after the write');
    expect(await h.row('select count(*) as n from job_marks where ref = ?', 'rolled-back')).toEqual({ n: 0 });
    expect(await readChainHead(h.store.reader)).toEqual({ seq: 0, hash: '0'.repeat(64) });
    await tx((t) => markOnce(t, 'contract', 'kept', AT));
    expect(await h.row('select count(*) as n from job_marks where ref = ?', 'kept')).toEqual({ n: 1 });
  });
});

describe('once-only records hold through the database, under overlapping transactions', () => {
  it('a job mark is taken by one of many', async () => {
    const taken = await Promise.all(Array.from({ length: 8 }, () => tx((t) => markOnce(t, 'reminder', 'match-1', AT))));
    expect(taken.filter(Boolean)).toHaveLength(1);
  });

  it('a client assertion id is used once per agency', async () => {
    const school = await h.agency('school');
    const gp = await h.agency('gp');
    const use = (agencyId: string) => tx((t) => markAssertionUsed(t, { agencyId, jti: 'jti-1', expiresAt: '2026-03-02T09:05:00.000Z' }));
    const results = await Promise.all([use(school.id), use(school.id), use(school.id), use(gp.id)]);
    expect(results.slice(0, 3).filter(Boolean)).toHaveLength(1);
    expect(results[3]).toBe(true);
  });

  it('a young person is created once, whoever registers first', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => tx(async (t) => (await findOrCreateSubject(t, h.keys, 'pseudonym-1', new Date(AT))).subjectId)));
    expect(new Set(ids).size).toBe(1);
    expect(await subjectIdOf(h.store.reader, 'pseudonym-1')).toBe(ids[0]);
    expect(await h.row("select count(*) as n from subjects where pseudonym = ?", 'pseudonym-1')).toEqual({ n: 1 });
  });

  it('an idempotency key keeps its first answer, and a second write of it fails', async () => {
    const school = await h.agency('school');
    const req = { key: 'k1', fingerprint: 'f1' };
    await tx((t) => rememberIdempotent(t, school.id, req, 201, 'signal-1', new Date(AT)));
    await expect(tx((t) => rememberIdempotent(t, school.id, { ...req, fingerprint: 'f2' }, 201, 'signal-2', new Date(AT)))).rejects.toThrow();
    expect(await findIdempotent(h.store.reader, school.id, 'k1', new Date(AT))).toEqual({ fingerprint: 'f1', status: 201, resourceId: 'signal-1' });
    // A day later it is forgotten.
    expect(await tx((t) => findIdempotent(t, school.id, 'k1', new Date(Date.parse(AT) + 86_400_001)))).toBeUndefined();
  });
});

describe('the audit chain', () => {
  it('stays one chain when transactions append at once, each in its own order', async () => {
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        tx(async (t) => {
          await appendAudit(t, entry(`contract.${i}.a`));
          await markOnce(t, 'contract', `chain-${i}`, AT);
          await appendAudit(t, entry(`contract.${i}.b`), entry(`contract.${i}.c`));
        }),
      ),
    );
    expect(await verifyAuditChain(h.store.reader)).toEqual({ ok: true, count: 18 });
    const actions = (await auditRecords(h.store.reader, {}, 100)).map((r) => r.action);
    expect(actions.map((_, i) => actions.slice(i, i + 3)).filter((_, i) => i % 3 === 0)).toEqual(
      Array.from({ length: 6 }, (_, k) => {
        const i = actions[k * 3]!.split('.')[1];
        return [`contract.${i}.a`, `contract.${i}.b`, `contract.${i}.c`];
      }),
    );
  });

  it('a transaction reads the records it has appended', async () => {
    const seen = await tx(async (t) => {
      await appendAudit(t, entry('contract.first'), entry('contract.second'));
      return { records: (await auditRecords(t, { action: 'contract.second' }, 10)).length, head: (await readChainHead(t)).seq };
    });
    expect(seen).toEqual({ records: 1, head: 2 });
    expect((await readChainHead(h.store.reader)).seq).toBe(2);
  });
});

describe('rows read back as written', () => {
  it('an agency: its lists, times and nulls the same on either store', async () => {
    const wij = await h.agency('wij', { districts: ['Selwerd', 'paddepoel'], grants: [] });
    const row = (await agencyById(h.store.reader, wij.id))!;
    expect(row).toMatchObject({ id: wij.id, type: 'wij', municipality: '0014', districts: ['selwerd', 'paddepoel'], grants: [], status: 'active', webhookUrl: null });
    expect(typeof row.createdAt).toBe('string');
    expect(new Date(row.createdAt).toISOString()).toBe(row.createdAt);
  });
});

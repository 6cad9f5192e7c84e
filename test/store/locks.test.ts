import { describe, expect, it } from 'vitest';
import * as t from '../../schema/tables.ts';
import { migrateDatabase, openDatabase } from '../../src/store/db.ts';
import { lockAuditChain, withJobLock } from '../../src/store/locks.ts';
import { claimDueNotices, recordDeliveryOutcome } from '../../src/store/outbox.ts';

/** The multi-instance primitives on SQLite, where one process owns the database. */

const AT = '2026-03-02T09:00:00.000Z';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('locks and the outbox claim on SQLite', () => {
  it('takes no audit lock (the one writer connection serialises appends already)', async () => {
    const db = openDatabase(':memory:');
    await expect(lockAuditChain({ dialect: 'sqlite', db })).resolves.toBeUndefined();
    db.$client.close();
  });

  it('claims due notices until their lease runs out', async () => {
    const db = openDatabase(':memory:');
    await migrateDatabase(db);
    await db.insert(t.agencies).values({ id: 'agy_hook', name: 'hook', type: 'wijkteam', municipality: 'GM0014', districts: [], grants: [], webhookUrl: 'http://127.0.0.1:9/hook', status: 'active', createdAt: AT });
    for (let i = 0; i < 5; i++) {
      await db
        .insert(t.notices)
        .values({ id: `ntc_${i}`, agencyId: 'agy_hook', type: 'match.created', sealed: Buffer.alloc(16, i), policyId: 'p', policyVersion: '1', createdAt: AT, delivery: 'pending', nextAttemptAt: `2026-03-02T09:00:0${i}.000Z` });
    }
    const tx = { dialect: 'sqlite' as const, db };
    const lease = '2026-03-02T09:10:00.000Z';
    const first = await claimDueNotices(tx, '2026-03-02T09:00:03.000Z', 3, lease);
    expect(first.map((r) => r.id)).toEqual(['ntc_0', 'ntc_1', 'ntc_2']);
    expect(first.every((r) => r.nextAttemptAt === lease)).toBe(true);
    expect((await claimDueNotices(tx, '2026-03-02T09:05:00.000Z', 10, lease)).map((r) => r.id)).toEqual(['ntc_3', 'ntc_4']);
    expect(await claimDueNotices(tx, '2026-03-02T09:09:59.000Z', 10, lease)).toEqual([]);
    expect(await claimDueNotices(tx, lease, 10, '2026-03-02T09:20:00.000Z')).toHaveLength(5);
    // An outcome counts under the lease it was claimed with, and not under a lapsed one.
    expect(await recordDeliveryOutcome(tx, 'ntc_0', lease, { delivery: 'delivered', nextAttemptAt: null })).toBe(false);
    expect(await recordDeliveryOutcome(tx, 'ntc_0', '2026-03-02T09:20:00.000Z', { delivery: 'delivered', nextAttemptAt: null })).toBe(true);
    expect(await claimDueNotices(tx, '2026-03-02T10:00:00.000Z', 10, '2026-03-02T10:10:00.000Z')).toHaveLength(4);
    db.$client.close();
  });

  it('runs a job directly, but never twice at once in the process', async () => {
    const store = { dialect: 'sqlite' as const };
    const slow = async () => {
      await sleep(50);
      return 'done';
    };
    const [a, b] = await Promise.all([withJobLock(store, 'reminders', slow), withJobLock(store, 'reminders', slow)]);
    expect(a).toEqual({ ran: true, value: 'done' });
    expect(b).toEqual({ ran: false });
    expect(await withJobLock(store, 'reminders', slow)).toEqual({ ran: true, value: 'done' });
  });
});

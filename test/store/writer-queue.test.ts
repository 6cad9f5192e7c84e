import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateStore, openStore, type SqliteStore } from '../../src/store/db.ts';
import { readMeta, writeMeta } from '../../src/store/meta.ts';

/** The SQLite store's writer: one transaction at a time, in order, all or nothing. */

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function fileStore(): Promise<SqliteStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-store-'));
  dirs.push(dir);
  const store = openStore(path.join(dir, 'betrokken.db'));
  stores.push(store);
  await migrateStore(store);
  return store;
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe('the SQLite store', () => {
  it('runs overlapping transactions one after the other, even when their bodies await', async () => {
    const store = await fileStore();
    const trace: string[] = [];
    const body = (name: string) => async (tx: Parameters<Parameters<SqliteStore['transaction']>[0]>[0]) => {
      trace.push(`${name} begins`);
      const before = await readMeta(tx, 'counter');
      await tick(); // another request's turn on the event loop
      await writeMeta(tx, 'counter', String(Number(before ?? 0) + 1));
      await tick();
      trace.push(`${name} ends`);
    };
    await Promise.all([store.transaction(body('a')), store.transaction(body('b')), store.transaction(body('c'))]);
    expect(trace).toEqual(['a begins', 'a ends', 'b begins', 'b ends', 'c begins', 'c ends']);
    // Each read the other's committed write: no increment was lost.
    expect(await readMeta(store.reader, 'counter')).toBe('3');
  });

  it('leaves nothing of a transaction that throws after a write, and goes on with the next', async () => {
    const store = await fileStore();
    const failing = store.transaction(async (tx) => {
      await writeMeta(tx, 'half', 'written');
      await tick();
      throw new Error('the use case refused');
    });
    const next = store.transaction(async (tx) => writeMeta(tx, 'after', 'ok'));
    await expect(failing).rejects.toThrow('the use case refused');
    await next;
    expect(await readMeta(store.reader, 'half')).toBeUndefined();
    expect(await readMeta(store.reader, 'after')).toBe('ok');
    expect(store.db.$client.inTransaction).toBe(false);
  });

  it('reads on the reader what was committed, never a transaction still under way', async () => {
    const store = await fileStore();
    await store.transaction(async (tx) => writeMeta(tx, 'state', 'committed'));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const open = store.transaction(async (tx) => {
      await writeMeta(tx, 'state', 'uncommitted');
      written();
      await held;
    });
    await wrote;
    expect(store.reader.db).not.toBe(store.db); // a file has its own read connection
    expect(await readMeta(store.reader, 'state')).toBe('committed');
    release();
    await open;
    expect(await readMeta(store.reader, 'state')).toBe('uncommitted');
  });

  it('refuses a write on the reader of a file', async () => {
    const store = await fileStore();
    await expect(writeMeta(store.reader, 'x', 'y')).rejects.toThrow(/readonly/i);
  });

  it('reads through the writer in memory, where there is no second connection', async () => {
    const store = openStore(':memory:');
    stores.push(store);
    await migrateStore(store);
    expect(store.reader.db).toBe(store.db);
    await store.transaction(async (tx) => writeMeta(tx, 'k', 'v'));
    expect(await readMeta(store.reader, 'k')).toBe('v');
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { verifyAuditChain } from '../../src/store/audit.ts';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';
import { cli } from '../support/process.ts';

/** The audit chain in a database file, changed byte by byte and checked with the command line: SQLite's file alone. */
describe('tamper-evident audit log in the database file', () => {
  it('verifies on a busy database, and names the record after any single byte of it is changed in the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-audit-'));
    const dbFile = path.join(dir, 'betrokken.db');
    const h = await createHarness({ dbFile });
    await h.agency('wij', { districts: ['selwerd'] });
    const [school, gp] = [await h.agency('school'), await h.agency('gp')];
    const [ts, tg] = [await h.token(school), await h.token(gp)];
    for (let i = 0; i < 60; i++) {
      await h.call('POST', '/v1/signals', { token: ts, body: signalBody(validBsn(i)) });
      if (i % 2 === 0) await h.call('POST', '/v1/signals', { token: tg, body: signalBody(validBsn(i)) });
    }
    await h.call('GET', '/v1/notices', { token: ts });
    await h.call('GET', '/v1/signals', { token: tg });
    const verified = await verifyAuditChain(h.store.reader);
    expect(verified.ok).toBe(true);
    expect(verified.count).toBeGreaterThan(200);
    const targets = await h.rows<{ seq: number; request_id: string; hash: string; prev_hash: string }>(
      'select seq, request_id, hash, prev_hash from audit_log where request_id is not null order by seq limit 3 offset 50',
    );
    await h.store.close();
    const pristine = fs.readFileSync(dbFile);

    const flip = (needle: string, at: number) => {
      const bytes = Buffer.from(pristine);
      const pos = bytes.indexOf(needle);
      expect(pos, needle).toBeGreaterThan(0);
      expect(bytes.indexOf(needle, pos + 1), 'the needle is unique').toBe(-1);
      bytes[pos + at] = bytes[pos + at] === 0x61 ? 0x62 : 0x61; // 'a' ↔ 'b': still text, another value
      fs.writeFileSync(dbFile, bytes);
    };
    const check = async () => {
      const store = openStore(dbFile);
      try {
        return await verifyAuditChain(store.reader);
      } finally {
        await store.close();
      }
    };
    const cases: Array<[string, number, number]> = [
      // The last three columns are stored side by side: request_id, prev_hash, hash.
      [targets[0]!.request_id + targets[0]!.prev_hash + targets[0]!.hash, 6, targets[0]!.seq], // a field of the record
      [targets[1]!.prev_hash + targets[1]!.hash, 64 + 10, targets[1]!.seq], // its own hash
      [targets[2]!.prev_hash + targets[2]!.hash, 3, targets[2]!.seq], // its link to the one before
    ];
    for (const [needle, at, seq] of cases) {
      flip(needle, at);
      const result = check();
      expect(await result).toMatchObject({ ok: false, brokenSeq: seq });
    }
    const broken = cli(['audit', 'verify'], { BETROKKEN_DATA_DIR: dir });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`audit chain broken at record ${targets[2]!.seq}`);
    fs.writeFileSync(dbFile, pristine);
    const intact = cli(['audit', 'verify'], { BETROKKEN_DATA_DIR: dir });
    expect(intact.code).toBe(0);
    expect(intact.stdout).toBe(`audit chain intact: ${verified.count} records\n`);
  }, 60_000);
});

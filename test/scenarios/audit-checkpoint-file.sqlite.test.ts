import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { chainHash } from '../../src/crypto/audit-chain.ts';
import { CheckpointError, signCheckpoint, verifyCheckpoint } from '../../src/crypto/audit-checkpoint.ts';
import { ephemeralKeyRing, generateKeys, loadKeyRing, loadPublicSigningKeys, rotateKeys } from '../../src/crypto/key-ring.ts';
import { type ChainAnchor, verifyAuditChain } from '../../src/store/audit.ts';
import { openStore } from '../../src/store/db.ts';
import { type AuditLogRow as Row, fetchCheckpoint } from '../support/checkpoint.ts';
import { createHarness, ISSUER, signalBody, validBsn } from '../support/harness.ts';
import { cli } from '../support/process.ts';

/**
 * Signed checkpoints checked against the database file and its keys directory, with the command
 * line: SQLite's file alone (the postgres project checks checkpoints over HTTP in
 * audit-checkpoint.test.ts).
 */
/** A busy region on a database file with keys in a keys directory, as the service keeps them. */
async function region() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-checkpoint-'));
  const keysDir = path.join(dir, 'keys');
  await generateKeys(keysDir);
  const h = await createHarness({ dbFile: path.join(dir, 'betrokken.db'), keys: await loadKeyRing(keysDir) });
  await h.agency('wij', { districts: ['selwerd'] });
  const [school, gp, operator] = [await h.agency('school'), await h.agency('gp'), await h.agency('operator')];
  const [ts, tg] = [await h.token(school), await h.token(gp)];
  let n = 0;
  const busy = async (count: number) => {
    for (let i = 0; i < count; i++, n++) {
      await h.call('POST', '/v1/signals', { token: ts, body: signalBody(validBsn(700 + n)) });
      if (n % 2 === 0) await h.call('POST', '/v1/signals', { token: tg, body: signalBody(validBsn(700 + n)) });
    }
  };
  return { dir, keysDir, h, school, gp, operator, busy };
}

/** The chain in a database file, checked in this process (without or with a checkpoint). */
async function verifyFile(file: string, checkpoint?: ChainAnchor) {
  const store = openStore(file);
  try {
    return await verifyAuditChain(store.reader, checkpoint ? { checkpoint } : {});
  } finally {
    await store.close();
  }
}

/** A copy of the database file, changed the way someone with write access to the file could. */
function tamperedCopy(dbFile: string, change: (db: Database.Database) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-tampered-'));
  const copy = path.join(dir, 'betrokken.db');
  fs.copyFileSync(dbFile, copy);
  const db = new Database(copy);
  db.exec('drop trigger audit_log_no_update; drop trigger audit_log_no_delete;');
  change(db);
  db.close();
  return copy;
}


/** Recomputes every link and hash from the first record on, so that the chain is consistent again. */
function rehashAll(db: Database.Database): void {
  const rows = db.prepare('select * from audit_log order by seq').all() as Row[];
  const update = db.prepare('update audit_log set prev_hash = ?, hash = ? where seq = ?');
  let prev = '0'.repeat(64);
  for (const r of rows) {
    const hash = chainHash(prev, {
      seq: r.seq, at: r.at, agencyId: r.agency_id, actor: r.actor, action: r.action, subject: r.subject, resource: r.resource, outcome: r.outcome, requestId: r.request_id,
    });
    update.run(prev, hash, r.seq);
    prev = hash;
  }
}


describe('signed checkpoints of the audit chain', () => {
  it('audit verify --checkpoint passes on a chain that grew, and catches truncation, a re-hashed rewrite and one changed record', async () => {
    const { dir, keysDir, h, school, gp, operator, busy } = await region();
    await busy(20);
    const checkpoint = await fetchCheckpoint(h, await h.token(operator));
    const file = path.join(dir, 'checkpoint.json');
    fs.writeFileSync(file, JSON.stringify(checkpoint));
    await busy(10);
    const dbFile = path.join(dir, 'betrokken.db');
    const total = (await h.row<{ n: number }>('select max(seq) as n from audit_log'))!.n;
    expect(total).toBeGreaterThan(checkpoint.seq + 10);
    await h.store.close();
    const env = (db = dbFile) => ({ BETROKKEN_DATA_DIR: dir, BETROKKEN_DB: db, BETROKKEN_KEYS_DIR: keysDir });
    const anchor = await verifyCheckpoint(checkpoint.jws, loadPublicSigningKeys(keysDir));

    const intact = cli(['audit', 'verify', '--checkpoint', file], env());
    expect(intact.stderr).toBe('');
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain(`audit chain intact: ${total} records; it extends the checkpoint of record ${checkpoint.seq} signed by ${ISSUER}`);
    // The bare JWS verifies too, and so does the JWK Set an auditor downloaded, without the keys directory.
    const bare = path.join(dir, 'checkpoint.jws');
    fs.writeFileSync(bare, `${checkpoint.jws}\n`);
    const jwksFile = path.join(dir, 'jwks.json');
    fs.writeFileSync(jwksFile, await (await h.call('GET', '/.well-known/jwks.json')).text());
    const outside = cli(['audit', 'verify', '--checkpoint', bare, '--jwks', jwksFile], { ...env(), BETROKKEN_KEYS_DIR: path.join(dir, 'no-keys-here') });
    expect(outside.code).toBe(0);
    expect(outside.stdout).toContain(`audit chain intact: ${total} records`);

    // (a) The last records deleted, the checkpoint's own among them: the chain alone still looks intact.
    const truncated = tamperedCopy(dbFile, (db) => db.prepare('delete from audit_log where seq >= ?').run(checkpoint.seq - 3));
    expect(await verifyFile(truncated)).toEqual({ ok: true, count: checkpoint.seq - 4 });
    const a = cli(['audit', 'verify', '--checkpoint', file], env(truncated));
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(`audit chain truncated: the checkpoint signed at ${checkpoint.at} covers records 1 to ${checkpoint.seq}, but the chain ends at record ${checkpoint.seq - 4}`);

    // (b) The school's records re-attributed to the GP, and every hash recomputed: consistent, but not what was signed.
    const rewritten = tamperedCopy(dbFile, (db) => {
      expect(db.prepare('update audit_log set agency_id = ? where agency_id = ?').run(gp.id, school.id).changes).toBeGreaterThan(10);
      rehashAll(db);
    });
    expect(await verifyFile(rewritten)).toEqual({ ok: true, count: total });
    const b = cli(['audit', 'verify', '--checkpoint', file], env(rewritten));
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`audit chain rewritten: record ${checkpoint.seq} does not have the hash the checkpoint signed`);

    // (c) One record before the checkpoint changed, not re-hashed.
    const target = Math.floor(checkpoint.seq / 2);
    const changed = tamperedCopy(dbFile, (db) => db.prepare("update audit_log set outcome = 'refused' where seq = ?").run(target));
    const c = cli(['audit', 'verify', '--checkpoint', file], env(changed));
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(`audit chain broken at record ${target}: record altered`);

    // Records after the checkpoint are held by the chain itself.
    const later = tamperedCopy(dbFile, (db) => db.prepare("update audit_log set actor = 'someone-else' where seq = ?").run(total - 1));
    expect(await verifyFile(later, anchor)).toMatchObject({ ok: false, brokenSeq: total - 1, reason: 'record altered' });
    expect(await verifyFile(changed, anchor)).toMatchObject({ ok: false, brokenSeq: target, reason: 'record altered' });
    expect(await verifyFile(rewritten, anchor)).toMatchObject({ ok: false, brokenSeq: checkpoint.seq, reason: 'head differs from the checkpoint' });
    expect(await verifyFile(truncated, anchor)).toMatchObject({ ok: false, brokenSeq: checkpoint.seq - 3, reason: 'truncated before the checkpoint' });
    expect(await verifyFile(dbFile, anchor)).toEqual({ ok: true, count: total });
  }, 120_000);

  it('refuses a forged checkpoint, one signed by another key, and an access token passed off as one', async () => {
    const { dir, keysDir, h, operator, busy } = await region();
    await busy(3);
    const token = await h.token(operator);
    const checkpoint = await fetchCheckpoint(h, token);
    const jwks = h.keys.jwks();
    await h.store.close();
    const refusal = async (jws: string) => {
      const err = await verifyCheckpoint(jws, jwks).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointError);
      return (err as CheckpointError).code;
    };
    // The claimed record moved back to where a truncated chain would end; the signature is the original's.
    const [header, payload, signature] = checkpoint.jws.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { seq: number };
    const moved = `${header}.${Buffer.from(JSON.stringify({ ...claims, seq: claims.seq - 2 })).toString('base64url')}.${signature}`;
    expect(await refusal(moved)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // One flipped signature bit.
    const flipped = Buffer.from(signature, 'base64url');
    flipped[10]! ^= 1;
    expect(await refusal(`${header}.${payload}.${flipped.toString('base64url')}`)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // A well-formed checkpoint from a key that is not the service's, under its own kid and under the service's.
    const stranger = await ephemeralKeyRing();
    const head = { seq: checkpoint.seq, hash: checkpoint.head };
    expect(await refusal((await signCheckpoint(stranger, ISSUER, head, new Date())).jws)).toBe('ERR_JWKS_NO_MATCHING_KEY');
    Object.assign(stranger.currentSigningKey, { kid: checkpoint.kid });
    expect(await refusal((await signCheckpoint(stranger, ISSUER, head, new Date())).jws)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // The service's own access token is signed with the same key, but is not a checkpoint.
    expect(await refusal(token)).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect(await refusal('not.a.jws')).toBe('ERR_CHECKPOINT_MALFORMED');

    // The command line says so and exits 1; a file that holds no checkpoint is a usage error.
    const env = { BETROKKEN_DATA_DIR: dir, BETROKKEN_KEYS_DIR: keysDir };
    const forged = path.join(dir, 'forged.json');
    fs.writeFileSync(forged, JSON.stringify({ ...checkpoint, seq: claims.seq - 2, jws: moved }));
    const res = cli(['audit', 'verify', '--checkpoint', forged], env);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(`audit checkpoint refused: the checkpoint's signature does not verify with key ${checkpoint.kid}`);
    const junk = path.join(dir, 'junk.json');
    fs.writeFileSync(junk, '{"hello": 1}');
    expect(cli(['audit', 'verify', '--checkpoint', junk], env).code).toBe(2);
  }, 60_000);

  it('a checkpoint signed before a key rotation still verifies with the keys directory, and later ones use the new key', async () => {
    const { dir, keysDir, h, operator, busy } = await region();
    await busy(2);
    const checkpoint = await fetchCheckpoint(h, await h.token(operator));
    const dbFile = path.join(dir, 'betrokken.db');
    await h.store.close();
    await rotateKeys(keysDir);
    const env = { BETROKKEN_DATA_DIR: dir, BETROKKEN_KEYS_DIR: keysDir };
    const file = path.join(dir, 'checkpoint.json');
    fs.writeFileSync(file, JSON.stringify(checkpoint));
    const res = cli(['audit', 'verify', '--checkpoint', file], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`(key ${checkpoint.kid})`);
    // The chain has not grown: `audit checkpoint` gives the same checkpoint, still valid.
    const out = path.join(dir, 'same.json');
    const made = cli(['audit', 'checkpoint', '--out', out], env);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toContain(`checkpoint of record ${checkpoint.seq}`);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual(checkpoint);
    // The service restarted with the new keys signs the grown chain with the new key; both verify.
    const restarted = await createHarness({ dbFile, keys: await loadKeyRing(keysDir) });
    await restarted.agency('school');
    const fresh = await fetchCheckpoint(restarted, await restarted.token(await restarted.agency('operator')));
    await restarted.store.close();
    expect(fresh.kid).not.toBe(checkpoint.kid);
    expect(fresh.seq).toBeGreaterThan(checkpoint.seq);
    const newer = path.join(dir, 'newer.json');
    fs.writeFileSync(newer, JSON.stringify(fresh));
    const again = cli(['audit', 'verify', '--checkpoint', newer], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`(key ${fresh.kid})`);
  }, 60_000);
});

import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { checkpointIfDue } from '../../src/app/audit-checkpoint.ts';
import { chainHash } from '../../src/crypto/audit-chain.ts';
import { verifyCheckpoint } from '../../src/crypto/audit-checkpoint.ts';
import { CHECKPOINT_EVERY_MS, scheduleJobs } from '../../src/jobs/index.ts';
import { type AuditLogRow as Row, fetchCheckpoint } from '../support/checkpoint.ts';
import { createHarness, ISSUER, signalBody, validBsn } from '../support/harness.ts';
import { chosenTestStore } from '../support/store-choice.ts';

describe('GET /v1/audit/checkpoint', () => {
  it('answers audit:read with a checkpoint anyone can verify with the published keys; 401 without a token, 403 without the scope', async () => {
    const h = await createHarness();
    await h.agency('wij', { districts: ['selwerd'] });
    const [school, operator] = [await h.agency('school'), await h.agency('operator')];
    const ts = await h.token(school);
    await h.call('POST', '/v1/signals', { token: ts, body: signalBody(validBsn(1)) });
    expect((await h.call('GET', '/v1/audit/checkpoint')).status).toBe(401);
    const forbidden = await h.call('GET', '/v1/audit/checkpoint', { token: ts });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { code: string }).code).toBe('insufficient_scope');
    expect((await h.call('GET', '/v1/audit/checkpoint', { token: await h.token(operator, 'stats:read') })).status).toBe(403);

    const to = await h.token(operator);
    const cp = await fetchCheckpoint(h, to);
    const head = (await h.row<{ seq: number; hash: string }>('select seq, hash from audit_log order by seq desc limit 1'))!;
    expect(cp).toMatchObject({ seq: head.seq, head: head.hash, issuer: ISSUER, kid: h.keys.currentSigningKey.kid, at: '2026-03-02T09:00:00.000Z' });
    // What an auditor does with jose and /.well-known/jwks.json alone.
    const jwks = (await (await h.call('GET', '/.well-known/jwks.json')).json()) as Parameters<typeof createLocalJWKSet>[0];
    const { payload, protectedHeader } = await jwtVerify(cp.jws, createLocalJWKSet(jwks), { issuer: ISSUER, algorithms: ['EdDSA'], typ: 'audit-checkpoint+jwt' });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: cp.kid, typ: 'audit-checkpoint+jwt' });
    expect(payload).toMatchObject({ seq: head.seq, head: head.hash });
    expect(await verifyCheckpoint(cp.jws, jwks)).toEqual({ issuer: ISSUER, seq: cp.seq, head: cp.head, at: cp.at, kid: cp.kid });
    // Not an access token: the token verifier refuses it.
    expect((await h.call('GET', '/v1/audit', { token: cp.jws })).status).toBe(401);

    // Reading it is not audited, so the same checkpoint comes back until the chain grows.
    expect(await fetchCheckpoint(h, to)).toEqual(cp);
    h.clock.advanceDays(1);
    await h.call('POST', '/v1/signals', { token: await h.token(school), body: signalBody(validBsn(2)) });
    const next = await fetchCheckpoint(h, await h.token(operator));
    expect(next.seq).toBeGreaterThan(cp.seq);
    expect(next.at).toBe('2026-03-03T09:00:00.000Z');
    expect(decodeJwt(next.jws)).toMatchObject({ seq: next.seq, head: next.head });
    expect(await h.row('select count(*) as n from audit_checkpoints')).toEqual({ n: 2 });
  });

  it('refuses to sign a chain that no longer extends its last checkpoint (409 audit_chain_broken)', async () => {
    const h = await createHarness();
    await h.agency('wij', { districts: ['selwerd'] });
    const [school, operator] = [await h.agency('school'), await h.agency('operator')];
    const to = await h.token(operator);
    expect((await h.call('POST', '/v1/signals', { token: await h.token(school), body: signalBody(validBsn(3)) })).status).toBe(201);
    const cp = await fetchCheckpoint(h, to);
    // Someone with the database's owner rights takes the append-only guard away.
    for (const trigger of ['audit_log_no_update', 'audit_log_no_delete']) {
      await h.run(chosenTestStore() === 'postgres' ? `drop trigger ${trigger} on audit_log` : `drop trigger ${trigger}`);
    }
    const refused = async (token: string) => {
      const res = await h.call('GET', '/v1/audit/checkpoint', { token });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { code: string }).code).toBe('audit_chain_broken');
    };
    // The checkpoint's own record rewritten in place, with its hash: the chain did not grow.
    const row = (await h.row<Row & { prev_hash: string }>('select * from audit_log where seq = ?', cp.seq))!;
    const forged = chainHash(row.prev_hash, { seq: row.seq, at: row.at, agencyId: null, actor: row.actor, action: row.action, subject: row.subject, resource: row.resource, outcome: row.outcome, requestId: row.request_id });
    expect(await h.run('update audit_log set agency_id = null, hash = ? where seq = ?', forged, cp.seq)).toBe(1);
    await refused(to);
    // The checkpoint's record deleted, and the chain grown again from the one before it.
    expect(await h.run('delete from audit_log where seq >= ?', cp.seq)).toBeGreaterThan(0);
    h.clock.advanceDays(1 / 1440);
    expect((await h.call('POST', '/v1/signals', { token: await h.token(school), body: signalBody(validBsn(4)) })).status).toBe(201);
    await refused(await h.token(operator));
  });

  it('the periodic job signs one when the chain has grown and the last is an hour old', async () => {
    const h = await createHarness();
    const school = await h.agency('school');
    const cp = await checkpointIfDue(h.deps, CHECKPOINT_EVERY_MS);
    expect(cp).not.toBeNull();
    expect(await checkpointIfDue(h.deps, CHECKPOINT_EVERY_MS)).toBeNull(); // nothing new
    await h.call('POST', '/v1/signals', { token: await h.token(school), body: signalBody(validBsn(5)) });
    expect(await checkpointIfDue(h.deps, CHECKPOINT_EVERY_MS)).toBeNull(); // not an hour yet
    h.clock.advanceDays(1 / 24);
    const next = await checkpointIfDue(h.deps, CHECKPOINT_EVERY_MS);
    expect(next!.seq).toBeGreaterThan(cp!.seq);
    await expect(verifyCheckpoint(next!.jws, h.keys.jwks())).resolves.toMatchObject({ seq: next!.seq });
  });

  it("the server's timer signs one shortly after start", async () => {
    const h = await createHarness();
    await h.agency('school');
    const stop = scheduleJobs(h.deps, 3_600_000);
    try {
      await vi.waitFor(async () => expect(await h.rows('select seq from audit_checkpoints')).toHaveLength(1), { timeout: 4_000, interval: 100 });
    } finally {
      stop();
    }
  });
});

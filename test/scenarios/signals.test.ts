import { beforeEach, describe, expect, it } from 'vitest';
import { lostRace, uniqueViolation } from '../../src/store/conflicts.ts';
import { insertSignal, ownSignal } from '../../src/store/signals.ts';
import { createHarness, type Harness, signalBody, type TestAgency, validBsn } from '../support/harness.ts';

interface Problem { code: string; status: number; errors?: Array<{ path: string }> }
interface Signal { id: string; status: string; kind: string; reference: string | null; expiresAt: string; informed: { status: string; exemption?: string }; professional: { name: string } }

let h: Harness;
let school: TestAgency;
let gp: TestAgency;
let schoolToken: string;
let gpToken: string;

beforeEach(async () => {
  h = await createHarness();
  school = await h.agency('school');
  gp = await h.agency('gp');
  await h.agency('wij', { districts: ['selwerd'] });
  [schoolToken, gpToken] = await Promise.all([h.token(school), h.token(gp)]);
});

const register = (token: string, body: unknown, headers: Record<string, string> = {}) => h.call('POST', '/v1/signals', { token, body, headers });

async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as Problem;
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  return body;
}

describe('POST /v1/signals', () => {
  it('registers a signal and never echoes the BSN', async () => {
    const bsn = validBsn(1);
    const res = await register(schoolToken, signalBody(bsn, { reference: 'LVS-2026/0042' }));
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain(bsn);
    const signal = JSON.parse(text) as Signal;
    expect(signal.id).toMatch(/^sig_[0-9a-z]{26}$/);
    expect(signal.status).toBe('active');
    expect(signal.kind).toBe('concern'); // a school gives concerns (the policy's first kind for its type)
    expect(signal.reference).toBe('LVS-2026/0042');
    expect(signal.expiresAt).toBe('2028-03-02T09:00:00.000Z');
    expect(res.headers.get('location')).toBe(`/v1/signals/${signal.id}`);
  });

  it('answers 200 with the existing signal when the agency is already involved', async () => {
    const bsn = validBsn(2);
    const first = (await (await register(schoolToken, signalBody(bsn))).json()) as Signal;
    const again = await register(schoolToken, signalBody(bsn, { informed: { status: 'pending' } }));
    expect(again.status).toBe(200);
    expect(((await again.json()) as Signal).id).toBe(first.id);
  });

  it('ends the signal at 23 when that comes before the active period', async () => {
    const res = await register(gpToken, signalBody(validBsn(3), { birthDate: '2003-05-01' }));
    expect(res.status).toBe(201);
    expect(((await res.json()) as Signal).expiresAt).toBe('2026-05-01T00:00:00.000Z');
  });

  it('refuses a BSN that fails the 11-test, without echoing it', async () => {
    const res = await register(schoolToken, signalBody('123456789'));
    const text = JSON.stringify(await expectProblem(res, 422, 'invalid_bsn'));
    expect(text).not.toContain('123456789');
  });

  it('refuses a subject of 23 or older on the registration date', async () => {
    await expectProblem(await register(schoolToken, signalBody(validBsn(4), { birthDate: '2003-03-02' })), 422, 'subject_too_old');
    expect((await register(schoolToken, signalBody(validBsn(4), { birthDate: '2003-03-03' }))).status).toBe(201);
  });

  it('refuses a kind the policy does not allow the type', async () => {
    await expectProblem(await register(schoolToken, signalBody(validBsn(5), { kind: 'involvement' })), 422, 'kind_not_allowed');
    expect((await register(schoolToken, signalBody(validBsn(5), { kind: 'concern' }))).status).toBe(201);
    expect((await register(gpToken, signalBody(validBsn(5), { kind: 'concern' }))).status).toBe(201);
  });

  it('refuses a district no agency serves', async () => {
    await expectProblem(await register(schoolToken, signalBody(validBsn(6), { district: 'atlantis' })), 422, 'unknown_district');
  });

  it('refuses unknown fields: there is no place for free text', async () => {
    const res = await register(schoolToken, signalBody(validBsn(7), { note: 'vader drinkt' }));
    const problem = await expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.map((e) => e.path)).toContain('note');
    const nested = await register(schoolToken, signalBody(validBsn(7), { professional: { name: 'A', email: 'a@b.nl', remark: 'x' } }));
    await expectProblem(nested, 400, 'validation_failed');
    const prose = await register(schoolToken, signalBody(validBsn(7), { reference: 'zorgen over thuissituatie' }));
    await expectProblem(prose, 400, 'validation_failed');
  });

  it('refuses malformed bodies with field errors', async () => {
    for (const body of [
      {},
      signalBody(validBsn(8), { birthDate: '2012-02-30' }),
      signalBody(validBsn(8), { informed: { status: 'exempt' } }),
      signalBody(validBsn(8), { municipality: 'Groningen' }),
      signalBody(validBsn(8), { professional: { name: 'Nobody' } }),
    ]) {
      const res = await register(schoolToken, body);
      expect([400, 422]).toContain(res.status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    await expectProblem(await register(schoolToken, '{"bsn":'), 400, 'validation_failed');
  });

  it('refuses an agency type that may not register', async () => {
    const municipality = await h.agency('municipality');
    const token = await h.token(municipality);
    await expectProblem(await register(token, signalBody(validBsn(9))), 403, 'insufficient_scope');
  });

  it('refuses a token without signals:write', async () => {
    const readOnly = await h.token(school, 'signals:read');
    await expectProblem(await register(readOnly, signalBody(validBsn(10))), 403, 'insufficient_scope');
  });

  it('replays the answer for a repeated Idempotency-Key and refuses it for another body', async () => {
    const key = { 'idempotency-key': 'c0ffee-1' };
    const first = await register(schoolToken, signalBody(validBsn(11)), key);
    expect(first.status).toBe(201);
    const replay = await register(schoolToken, signalBody(validBsn(11)), key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as Signal).id).toBe(((await first.json()) as Signal).id);
    await expectProblem(await register(schoolToken, signalBody(validBsn(12)), key), 409, 'idempotency_key_reused');
    // Keys belong to one agency.
    expect((await register(gpToken, signalBody(validBsn(12)), key)).status).toBe(201);
  });

  it('makes one signal of registrations of one young person sent at once; the rest answer 200 with it', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => register(schoolToken, signalBody(validBsn(14)))));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as Signal).id));
    expect(new Set(ids).size).toBe(1);
    expect(await h.rows("select id from signals where agency_id = ? and status = 'active'", school.id)).toEqual([{ id: ids[0] }]);
  });

  it('has the database refuse a second active signal of the agency for the young person, named alike on either store', async () => {
    const id = ((await (await register(schoolToken, signalBody(validBsn(15)))).json()) as Signal).id;
    const row = (await h.store.transaction(async (tx) => ownSignal(tx, school.id, id)))!;
    // Written behind the use case's back, as a transaction that read no active signal would.
    const err = await h.store.transaction(async (tx) => insertSignal(tx, { ...row, id: `${id.slice(0, -1)}x` })).catch((e: unknown) => e);
    expect(uniqueViolation(err)).toBe('signals_one_active_per_agency');
    // On PostgreSQL a transaction that breaks it runs again and reads the winner; this one, which
    // reads nothing, keeps failing, and is thrown once its attempts are spent.
    expect(lostRace(err)).toBe(true);
    expect(await h.rows('select id from signals where agency_id = ?', school.id)).toEqual([{ id }]);
    // An ended signal leaves room for a new one.
    await h.store.transaction(async (tx) => insertSignal(tx, { ...row, id: `${id.slice(0, -1)}y`, status: 'ended' }));
    expect(await h.row('select count(*) n from signals where agency_id = ?', school.id)).toEqual({ n: 2 });
  });

  it('leaves nothing behind when a registration is refused', async () => {
    const count = async () => (await h.row<{ n: number }>('select (select count(*) from signals) + (select count(*) from subjects) n'))!;
    const before = (await count()).n;
    await register(schoolToken, signalBody(validBsn(13), { district: 'atlantis' }));
    expect((await count()).n).toBe(before);
  });
});

describe('GET /v1/signals and /v1/signals/{id}', () => {
  it("lists the caller's own signals, paged by cursor, and filters by status", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await (await register(schoolToken, signalBody(validBsn(100 + i)))).json()) as Signal).id);
    await register(gpToken, signalBody(validBsn(200)));
    await h.call('POST', `/v1/signals/${ids[0]}/withdraw`, { token: schoolToken, body: { reason: 'care_ended' } });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.call('GET', `/v1/signals?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: schoolToken });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: Signal[]; next: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(ids);

    const active = (await (await h.call('GET', '/v1/signals?status=active', { token: schoolToken })).json()) as { items: Signal[] };
    expect(active.items.map((s) => s.id)).toEqual(ids.slice(1));
    const ended = (await (await h.call('GET', '/v1/signals?status=ended', { token: schoolToken })).json()) as { items: Signal[] };
    expect(ended.items.map((s) => s.id)).toEqual([ids[0]]);
  });

  it('refuses a bad cursor, limit or status', async () => {
    await expectProblem(await h.call('GET', '/v1/signals?cursor=abc', { token: schoolToken }), 400, 'invalid_cursor');
    await expectProblem(await h.call('GET', '/v1/signals?limit=0', { token: schoolToken }), 400, 'validation_failed');
    await expectProblem(await h.call('GET', '/v1/signals?status=all', { token: schoolToken }), 400, 'validation_failed');
  });

  it("reads an own signal, and answers 404 for another agency's", async () => {
    const own = ((await (await register(schoolToken, signalBody(validBsn(20)))).json()) as Signal).id;
    const res = await h.call('GET', `/v1/signals/${own}`, { token: schoolToken });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Signal).professional.name).toBe('J. de Vries');
    await expectProblem(await h.call('GET', `/v1/signals/${own}`, { token: gpToken }), 404, 'signal_not_found');
    await expectProblem(await h.call('GET', '/v1/signals/sig_nonexistent', { token: schoolToken }), 404, 'signal_not_found');
  });

  it('needs signals:read', async () => {
    const token = await h.token(school, 'signals:write');
    await expectProblem(await h.call('GET', '/v1/signals', { token }), 403, 'insufficient_scope');
  });
});

describe('PATCH /v1/signals/{id}', () => {
  it('updates the informing duty, the professional and the reference', async () => {
    const id = ((await (await register(schoolToken, signalBody(validBsn(30), { informed: { status: 'pending' } }))).json()) as Signal).id;
    const res = await h.call('PATCH', `/v1/signals/${id}`, {
      token: schoolToken,
      body: { informed: { status: 'exempt', exemption: 'child_safety' }, professional: { name: 'A. Bakker', phone: '+31 50 765 4321' }, reference: 'LVS-7' },
    });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as Signal;
    expect(updated.informed).toEqual({ status: 'exempt', exemption: 'child_safety' });
    expect(updated.professional.name).toBe('A. Bakker');
    const reread = (await (await h.call('GET', `/v1/signals/${id}`, { token: schoolToken })).json()) as Signal;
    expect(reread.reference).toBe('LVS-7');
  });

  it('refuses an empty or unknown change, another agency, and an ended signal', async () => {
    const id = ((await (await register(schoolToken, signalBody(validBsn(31)))).json()) as Signal).id;
    await expectProblem(await h.call('PATCH', `/v1/signals/${id}`, { token: schoolToken, body: {} }), 400, 'validation_failed');
    await expectProblem(await h.call('PATCH', `/v1/signals/${id}`, { token: schoolToken, body: { status: 'ended' } }), 400, 'validation_failed');
    await expectProblem(await h.call('PATCH', `/v1/signals/${id}`, { token: gpToken, body: { reference: 'X' } }), 404, 'signal_not_found');
    await h.call('POST', `/v1/signals/${id}/withdraw`, { token: schoolToken, body: { reason: 'moved' } });
    await expectProblem(await h.call('PATCH', `/v1/signals/${id}`, { token: schoolToken, body: { reference: 'X' } }), 409, 'signal_not_active');
  });
});

describe('POST /v1/signals/{id}/withdraw', () => {
  it('ends the signal; a second withdrawal changes nothing; a new registration starts afresh', async () => {
    const bsn = validBsn(40);
    const id = ((await (await register(schoolToken, signalBody(bsn))).json()) as Signal).id;
    const res = await h.call('POST', `/v1/signals/${id}/withdraw`, { token: schoolToken, body: { reason: 'care_ended' } });
    expect(res.status).toBe(200);
    const ended = (await res.json()) as Signal & { endReason: string };
    expect(ended.status).toBe('ended');
    expect(ended.endReason).toBe('care_ended');
    const again = await h.call('POST', `/v1/signals/${id}/withdraw`, { token: schoolToken, body: { reason: 'other' } });
    expect(((await again.json()) as { endReason: string }).endReason).toBe('care_ended');
    const fresh = await register(schoolToken, signalBody(bsn));
    expect(fresh.status).toBe(201);
    expect(((await fresh.json()) as Signal).id).not.toBe(id);
  });

  it("refuses a bad reason and another agency's signal", async () => {
    const id = ((await (await register(schoolToken, signalBody(validBsn(41)))).json()) as Signal).id;
    await expectProblem(await h.call('POST', `/v1/signals/${id}/withdraw`, { token: schoolToken, body: { reason: 'because' } }), 400, 'validation_failed');
    await expectProblem(await h.call('POST', `/v1/signals/${id}/withdraw`, { token: gpToken, body: { reason: 'other' } }), 404, 'signal_not_found');
  });
});

describe('audit', () => {
  it('records every access with the acting professional', async () => {
    const id = ((await (await register(schoolToken, signalBody(validBsn(50)), { 'x-acting-professional': 'prf_mentor-17' })).json()) as Signal).id;
    await h.call('GET', `/v1/signals/${id}`, { token: schoolToken });
    const rows = await h.rows<Record<string, string>>('select action, actor, agency_id, subject, outcome from audit_log where resource = ? order by seq', id);
    expect(rows.map((r) => r.action)).toEqual(['signal.register', 'signal.read']);
    expect(rows[0]!.actor).toBe('prf_mentor-17');
    expect(rows[0]!.agency_id).toBe(school.id);
    expect(rows[0]!.subject).toBe(h.keys.pseudonymize(validBsn(50)));
  });
});

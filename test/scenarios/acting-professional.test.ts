import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';

/** A harness whose log lines are kept, to show that a refused value is not logged either. */
async function harnessWithLog() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const h = await createHarness({ logger: pino({ level: 'trace' }, stream) });
  return { h, log: () => lines.join('') };
}

/** Everything the audit table holds, as text. */
const auditText = async (h: Awaited<ReturnType<typeof createHarness>>) => JSON.stringify(await h.rows('select * from audit_log order by seq'));

const REFUSED: Array<[string, string]> = [
  ['a BSN', validBsn(31)],
  ['a BSN behind the prefix', `prf_${validBsn(32)}`],
  ['a BSN split by dashes', `prf_${validBsn(33).replace(/(\d{3})(\d{3})/, '$1-$2-')}`],
  ['eight digits', 'prf_x12345678'],
  ['an e-mail address', 'j.devries@obs-destarter.nl'],
  ['an e-mail address behind the prefix', 'prf_jdevries@school.nl'],
  ['a name', 'J. de Vries'],
  ['free text', 'prf_mentor of group 7'],
  ['upper case', 'PRF_MENTOR-17'],
  ['too short', 'prf_abc'],
  ['too long', `prf_${'a'.repeat(65)}`],
];

describe('X-Acting-Professional', () => {
  it.each(REFUSED)('refuses %s with 400 and keeps nothing of it', async (_what, value) => {
    const { h, log } = await harnessWithLog();
    await h.agency('wij', { districts: ['selwerd'] });
    const school = await h.agency('school');
    const token = await h.token(school);
    const audited = await auditText(h);
    const res = await h.call('POST', '/v1/signals', { token, body: signalBody(validBsn(30)), headers: { 'x-acting-professional': value } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await res.text();
    expect((JSON.parse(text) as { code: string }).code).toBe('invalid_acting_professional');
    expect(text).not.toContain(value);
    // Nothing was registered, nothing audited, nothing logged with the value.
    expect(await h.row('select count(*) n from signals')).toEqual({ n: 0 });
    expect(await auditText(h)).toBe(audited);
    expect(log()).not.toContain(value);
    // Reads are refused as well: the header is checked for every /v1 route.
    expect((await h.call('GET', '/v1/signals', { token, headers: { 'x-acting-professional': value } })).status).toBe(400);
    expect(await auditText(h)).not.toContain(value);
  });

  it('accepts an opaque reference and records it in the audit log', async () => {
    const h = await createHarness();
    await h.agency('wij', { districts: ['selwerd'] });
    const school = await h.agency('school');
    const token = await h.token(school);
    for (const ref of ['prf_mentor-17', 'prf_k7_team-2026', 'prf_0123456x']) {
      const res = await h.call('GET', '/v1/signals', { token, headers: { 'x-acting-professional': ref } });
      expect(res.status, ref).toBe(200);
    }
    expect((await h.call('POST', '/v1/signals', { token, body: signalBody(validBsn(34)), headers: { 'x-acting-professional': 'prf_mentor-17' } })).status).toBe(201);
    const actors = await h.rows("select actor from audit_log where action = 'signal.register'");
    expect(actors).toEqual([{ actor: 'prf_mentor-17' }]);
  });

  it('is documented on every /v1 operation as a header with its pattern', async () => {
    const h = await createHarness();
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ $ref?: string }>; responses: Record<string, unknown> }>>;
      components: { parameters: Record<string, { name: string; in: string; schema: { pattern: string } }> };
    };
    const param = doc.components.parameters.ActingProfessional!;
    expect(param).toMatchObject({ name: 'X-Acting-Professional', in: 'header' });
    const pattern = new RegExp(param.schema.pattern);
    expect(pattern.test('prf_mentor-17')).toBe(true);
    for (const [, value] of REFUSED) expect(pattern.test(value), value).toBe(false);
    // Every path is of the versioned API: the server URL ends in /v1.
    const v1 = Object.entries(doc.paths);
    expect(v1.length).toBeGreaterThan(5);
    for (const [p, ops] of v1) {
      for (const [m, op] of Object.entries(ops)) {
        expect(op.parameters, `${m} ${p}`).toContainEqual({ $ref: '#/components/parameters/ActingProfessional' });
        expect(Object.keys(op.responses), `${m} ${p}`).toContain('400');
      }
    }
  });
});

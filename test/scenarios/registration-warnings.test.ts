import { describe, expect, it } from 'vitest';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';

type Warning = { code: string; title: string; detail: string; field: string };
type Answer = { id: string; kind: string; district: string | null; professional: { name: string }; warnings?: Warning[] };

async function world() {
  const h = await createHarness();
  const school = await h.agency('school');
  await h.agency('wij', { districts: ['selwerd', 'paddepoel'] });
  const token = await h.token(school);
  const register = async (body: unknown) => {
    const res = await h.call('POST', '/v1/signals', { token, body });
    return { status: res.status, body: (await res.json()) as Answer };
  };
  return { h, token, register };
}

describe('registering again with other details', () => {
  it('names parents that differ from those the signal was registered with (and not the same ones in another order)', async () => {
    const { h, token, register } = await world();
    const a = { bsn: validBsn(901) };
    const b = { bsn: validBsn(902) };
    expect((await register(signalBody(validBsn(8), { parents: [a, b] }))).status).toBe(201);
    expect((await register(signalBody(validBsn(8), { parents: [b, a] }))).body.warnings).toBeUndefined();
    expect((await register(signalBody(validBsn(8)))).body.warnings).toBeUndefined();
    const other = await register(signalBody(validBsn(8), { parents: [a] }));
    expect(other.status).toBe(200);
    expect(other.body.warnings!.map((w) => w.field)).toEqual(['parents']);
    expect(JSON.stringify(other.body)).not.toContain(a.bsn);
    // A retried request answers what the first one did, the parents' warning included.
    const retry = async () => {
      const res = await h.call('POST', '/v1/signals', { token, body: signalBody(validBsn(8), { parents: [a] }), headers: { 'idempotency-key': 'parents-retry' } });
      return (await res.json()) as Answer;
    };
    const first = await retry();
    expect(first.warnings!.map((w) => w.field)).toEqual(['parents']);
    expect((await retry()).warnings).toEqual(first.warnings);
  });

  it('answers 200 with the unchanged signal and a warning for each detail not applied', async () => {
    const { h, token, register } = await world();
    const first = await register(signalBody(validBsn(7)));
    expect(first.status).toBe(201);
    expect(first.body.warnings).toBeUndefined();

    const again = await register(
      signalBody(validBsn(7), { district: 'paddepoel', professional: { name: 'A. Bakker', email: 'a.bakker@example.nl' }, informed: { status: 'pending' } }),
    );
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.district).toBe('selwerd');
    expect(again.body.professional.name).toBe('J. de Vries');
    const warnings = again.body.warnings!;
    expect(warnings.map((w) => w.field).sort()).toEqual(['district', 'informed', 'professional']);
    for (const w of warnings) {
      expect(w.code).toBe('detail_not_applied');
      expect(w.title).toEqual(expect.any(String));
      expect(w.detail).toContain(w.field);
    }
    expect(warnings.find((w) => w.field === 'professional')!.detail).toContain(`PATCH /v1/signals/${first.body.id}`);
    expect(warnings.find((w) => w.field === 'district')!.detail).toContain('withdraw');

    // Nothing was changed: the stored signal still has the first details.
    const stored = (await (await h.call('GET', `/v1/signals/${first.body.id}`, { token })).json()) as Answer;
    expect(stored.district).toBe('selwerd');
    expect(stored.professional.name).toBe('J. de Vries');
  });

  it('the same details again answer 200 without warnings', async () => {
    const { register } = await world();
    expect((await register(signalBody(validBsn(8)))).status).toBe(201);
    const again = await register(signalBody(validBsn(8)));
    expect(again.status).toBe(200);
    expect(again.body.warnings).toBeUndefined();
  });

  it('documents the warnings in the OpenAPI document', async () => {
    const { h } = await world();
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as { components: { schemas: Record<string, unknown> } };
    expect(doc.components.schemas).toHaveProperty('RegistrationWarning');
    expect(doc.components.schemas).toHaveProperty('RegisteredSignal');
  });
});

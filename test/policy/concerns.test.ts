import { describe, expect, it } from 'vitest';
import type { NoticeView } from '../../src/app/notice-schemas.ts';
import { createHarness } from '../support/harness.ts';
import { World } from '../support/world.ts';

/** Concern signals under the Groningen policy: the kind travels with contact disclosure only. */
describe('the kind of a signal, as the notices show it', () => {
  const parties = async (w: World, label: string) =>
    (await w.inbox(label)).at(-1)!.parties.map((p: NoticeView['parties'][number]) =>
      p.view === 'contact' ? { who: w.label.get(p.agency.id), kind: p.kind } : { type: p.agencyType, ...('kind' in p ? { kind: p.kind } : {}) });

  it('a GP and a school see whether the other is involved or concerned', async () => {
    const w = await World.create();
    await w.step('+school'); // "de school maakt zich zorgen"
    await w.step('+gp'); // "de huisarts is betrokken"
    expect(await parties(w, 'school')).toEqual([{ who: 'gp', kind: 'involvement' }]);
    expect(await parties(w, 'gp')).toEqual([{ who: 'school', kind: 'concern' }]);
    expect(await parties(w, 'wij')).toEqual(expect.arrayContaining([{ who: 'school', kind: 'concern' }, { who: 'gp', kind: 'involvement' }]));
  });

  it('a GP that gives a concern is shown as concerned', async () => {
    const w = await World.create();
    await w.register('gp', 1, { kind: 'concern' });
    await w.step('+jgz');
    expect(await parties(w, 'jgz')).toEqual([{ who: 'gp', kind: 'concern' }]);
  });

  it('where only the type is shown, so is no kind', async () => {
    const w = await World.create();
    await w.step('+school');
    await w.step('+yc');
    expect(await parties(w, 'school')).toEqual([{ type: 'youth_care' }]);
    expect(await parties(w, 'yc')).toEqual([{ who: 'school', kind: 'concern' }]);
  });
});

describe('the published document names the new fields (no drift)', () => {
  it('parents at registration, the kind beside a contact, family_match notices, match kind and related, family matches in the answer', async () => {
    const h = await createHarness();
    const doc = JSON.stringify(await (await h.call('GET', '/openapi.json')).json());
    const schemas = (JSON.parse(doc) as { components: { schemas: Record<string, { properties?: Record<string, unknown>; oneOf?: unknown[] }> } }).components.schemas;
    expect(Object.keys(schemas.RegisterSignal!.properties!)).toEqual(expect.arrayContaining(['kind', 'parents']));
    expect(JSON.stringify(schemas.Party)).toContain('"kind"');
    for (const t of ['family_match.created', 'family_match.party_added', 'family_match.party_left', 'family_match.closed']) expect(JSON.stringify(schemas.Notice)).toContain(t);
    expect(Object.keys(schemas.Match!.properties!)).toEqual(expect.arrayContaining(['kind', 'related']));
    expect(Object.keys(schemas.SubjectAccessReport!.properties!)).toEqual(expect.arrayContaining(['familyMatches']));
  });
});

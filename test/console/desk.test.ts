import { describe, expect, it } from 'vitest';
import { agencyActor } from '../../src/app/context.ts';
import { NOTICE_TYPES } from '../../src/app/notice-schemas.ts';
import { countUnreadNotices } from '../../src/app/unread-notices.ts';
import { CATALOGS } from '../../src/console/i18n/index.ts';
import { createHarness, type Harness, signalBody, type TestAgency, validBsn } from '../support/harness.ts';
import { type ConsoleUser, consoleRequest, signedInProfessional } from './support.ts';

/** Mijn meldingen and Berichten over HTTP, as a browser without JavaScript uses them. */

const auditRows = (h: Harness) =>
  h.rows<{
    agencyId: string | null; actor: string | null; action: string; resource: string | null; outcome: string;
  }>('select agency_id as "agencyId", actor, action, resource, outcome from audit_log order by seq');

async function world() {
  const h = await createHarness();
  const wij = await h.agency('wij', { name: 'WIJ Selwerd', districts: ['selwerd'] });
  const school = await h.agency('school', { name: 'Noorderpoort' });
  const gp = await h.agency('gp', { name: 'Huisartsenpraktijk Selwerd' });
  const vt = await h.agency('veilig_thuis', { name: 'Veilig Thuis Groningen' });
  return { h, wij, school, gp, vt };
}

/** A registration through the API, as an agency's own system makes it. */
async function register(h: Harness, agency: TestAgency, bsn: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call('POST', '/v1/signals', { token: await h.token(agency), body: signalBody(bsn, extra) });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** The registration form as a browser posts it. */
const reportForm = (bsn: string, over: Record<string, string> = {}) => ({
  bsn, birthDate: '01-05-2014', municipality: '0014', district: '0014:selwerd', kind: 'concern', name: 'Jet de Vries', phone: '050-5550123', email: 'j.devries@noorderpoort.nl', informed: 'pending', ...over,
});

async function page(h: Harness, user: ConsoleUser, path: string): Promise<{ status: number; html: string }> {
  const res = await consoleRequest(h, 'GET', path, { user });
  return { status: res.status, html: await res.text() };
}

/** The visible text of a page, roughly: inline tags out, other tags as spaces, the catalog's entities decoded. */
const textOf = (html: string) => html.replace(/<\/?(a|strong|span)\b[^>]*>/g, '').replace(/<[^>]+>/g, ' ').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');

describe('Mijn meldingen', () => {
  it('lists the agency\'s own signals with kind, expiry in Dutch and the informing state, never a BSN', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school, ['registrant']);
    const bsn = validBsn(101);
    const res = await consoleRequest(h, 'POST', '/console/melden', { user, form: reportForm(bsn, { reference: 'LLN-2041' }) });
    expect(res.status).toBe(303);
    const { status, html } = await page(h, user, '/console/meldingen');
    expect(status).toBe(200);
    const text = textOf(html);
    expect(text).toContain('Zorgsignaal, dossier LLN-2041');
    expect(text).toContain('Loopt af op 2 maart 2028'); // two years after 2 March 2026, nl-NL
    expect(text).toContain('Nog niet geïnformeerd');
    expect(text).toContain('Selwerd');
    expect(html).not.toContain(bsn);
    // Another school's signal is not on the page.
    const other = await h.agency('school', { name: 'Praedinius' });
    await register(h, other, validBsn(102), { reference: 'PRAE-1' });
    expect((await page(h, user, '/console/meldingen')).html).not.toContain('PRAE-1');
  });

  // More than a page of registrations: seconds on PostgreSQL on a busy machine.
  it('filters active and ended signals and pages with the API\'s cursor', { timeout: 30_000 }, async () => {
    const { h, gp } = await world();
    const user = await signedInProfessional(h, gp, ['registrant']);
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) ids.push(await register(h, gp, validBsn(200 + i), { reference: `HA-${String(i).padStart(2, '0')}` }));
    const ended = ids[0]!;
    await consoleRequest(h, 'POST', `/console/meldingen/${ended}/intrekken`, { user, form: { reason: 'care_ended', bevestigd: 'ja' } });

    const first = await page(h, user, '/console/meldingen');
    expect(first.html).not.toContain('HA-00');
    expect(first.html).toContain('HA-01');
    expect(first.html).toContain('HA-20');
    expect(first.html).not.toContain('HA-21');
    const next = /href="(\/console\/meldingen\?status=active&amp;cursor=[^"]+)"/.exec(first.html)![1]!.replace(/&amp;/g, '&');
    const second = await page(h, user, next);
    expect(second.html).toContain('HA-21');
    expect(second.html).not.toContain('HA-20');
    expect(second.html).toContain('Naar de eerste pagina');

    const endedPage = await page(h, user, '/console/meldingen?status=ended');
    expect(endedPage.html).toContain('HA-00');
    expect(textOf(endedPage.html)).toContain('Beëindigd (onze zorg of betrokkenheid is beëindigd)');
    expect(endedPage.html).not.toContain('HA-01');
    expect((await page(h, user, '/console/meldingen?status=all')).html).toContain('HA-00');

    // A cursor this service did not give out starts over, with a warning.
    const bad = await page(h, user, '/console/meldingen?cursor=bm90LWEtY3Vyc29y');
    expect(bad.status).toBe(200);
    expect(bad.html).toContain('Deze paginalink klopt niet meer');
  });

  it('withdraws a signal after a reason and a confirmation; the error stands beside its field', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school, ['registrant']);
    const id = await register(h, school, validBsn(301), { kind: 'concern', reference: 'W-1' });

    const missing = await consoleRequest(h, 'POST', `/console/meldingen/${id}/intrekken`, { user, form: {} });
    expect(missing.status).toBe(422);
    const missingHtml = await missing.text();
    expect(missingHtml).toMatch(/<div class="utrecht-form-field-error-message" id="veld-reason-fout">Kies een reden om de melding in te trekken.<\/div>/);
    expect(missingHtml).toContain('aria-describedby="veld-reason-fout"');

    const confirm = await consoleRequest(h, 'POST', `/console/meldingen/${id}/intrekken`, { user, form: { reason: 'moved' } });
    expect(confirm.status).toBe(200);
    const confirmText = textOf(await confirm.text());
    expect(confirmText).toContain('Melding intrekken?');
    expect(confirmText).toContain('Reden: de jongere is verhuisd');
    expect((await auditRows(h)).filter((r) => r.action === 'signal.withdraw')).toEqual([]); // nothing happened yet

    const done = await consoleRequest(h, 'POST', `/console/meldingen/${id}/intrekken`, { user, form: { reason: 'moved', bevestigd: 'ja' } });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`/console/meldingen/${id}?gedaan=ingetrokken`);
    const after = await page(h, user, done.headers.get('location')!);
    expect(textOf(after.html)).toContain('De melding is ingetrokken.');
    expect(textOf(after.html)).toContain('Beëindigd (de jongere is verhuisd)');
    expect(after.html).not.toContain(`/console/meldingen/${id}/intrekken`); // no forms on an ended signal
    expect((await auditRows(h)).filter((r) => r.action === 'signal.withdraw')).toEqual([
      { agencyId: school.id, actor: user.professionalId, action: 'signal.withdraw', resource: id, outcome: 'ok' },
    ]);
  });

  it('updates the informing state with the policy\'s exemptions, and refuses it on an ended signal', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school, ['registrant']);
    const id = await register(h, school, validBsn(401), { kind: 'concern', informed: { status: 'pending' } });

    const detail = await page(h, user, `/console/meldingen/${id}`);
    for (const e of h.policy.informing.exemptions) expect(detail.html).toContain(`id="exemption-${e}"`);

    const noReason = await consoleRequest(h, 'POST', `/console/meldingen/${id}/informeren`, { user, form: { informed: 'exempt' } });
    expect(noReason.status).toBe(422);
    expect(await noReason.text()).toContain('<div class="utrecht-form-field-error-message" id="veld-exemption-fout">Kies waarom u het niet vertelt.</div>');
    const nothing = await consoleRequest(h, 'POST', `/console/meldingen/${id}/informeren`, { user, form: {} });
    expect(nothing.status).toBe(422);
    expect(await nothing.text()).toContain('id="veld-informed-fout"');

    const ok = await consoleRequest(h, 'POST', `/console/meldingen/${id}/informeren`, { user, form: { informed: 'exempt', exemption: 'child_safety' } });
    expect(ok.status).toBe(303);
    const shown = textOf((await page(h, user, `/console/meldingen/${id}?gedaan=informeren`)).html);
    expect(shown).toContain('Het informeren is bijgewerkt.');
    expect(shown).toContain('Niet geïnformeerd, omdat het vertellen de veiligheid van de jongere in gevaar brengt');
    const api = await h.call('GET', `/v1/signals/${id}`, { token: await h.token(school) });
    expect(((await api.json()) as { informed: unknown }).informed).toEqual({ status: 'exempt', exemption: 'child_safety' });
    expect((await auditRows(h)).filter((r) => r.action === 'signal.update').map((r) => r.actor)).toEqual([user.professionalId]);

    await consoleRequest(h, 'POST', `/console/meldingen/${id}/intrekken`, { user, form: { reason: 'other', bevestigd: 'ja' } });
    const late = await consoleRequest(h, 'POST', `/console/meldingen/${id}/informeren`, { user, form: { informed: 'informed' } });
    expect(late.status).toBe(409);
    expect(await late.text()).toContain('Deze melding is al beëindigd');
  });

  it('shows a pending informing duty as overdue after the policy\'s days', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school, ['registrant']);
    const id = await register(h, school, validBsn(451), { kind: 'concern', informed: { status: 'pending' } });
    expect((await page(h, user, `/console/meldingen/${id}`)).html).not.toContain('had binnen');
    h.clock.advanceDays(h.policy.informing.overdueDays + 1);
    const again = await signedInProfessional(h, school, ['registrant'], 'Kees'); // the first session went idle
    expect(textOf((await page(h, again, `/console/meldingen/${id}`)).html)).toContain(`Dit had binnen ${h.policy.informing.overdueDays} dagen na de melding moeten gebeuren.`);
  });

  it('answers 404 for another agency\'s signal, on every page and form, and refuses a POST without the CSRF token', async () => {
    const { h, school, gp } = await world();
    const user = await signedInProfessional(h, school, ['registrant']);
    const theirs = await register(h, gp, validBsn(501));
    expect((await page(h, user, `/console/meldingen/${theirs}`)).status).toBe(404);
    expect((await consoleRequest(h, 'POST', `/console/meldingen/${theirs}/informeren`, { user, form: { informed: 'informed' } })).status).toBe(404);
    expect((await consoleRequest(h, 'POST', `/console/meldingen/${theirs}/intrekken`, { user, form: { reason: 'moved' } })).status).toBe(404);
    expect((await consoleRequest(h, 'POST', `/console/meldingen/${theirs}/intrekken`, { user, form: { reason: 'moved', bevestigd: 'ja' } })).status).toBe(404);
    expect((await consoleRequest(h, 'POST', `/console/meldingen/${theirs}/intrekken`, { user, form: {} })).status).toBe(404);
    expect((await page(h, user, '/console/meldingen/sig_00000000000000000000000000')).status).toBe(404);
    const api = await h.call('GET', `/v1/signals/${theirs}`, { token: await h.token(gp) });
    expect(((await api.json()) as { status: string }).status).toBe('active');

    const mine = await register(h, school, validBsn(502), { kind: 'concern' });
    const refused = await consoleRequest(h, 'POST', `/console/meldingen/${mine}/intrekken`, { user, form: { reason: 'moved', bevestigd: 'ja' }, csrf: null });
    expect(refused.status).toBe(403);
    expect((await auditRows(h)).filter((r) => r.action === 'signal.withdraw')).toEqual([]);
  });

  it('lets a professional without the registrant role neither read nor change signals', async () => {
    const { h, school } = await world();
    const admin = await signedInProfessional(h, school, ['admin']);
    const id = await register(h, school, validBsn(601), { kind: 'concern' });
    const list = await page(h, admin, '/console/meldingen');
    expect(list.status).toBe(200);
    expect(list.html).toContain('U heeft niet de rol Melder');
    expect((await page(h, admin, `/console/meldingen/${id}`)).status).toBe(403);
    expect((await consoleRequest(h, 'POST', `/console/meldingen/${id}/intrekken`, { user: admin, form: { reason: 'moved', bevestigd: 'ja' } })).status).toBe(403);
  });
});

describe('Berichten', () => {
  it('shows the school who else is involved and how to reach them, with an unread count on every page, until acknowledged', async () => {
    const { h, school, gp } = await world();
    const jet = await signedInProfessional(h, school, ['registrant'], 'Jet de Vries');
    const koops = await signedInProfessional(h, gp, ['registrant'], 'Dr. Koops');
    const bsn = validBsn(701);
    expect((await consoleRequest(h, 'POST', '/console/melden', { user: jet, form: reportForm(bsn, { reference: 'NP-7' }) })).status).toBe(303);
    expect((await page(h, jet, '/console/melden')).html).not.toContain('bk-count');
    await register(h, gp, bsn, { kind: 'involvement', professional: { name: 'Dr. A. Koops', phone: '050-5559876', email: 'koops@hapselwerd.nl' } });

    for (const path of ['/console/melden', '/console/meldingen', '/console/account', '/console/berichten']) {
      const { html } = await page(h, jet, path);
      expect(html, path).toContain('<span class="bk-count" aria-hidden="true">1</span><span class="bk-visually-hidden"> (1 ongelezen bericht)</span>');
    }
    const inbox = await page(h, jet, '/console/berichten');
    const text = textOf(inbox.html);
    expect(text).toContain('Een andere organisatie is ook betrokken bij een jongere die u heeft gemeld.');
    expect(text).toContain('Ook betrokken: Huisartsenpraktijk Selwerd is betrokken — Dr. A. Koops, 050-5559876, koops@hapselwerd.nl (sinds 2 maart 2026)');
    expect(text).toContain('Regie: WIJ Selwerd (nog niet opgepakt)');
    expect(text).toContain('Uw melding: dossier NP-7');
    expect(inbox.html).toContain('href="tel:0505559876"');
    expect(inbox.html).not.toContain(bsn);

    // The GP reads the school's concern.
    const gpText = textOf((await page(h, koops, '/console/berichten')).html);
    expect(gpText).toContain('Ook betrokken: Noorderpoort maakt zich zorgen — Jet de Vries, 050-5550123, j.devries@noorderpoort.nl');

    const id = /action="\/console\/berichten\/(ntc_[0-9a-z]+)\/gelezen"/.exec(inbox.html)![1]!;
    const refused = await consoleRequest(h, 'POST', `/console/berichten/${id}/gelezen`, { user: jet, csrf: null });
    expect(refused.status).toBe(403);
    const ack = await consoleRequest(h, 'POST', `/console/berichten/${id}/gelezen`, { user: jet });
    expect(ack.status).toBe(303);
    const read = await page(h, jet, ack.headers.get('location')!);
    expect(read.html).not.toContain('bk-count');
    const readText = textOf(read.html);
    expect(readText).toContain('Het bericht is gemarkeerd als gelezen.');
    expect(readText).toContain('U heeft geen nieuwe berichten.');
    expect(readText).toMatch(/Gelezen Een andere organisatie is ook betrokken .* Gelezen op: 2 maart 2026/);
    expect(read.html).not.toContain(`/console/berichten/${id}/gelezen`);
    expect((await auditRows(h)).filter((r) => r.action === 'notice.ack')).toEqual([{ agencyId: school.id, actor: jet.professionalId, action: 'notice.ack', resource: id, outcome: 'ok' }]);
    // The GP's notice is the GP's to acknowledge: the school's professional gets 404 for it.
    const gpNotice = /action="\/console\/berichten\/(ntc_[0-9a-z]+)\/gelezen"/.exec((await page(h, koops, '/console/berichten')).html)![1]!;
    expect((await consoleRequest(h, 'POST', `/console/berichten/${gpNotice}/gelezen`, { user: jet })).status).toBe(404);
  });

  it('never names Veilig Thuis on any school page when it registers too; the GP sees it', async () => {
    const { h, school, gp, vt } = await world();
    const jet = await signedInProfessional(h, school, ['registrant', 'admin'], 'Jet de Vries');
    const koops = await signedInProfessional(h, gp, ['registrant'], 'Dr. Koops');
    const bsn = validBsn(801);
    await consoleRequest(h, 'POST', '/console/melden', { user: jet, form: reportForm(bsn) });
    await register(h, gp, bsn, { kind: 'involvement' });
    await register(h, vt, bsn, { kind: 'involvement', professional: { name: 'M. Bos', phone: '050-5551111' } });
    const signalId = /href="\/console\/meldingen\/(sig_[0-9a-z]+)"/.exec((await page(h, jet, '/console/meldingen')).html)![1]!;
    for (const path of ['/console/melden', '/console/meldingen', '/console/meldingen?status=all', `/console/meldingen/${signalId}`, '/console/berichten', '/console/account', '/console/medewerkers']) {
      const { status, html } = await page(h, jet, path);
      expect(status, path).toBe(200);
      for (const word of ['Veilig Thuis', 'veilig_thuis', 'veilig-thuis', vt.id, 'M. Bos', '050-5551111']) expect(html.toLowerCase(), `${path} names ${word}`).not.toContain(word.toLowerCase());
    }
    const gpText = textOf((await page(h, koops, '/console/berichten')).html);
    expect(gpText).toContain('Veilig Thuis Groningen is betrokken — M. Bos, 050-5551111');
  });

  it('puts unread notices first and pages each part with the API\'s cursor', { timeout: 30_000 }, async () => {
    const { h, school, gp } = await world();
    const jet = await signedInProfessional(h, school, ['registrant']);
    for (let i = 0; i < 23; i++) {
      const bsn = validBsn(900 + i);
      await register(h, school, bsn, { kind: 'concern', reference: `S-${String(i).padStart(2, '0')}` });
      await register(h, gp, bsn, { kind: 'involvement' });
    }
    const all = await h.call('GET', '/v1/notices?limit=200', { token: await h.token(school) });
    const notices = ((await all.json()) as { items: Array<{ id: string; reference: string }> }).items;
    expect(notices).toHaveLength(23);
    // The oldest two are read: they come after every unread one.
    for (const n of notices.slice(0, 2)) await consoleRequest(h, 'POST', `/console/berichten/${n.id}/gelezen`, { user: jet });
    const first = await page(h, jet, '/console/berichten');
    expect(first.html).toContain('<span class="bk-count" aria-hidden="true">21</span>');
    const order = [...first.html.matchAll(/dossier (S-\d\d)/g)].map((m) => m[1]);
    expect(order).toEqual([...Array.from({ length: 20 }, (_, i) => `S-${String(i + 2).padStart(2, '0')}`), 'S-00', 'S-01']);
    const more = /href="(\/console\/berichten\?nieuw=[^"]+)"/.exec(first.html)![1]!.replace(/&amp;/g, '&');
    const second = await page(h, jet, more);
    expect([...second.html.matchAll(/dossier (S-\d\d)/g)].map((m) => m[1])).toEqual(['S-22', 'S-00', 'S-01']);
    const bad = await page(h, jet, '/console/berichten?nieuw=eHl6');
    expect(bad.html).toContain('Deze paginalink klopt niet meer');
  });

  it('counts only the agency\'s own unacknowledged notices, needs notices:read, and writes no audit record', async () => {
    const { h, school, gp, wij } = await world();
    const jet = await signedInProfessional(h, school, ['registrant']);
    const bsn = validBsn(1001);
    await register(h, school, bsn, { kind: 'concern' });
    await register(h, gp, bsn, { kind: 'involvement' });
    const actor = (agency: TestAgency, scopes: string[]) => agencyActor({ agencyId: agency.id, agencyType: agency.type as 'school', scopes: new Set(scopes) as never, professional: null });
    const other = await h.agency('school', { name: 'Praedinius' });
    const before = (await auditRows(h)).length;
    expect(await countUnreadNotices({ ctx: { deps: h.deps, actor: actor(school, ['notices:read']), requestId: null } })).toBe(1);
    expect(await countUnreadNotices({ ctx: { deps: h.deps, actor: actor(gp, ['notices:read']), requestId: null } })).toBe(1);
    expect(await countUnreadNotices({ ctx: { deps: h.deps, actor: actor(wij, ['notices:read']), requestId: null } })).toBe(1);
    expect(await countUnreadNotices({ ctx: { deps: h.deps, actor: actor(other, ['notices:read']), requestId: null } })).toBe(0);
    expect((await auditRows(h)).length).toBe(before);
    await expect(countUnreadNotices({ ctx: { deps: h.deps, actor: actor(school, ['signals:read']), requestId: null } })).rejects.toThrow(/notices:read/);
    // A professional without notices:read sees no count and no inbox.
    const admin = await signedInProfessional(h, school, ['admin']);
    const adminInbox = await page(h, admin, '/console/berichten');
    expect(adminInbox.html).not.toContain('bk-count');
    expect(adminInbox.html).toContain('U heeft niet de rol Melder of Coördinator');
    expect((await page(h, jet, '/console/melden')).html).toContain('<span class="bk-count" aria-hidden="true">1</span>');
  });

  it('follows a match to its case table: the coordinator\'s contact once claimed, the date, who attended; the school never sees Veilig Thuis there', async () => {
    const { h, wij, school, gp, vt } = await world();
    const jet = await signedInProfessional(h, school, ['registrant'], 'Jet de Vries');
    const koops = await signedInProfessional(h, gp, ['registrant'], 'Dr. Koops');
    const wijUser = await signedInProfessional(h, wij, ['coordinator'], 'Sanne Mulder');
    const bsn = validBsn(1101);
    await register(h, school, bsn, { kind: 'concern', reference: 'NP-11' });
    await register(h, gp, bsn, { kind: 'involvement', professional: { name: 'Dr. A. Koops', phone: '050-5559876' } });
    await register(h, vt, bsn, { kind: 'involvement', professional: { name: 'M. Bos', phone: '050-5551111' } });

    // The coordinator's inbox: everyone involved, with contact details (policy: coordinator sees all).
    const wijText = textOf((await page(h, wijUser, '/console/berichten')).html);
    expect(wijText).toContain('U heeft de regie gekregen over een jongere bij wie meerdere organisaties betrokken zijn.');
    expect(wijText).toContain('Betrokken: Noorderpoort maakt zich zorgen — J. de Vries, 050 123 4567');
    expect(wijText).toContain('Veilig Thuis Groningen is betrokken — M. Bos, 050-5551111');

    const token = await h.token(wij, 'matches:coordinate');
    const matches = (await (await h.call('GET', '/v1/matches?status=open', { token })).json()) as { items: Array<{ id: string }> };
    const matchId = matches.items[0]!.id;
    expect((await h.call('POST', `/v1/matches/${matchId}/claim`, { token, body: { coordinator: { name: 'Sanne Mulder', phone: '050-5554444' } } })).status).toBe(200);
    const table = (await (await h.call('POST', `/v1/matches/${matchId}/case-tables`, { token, body: { scheduledFor: '2026-03-10T14:00:00+01:00' } })).json()) as { id: string };
    const outcome = await h.call('POST', `/v1/case-tables/${table.id}/outcome`, {
      token, body: { held: true, attendedBy: [school.id, gp.id, vt.id, wij.id], leadAgencyId: vt.id, nextReviewOn: '2026-06-01' },
    });
    expect(outcome.status).toBe(200);

    const schoolPage = await page(h, jet, '/console/berichten');
    const schoolText = textOf(schoolPage.html);
    expect(schoolText).toContain('De regisseur heeft de regie opgepakt en neemt contact met de betrokkenen op.');
    expect(schoolText).toContain('Regie: WIJ Selwerd — Sanne Mulder, 050-5554444');
    expect(schoolText).toContain('Er is een casusoverleg over deze jongere gepland.');
    expect(schoolText).toContain('Gepland op 10 maart 2026 om 14:00');
    expect(schoolText).toContain('De uitkomst van het casusoverleg over deze jongere is vastgelegd.');
    expect(schoolText).toContain('Gehouden ja');
    expect(schoolText).toContain('Aanwezig Noorderpoort, Huisartsenpraktijk Selwerd, WIJ Selwerd');
    expect(schoolText).toContain('Volgende evaluatie 1 juni 2026');
    expect(schoolText).not.toContain('Eerstverantwoordelijke'); // the lead is Veilig Thuis, whom the school may not see
    for (const word of ['veilig thuis', 'veilig_thuis', vt.id.toLowerCase(), 'm. bos']) expect(schoolPage.html.toLowerCase()).not.toContain(word);
    const gpText = textOf((await page(h, koops, '/console/berichten')).html);
    expect(gpText).toContain('Eerstverantwoordelijke Veilig Thuis Groningen');
    expect(gpText).toMatch(/Aanwezig (Noorderpoort|Veilig Thuis Groningen|Huisartsenpraktijk Selwerd|WIJ Selwerd)(, (Noorderpoort|Veilig Thuis Groningen|Huisartsenpraktijk Selwerd|WIJ Selwerd)){3}/);
  });

  it('speaks English when the professional chose it', async () => {
    const { h, school, gp } = await world();
    const jet = await signedInProfessional(h, school, ['registrant']);
    const english = { ...jet, cookie: `${jet.cookie}; __Host-betrokken-taal=en` };
    const bsn = validBsn(1201);
    await register(h, school, bsn, { kind: 'concern', reference: 'NP-12' });
    await register(h, gp, bsn, { kind: 'involvement', professional: { name: 'Dr. A. Koops', phone: '050-5559876' } });
    const inbox = await page(h, english, '/console/berichten');
    expect(inbox.html).toMatch(/^<!DOCTYPE html><html lang="en">/);
    const text = textOf(inbox.html);
    expect(text).toContain('Another organisation is also involved with a young person you registered.');
    expect(text).toContain('Also involved: Huisartsenpraktijk Selwerd is involved — Dr. A. Koops, 050-5559876 (since 2 March 2026)');
    expect(text).toContain('Coordinator: WIJ Selwerd (not yet taken up)');
    expect(inbox.html).toContain('(1 unread message)');
    const list = textOf((await page(h, english, '/console/meldingen')).html);
    expect(list).toContain('Concern, case NP-12');
    expect(list).toContain('Expires on 2 March 2028');
  });

  it('has a Dutch and an English sentence for every notice type', () => {
    for (const type of NOTICE_TYPES) {
      const nl = CATALOGS.nl.inbox.sentences[type];
      const en = CATALOGS.en.inbox.sentences[type];
      expect(nl, type).toMatch(/^[A-Z].{20,}\.$/);
      expect(en, type).toMatch(/^[A-Z].{20,}\.$/);
      expect(en).not.toBe(nl);
    }
    expect(new Set(Object.values(CATALOGS.nl.inbox.sentences)).size).toBe(NOTICE_TYPES.length);
  });
});

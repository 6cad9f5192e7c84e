import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { configureAgencyOidc, DiscoveryCache } from '../../src/console/oidc.ts';
import { OIDC_CALLBACK_PATH } from '../../src/console/oidc-signin.tsx';
import { inviteProfessional } from '../../src/console/professionals.ts';
import { type TestAgency, validBsn } from '../support/harness.ts';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.ts';
import { arrivedAt, browserSuite, personWithPasskeys } from './browser.ts';

/**
 * The registrant's desk in Chromium, as issue 16's "What must show" tells it: an administrator's
 * invitation, a school professional who enrols a passkey, signs in and flags a concern, a GP who
 * registers the same young person, both inboxes showing the other with contact details, both
 * acknowledging, and the audit log naming both professionals. Then the same with Veilig Thuis
 * registering too: no school page names it. Every page of the desk is checked with axe (WCAG 2.1 A
 * and AA) and at 375 px, and photographed in Dutch. The GP signs in through the practice's own
 * OpenID provider (a real oidc-provider on loopback), not with a passkey.
 */
describe('the registrant\'s desk in Chromium', () => {
  // The practice's provider is on plain http at a loopback address, which only tests allow.
  const suite = browserSuite({ console: { oidc: { allowInsecureRequests: true, discoveryCache: new DiscoveryCache() } } });
  const { check, expectAccessible } = suite;
  const requests: string[] = [];

  /** A person opens their invitation link on their own device, enrols a passkey and lands on Melden. */
  async function enrol(link: string) {
    const person = await personWithPasskeys(suite.browser);
    await person.page.goto(link);
    await person.page.getByRole('button', { name: 'Passkey aanmaken' }).click();
    await person.page.waitForURL(`${suite.service.base}/console/melden`);
    return person;
  }

  /** Signs out and in again with the passkey alone. */
  async function signInAgain(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Uitloggen', exact: true }).click();
    await page.waitForURL(`${suite.service.base}/console/inloggen?uitgelogd=1`);
    await page.getByRole('button', { name: 'Inloggen met passkey' }).click();
    await page.waitForURL(`${suite.service.base}/console/melden`);
  }

  /** An invitation from the command line's use case, as `betrokken professional invite` makes one. */
  async function invite(agency: TestAgency, name: string, email: string, phone: string, roles: string[]): Promise<string> {
    const { link } = await inviteProfessional(suite.service.h.deps, { agencyId: agency.id, fields: { name, email, phone, roles }, invitedBy: null });
    return link;
  }

  /** Melden in the browser: the young person, the district, the informing duty; the kind where there is a choice. */
  async function report(page: Page, bsn: string, opts: { kind?: 'Zorgsignaal' | 'Betrokkenheid'; reference?: string; district?: string } = {}): Promise<void> {
    await page.getByRole('link', { name: 'Melden' }).click();
    await page.getByLabel('BSN').fill(bsn);
    await page.getByLabel('Geboortedatum').fill('01-05-2014');
    await page.locator('#veld-district').selectOption(`0014:${opts.district ?? 'selwerd'}`);
    if (opts.kind) await page.getByLabel(opts.kind, { exact: true }).check();
    if (opts.reference) await page.getByLabel('Eigen dossiernummer').fill(opts.reference);
    await page.locator('#informed-informed').check();
    await page.getByRole('button', { name: 'Melding versturen' }).click();
    await page.waitForURL(/\/console\/melden\/bevestiging\/sig_/);
    expect(await page.content()).not.toContain(bsn);
  }

  const inboxLink = (page: Page) => page.getByRole('navigation', { name: 'Hoofdmenu' }).getByRole('link', { name: /^Berichten/ });

  /** The audit log as an operator reads it over the API (GET /v1/audit). */
  async function auditLog(): Promise<Array<{ agencyId: string | null; actor: string | null; action: string; outcome: string }>> {
    const { h } = suite.service;
    const operator = await h.agency('operator', { name: `Beheer ${Math.random()}` });
    const res = await h.call('GET', '/v1/audit?limit=1000', { token: await h.token(operator, 'audit:read') });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Array<{ agencyId: string | null; actor: string | null; action: string; outcome: string }> }).items;
  }

  it('an invitation, a passkey, a concern, a GP registering, both inboxes, both acknowledge, the audit log names both', { timeout: 180_000 }, async () => {
    const { h, base } = suite.service;
    await h.agency('wij', { name: 'WIJ Selwerd', districts: ['selwerd'] });
    const school = await h.agency('school', { name: 'Noorderpoort' });
    const gp = await h.agency('gp', { name: 'Huisartsenpraktijk Selwerd' });
    const bsn = validBsn(4242);

    // The school's administrator enrols and invites the care coordinator on Medewerkers.
    const admin = await enrol(await invite(school, 'Anna Bakker', 'a.bakker@noorderpoort.nl', '050-5550101', ['admin']));
    await admin.page.getByRole('link', { name: 'Medewerkers' }).click();
    await admin.page.getByLabel('Naam').fill('Jet de Vries');
    await admin.page.getByLabel('E-mailadres').fill('j.devries@noorderpoort.nl');
    await admin.page.getByLabel('Telefoon').fill('050-5550123');
    await admin.page.getByRole('button', { name: 'Uitnodiging maken' }).click();
    const jetLink = (await admin.page.locator('#uitnodigingslink').textContent())!.trim();
    // An administrator has no inbox: no count, and the page says why.
    await admin.page.goto(`${base}/console/berichten`);
    expect(await admin.page.getByText('U heeft niet de rol Melder of Coördinator').isVisible()).toBe(true);
    requests.push(...admin.requests);
    await admin.context.close();

    // The school's registrant enrols a passkey, signs in with it, and flags a concern.
    const jet = await enrol(jetLink);
    await signInAgain(jet.page);
    await report(jet.page, bsn, { reference: 'NP-2026-17' });
    expect(await inboxLink(jet.page).textContent()).toBe('Berichten');

    // A GP professional, invited for the practice, signs in through the practice's own provider
    // (the invitation's e-mail address, verified there, links the account) and registers the same young person.
    const idp: TestProvider = await startOidcProvider({
      clients: [{ clientId: 'betrokken-hapselwerd', redirectUri: `${base}${OIDC_CALLBACK_PATH}`, jwksUri: `${base}/.well-known/jwks.json` }],
      accounts: { 'koops-42': { email: 'koops@hapselwerd.nl', emailVerified: true, name: 'A. Koops' } },
    });
    await configureAgencyOidc({ ...h.deps, oidc: { allowInsecureRequests: true } }, { agencyId: gp.id, issuer: idp.issuer, clientId: 'betrokken-hapselwerd' });
    await invite(gp, 'Dr. A. Koops', 'koops@hapselwerd.nl', '050-5559876', ['registrant']);
    const koops = await personWithPasskeys(suite.browser);
    await koops.page.goto(`${base}/console/inloggen`);
    await check(koops.page, 'inloggen-organisatie');
    await koops.page.getByRole('link', { name: 'Inloggen via Huisartsenpraktijk Selwerd' }).click();
    await arrivedAt(koops.page, `${base}/console/melden`);
    expect(await koops.page.getByText('Dr. A. Koops').first().isVisible()).toBe(true);
    await idp.close();
    await report(koops.page, bsn, { kind: 'Betrokkenheid', reference: 'HA-881' });
    // The GP's inbox: the school's concern, with how to reach Jet; the count in the header.
    await expect.poll(async () => (await koops.page.reload(), await inboxLink(koops.page).textContent())).toBe('Berichten 1 (1 ongelezen bericht)');
    await inboxLink(koops.page).click();
    const gpNotice = koops.page.locator('article.bk-notice').first();
    const gpText = (await gpNotice.innerText()).replace(/\s+/g, ' ');
    expect(gpText).toContain('Een andere organisatie is ook betrokken bij een jongere die u heeft gemeld.');
    expect(gpText).toContain('Noorderpoort maakt zich zorgen — Jet de Vries, 050-5550123, j.devries@noorderpoort.nl');
    expect(gpText).toContain('Regie: WIJ Selwerd (nog niet opgepakt)');
    expect(gpText).toContain('Uw melding: dossier HA-881');
    await check(koops.page, 'berichten-huisarts');

    // The school's inbox: the GP with contact details.
    await jet.page.reload();
    expect(await inboxLink(jet.page).textContent()).toBe('Berichten 1 (1 ongelezen bericht)');
    await check(jet.page, 'bevestiging-met-bericht');
    await inboxLink(jet.page).click();
    const schoolNotice = jet.page.locator('article.bk-notice').first();
    const schoolText = (await schoolNotice.innerText()).replace(/\s+/g, ' ');
    expect(schoolText).toContain('Ook betrokken: Huisartsenpraktijk Selwerd is betrokken — Dr. A. Koops, 050-5559876, koops@hapselwerd.nl');
    expect(schoolText).toContain('Regie: WIJ Selwerd (nog niet opgepakt)');
    expect(await schoolNotice.getByRole('link', { name: '050-5559876' }).getAttribute('href')).toBe('tel:0505559876');
    await schoolNotice.getByText('Waarom krijgt u dit bericht?').click();
    expect(await schoolNotice.getByText('Besloten volgens het beleid "groningen"').isVisible()).toBe(true);
    await check(jet.page, 'berichten');

    // Both acknowledge, with the keyboard on the school's side.
    await schoolNotice.getByRole('button', { name: 'Markeer als gelezen' }).focus();
    await jet.page.keyboard.press('Enter');
    await jet.page.waitForURL(`${base}/console/berichten?gedaan=gelezen`);
    expect(await jet.page.getByText('Het bericht is gemarkeerd als gelezen.').isVisible()).toBe(true);
    expect(await inboxLink(jet.page).textContent()).toBe('Berichten');
    expect(await jet.page.locator('#gelezen ~ article.bk-notice').count()).toBe(1);
    await check(jet.page, 'berichten-gelezen');
    await gpNotice.getByRole('button', { name: 'Markeer als gelezen' }).click();
    await koops.page.waitForURL(`${base}/console/berichten?gedaan=gelezen`);
    expect(await inboxLink(koops.page).textContent()).toBe('Berichten');

    // Mijn meldingen: the school's concern, its expiry in Dutch, the informing state; then withdrawn.
    await jet.page.getByRole('link', { name: 'Mijn meldingen' }).click();
    const card = jet.page.locator('section.bk-card').first();
    const cardText = (await card.innerText()).replace(/\s+/g, ' ');
    expect(cardText).toContain('Zorgsignaal, dossier NP-2026-17');
    expect(cardText).toContain('2 maart 2028');
    expect(cardText).toContain('De jongere (en ouders) zijn geïnformeerd');
    await check(jet.page, 'meldingen');
    await card.getByRole('link', { name: 'Zorgsignaal, dossier NP-2026-17' }).click();
    await check(jet.page, 'melding');
    await jet.page.getByRole('button', { name: 'Verder' }).click(); // no reason chosen
    expect(await jet.page.locator('#veld-reason-fout').textContent()).toBe('Kies een reden om de melding in te trekken.');
    await check(jet.page, 'melding-fout');
    await jet.page.getByLabel('Per vergissing gemeld').check();
    await jet.page.getByRole('button', { name: 'Verder' }).click();
    expect(await jet.page.getByRole('heading', { level: 1 }).textContent()).toBe('Melding intrekken?');
    await check(jet.page, 'melding-intrekken');
    await jet.page.getByRole('button', { name: 'Ja, melding intrekken' }).click();
    await jet.page.waitForURL(/\/console\/meldingen\/sig_[0-9a-z]+\?gedaan=ingetrokken$/);
    expect(await jet.page.getByText('De melding is ingetrokken.').isVisible()).toBe(true);
    await jet.page.goto(`${base}/console/meldingen?status=ended`);
    expect(await jet.page.getByText('Beëindigd (per vergissing gemeld)').isVisible()).toBe(true);
    // The GP hears that the school is no longer involved.
    await koops.page.reload();
    expect(await inboxLink(koops.page).textContent()).toBe('Berichten 1 (1 ongelezen bericht)');
    expect(await koops.page.locator('#nieuw ~ article.bk-notice h3').first().textContent()).toBe('Een organisatie is niet meer betrokken bij deze jongere.');
    // The GP's browser went to the practice's provider to sign in, and there only to sign in.
    const atProvider = koops.requests.filter((u) => new URL(u).origin === idp.issuer);
    expect(atProvider.map((u) => new URL(u).pathname.replace(/\/[\w-]{20,}$/, '/…'))).toEqual(['/auth', '/interaction/…', '/auth/…']);
    requests.push(...jet.requests, ...koops.requests.filter((u) => !atProvider.includes(u)));

    // The audit log names both professionals, each for their own agency.
    const log = await auditLog();
    const jetId = log.find((e) => e.action === 'signal.register' && e.agencyId === school.id)!.actor;
    const koopsId = log.find((e) => e.action === 'signal.register' && e.agencyId === gp.id)!.actor;
    expect(jetId).toMatch(/^prf_/);
    expect(koopsId).toMatch(/^prf_/);
    expect(jetId).not.toBe(koopsId);
    for (const [agencyId, actor] of [[school.id, jetId], [gp.id, koopsId]] as const) {
      expect(log, `${actor}`).toContainEqual(expect.objectContaining({ agencyId, actor, action: 'console.sign_in', outcome: 'ok' }));
      expect(log).toContainEqual(expect.objectContaining({ agencyId, actor, action: 'signal.register', outcome: 'created' }));
      expect(log).toContainEqual(expect.objectContaining({ agencyId, actor, action: 'notice.read', outcome: 'ok' }));
      expect(log).toContainEqual(expect.objectContaining({ agencyId, actor, action: 'notice.ack', outcome: 'ok' }));
    }
    expect(log).toContainEqual(expect.objectContaining({ agencyId: school.id, actor: jetId, action: 'signal.withdraw', outcome: 'ok' }));
    expect(JSON.stringify(log)).not.toContain(bsn);

    // Nothing from another origin; no BSN in any URL.
    expect(requests.filter((u) => new URL(u).origin !== base)).toEqual([]);
    expect(requests.filter((u) => u.includes(bsn))).toEqual([]);
    await jet.context.close();
    await koops.context.close();
    expectAccessible(['inloggen-organisatie', 'berichten-huisarts', 'bevestiging-met-bericht', 'berichten', 'berichten-gelezen', 'meldingen', 'melding', 'melding-fout', 'melding-intrekken']);
  });

  it('with Veilig Thuis registering too, no school page names it; the GP sees it', { timeout: 180_000 }, async () => {
    const { h, base } = suite.service;
    await h.agency('wij', { name: 'WIJ Paddepoel', districts: ['paddepoel'] });
    const school = await h.agency('school', { name: 'Werkmancollege' });
    const gp = await h.agency('gp', { name: 'Huisartsen Paddepoel' });
    const vt = await h.agency('veilig_thuis', { name: 'Veilig Thuis Groningen' });
    const bsn = validBsn(4343);

    const lisa = await enrol(await invite(school, 'Lisa Smit', 'l.smit@werkman.nl', '050-5552020', ['registrant', 'admin']));
    await report(lisa.page, bsn, { reference: 'WC-9', district: 'paddepoel' });
    const bos = await enrol(await invite(vt, 'M. Bos', 'm.bos@veiligthuis.nl', '050-5551111', ['registrant']));
    await report(bos.page, bsn, { kind: 'Betrokkenheid', district: 'paddepoel' });
    const ahmed = await enrol(await invite(gp, 'Dr. Y. Ahmed', 'ahmed@hapaddepoel.nl', '050-5553030', ['registrant']));
    await report(ahmed.page, bsn, { kind: 'Betrokkenheid', district: 'paddepoel' });

    // The GP sees both the school and Veilig Thuis.
    await inboxLink(ahmed.page).click();
    const gpText = (await ahmed.page.locator('main').innerText()).replace(/\s+/g, ' ');
    expect(gpText).toContain('Werkmancollege maakt zich zorgen — Lisa Smit');
    expect(gpText).toContain('Veilig Thuis Groningen is betrokken — M. Bos, 050-5551111');
    await check(ahmed.page, 'berichten-huisarts-met-veilig-thuis');

    // Every school page, its text and its HTML: no Veilig Thuis, no trace of its professional.
    await lisa.page.goto(`${base}/console/meldingen`);
    const signalPath = await lisa.page.locator('section.bk-card a').first().getAttribute('href');
    const pages = ['/console/melden', '/console/meldingen', '/console/meldingen?status=all', signalPath!, '/console/berichten', '/console/account', '/console/medewerkers'];
    const forbidden = ['veilig thuis', 'veilig_thuis', 'veilig-thuis', 'veiligthuis', vt.id.toLowerCase(), 'm. bos', '050-5551111'];
    for (const path of pages) {
      await lisa.page.goto(`${base}${path}`);
      const text = (await lisa.page.locator('body').innerText()).toLowerCase();
      const html = (await lisa.page.content()).toLowerCase();
      for (const word of forbidden) {
        expect(text, `${path} text names ${word}`).not.toContain(word);
        expect(html, `${path} HTML names ${word}`).not.toContain(word);
      }
    }
    // The school's one notice names the GP only, with the coordinator.
    await lisa.page.goto(`${base}/console/berichten`);
    expect(await lisa.page.locator('article.bk-notice').count()).toBe(1);
    const schoolText = (await lisa.page.locator('article.bk-notice').innerText()).replace(/\s+/g, ' ');
    expect(schoolText).toContain('Ook betrokken: Huisartsen Paddepoel is betrokken — Dr. Y. Ahmed, 050-5553030');
    expect(schoolText).toContain('Regie: WIJ Paddepoel');
    await check(lisa.page, 'berichten-school-zonder-veilig-thuis');
    requests.push(...lisa.requests, ...bos.requests, ...ahmed.requests);
    for (const p of [lisa, bos, ahmed]) await p.context.close();
    expectAccessible(['berichten-huisarts-met-veilig-thuis', 'berichten-school-zonder-veilig-thuis']);
    expect(requests.filter((u) => new URL(u).origin !== base)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { inviteProfessional } from '../../src/console/professionals.ts';
import { SESSION_COOKIE } from '../../src/console/sessions.ts';
import { validBsn } from '../support/harness.ts';
import { arrivedAt, browserSuite, personWithPasskeys, tabTo } from './browser.ts';

/**
 * The registrant's desk in a real browser: an administrator invited from the command line's use
 * case enrols a passkey, signs in, invites a school registrant, who enrols and flags a concern with
 * the keyboard alone. Every page is checked with axe (WCAG 2.1 A and AA), at 375 px, and
 * photographed; nothing is loaded from another origin and no BSN reaches a URL.
 */
describe('the console in Chromium', () => {
  const suite = browserSuite();
  const { checked, check } = suite;
  const requests: string[] = [];

  it('from an administrator\'s invitation to a concern flagged with the keyboard', { timeout: 300_000 }, async () => {
    const { h, base } = suite.service;
    await h.agency('wij', { name: 'WIJ Selwerd', districts: ['selwerd', 'paddepoel'] });
    const school = await h.agency('school', { name: 'Noorderpoort' });
    const bsn = validBsn(42);

    // The first administrator, invited as `betrokken professional invite` does.
    const { link: adminLink, professional: admin } = await inviteProfessional(h.deps, {
      agencyId: school.id,
      fields: { name: 'Anna Bakker', email: 'a.bakker@noorderpoort.nl', phone: '050-5550101', roles: ['admin'] },
      invitedBy: null,
    });
    expect(adminLink.startsWith(`${base}/console/uitnodiging/`)).toBe(true);

    const a = await personWithPasskeys(suite.browser);
    await a.page.goto(`${base}/console/inloggen`);
    await expect.poll(() => a.page.locator('button[data-passkey]').isVisible()).toBe(true);
    await check(a.page, 'inloggen');

    await a.page.goto(adminLink);
    await check(a.page, 'uitnodiging');
    await a.page.getByRole('button', { name: 'Passkey aanmaken' }).click();
    await arrivedAt(a.page, `${base}/console/melden`);
    const cookie = (await a.context.cookies()).find((c) => c.name === SESSION_COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });

    // Signs out and in again with the passkey: no user name asked.
    await a.page.getByRole('button', { name: 'Uitloggen', exact: true }).click();
    await arrivedAt(a.page, `${base}/console/inloggen?uitgelogd=1`);
    await a.page.getByRole('button', { name: 'Inloggen met passkey' }).click();
    await arrivedAt(a.page, `${base}/console/melden`);
    // An administrator alone may not register: the page says so.
    await expect.poll(() => a.page.getByText('U heeft niet de rol Melder').isVisible()).toBe(true);

    // Invites a school registrant on Medewerkers.
    await a.page.getByRole('link', { name: 'Medewerkers' }).click();
    await check(a.page, 'medewerkers');
    await a.page.getByLabel('Naam').fill('Jet de Vries');
    await a.page.getByLabel('E-mailadres').fill('j.devries@noorderpoort.nl');
    await a.page.getByLabel('Telefoon').fill('050-5550123');
    await a.page.getByRole('button', { name: 'Uitnodiging maken' }).click();
    const registrantLink = (await a.page.locator('#uitnodigingslink').textContent())!.trim();
    expect(registrantLink.startsWith(`${base}/console/uitnodiging/`)).toBe(true);
    await check(a.page, 'medewerkers-uitnodiging');

    await a.page.getByRole('link', { name: 'Account' }).click();
    await check(a.page, 'account');
    requests.push(...a.requests);

    // The registrant enrols on their own device.
    const r = await personWithPasskeys(suite.browser);
    await r.page.goto(registrantLink);
    await r.page.getByRole('button', { name: 'Passkey aanmaken' }).click();
    await arrivedAt(r.page, `${base}/console/melden`);
    await check(r.page, 'melden');

    // A form with a mistake first: the error stands beside its field, the BSN is not kept.
    await r.page.getByLabel('BSN').fill(bsn);
    await r.page.getByRole('button', { name: 'Melding versturen' }).click();
    await expect.poll(() => r.page.locator('#veld-birthDate-fout').textContent()).toBe('Vul de geboortedatum in.');
    expect(await r.page.getByLabel('BSN').inputValue()).toBe('');
    await check(r.page, 'melden-fouten');

    // Then the whole form with the keyboard alone.
    await r.page.goto(`${base}/console/melden`);
    await tabTo(r.page, '#veld-bsn');
    await r.page.keyboard.type(bsn);
    await r.page.keyboard.press('Tab');
    expect(await r.page.evaluate(() => document.activeElement?.id)).toBe('veld-birthDate');
    await r.page.keyboard.type('01-05-2014');
    await tabTo(r.page, '#veld-district');
    await r.page.keyboard.press('ArrowDown'); // the first district: Paddepoel
    await r.page.keyboard.press('ArrowDown'); // then Selwerd
    expect(await r.page.locator('#veld-district').inputValue()).toBe('0014:selwerd');
    expect(await r.page.locator('#veld-name').inputValue()).toBe('Jet de Vries'); // from the profile
    expect(await r.page.locator('#veld-phone').inputValue()).toBe('050-5550123');
    await tabTo(r.page, 'input[name="informed"]');
    await r.page.keyboard.press('Space');
    expect(await r.page.locator('#informed-informed').isChecked()).toBe(true);
    await tabTo(r.page, 'button[type="submit"]:not(.bk-inline-form button)');
    await r.page.keyboard.press('Enter');
    await arrivedAt(r.page, /\/console\/melden\/bevestiging\/sig_/);
    await check(r.page, 'bevestiging');
    const confirmation = await r.page.content();
    expect(confirmation).toContain('Uw melding is geregistreerd.');
    expect(confirmation).toContain('Zorgsignaal');
    expect(confirmation).toContain('Selwerd');
    expect(confirmation).not.toContain(bsn);
    requests.push(...r.requests);

    // The audit log names the professionals who acted, for their agency.
    const audit = h.db.$client.prepare('select agency_id as agencyId, actor, action, outcome from audit_log order by seq').all() as Array<Record<string, string | null>>;
    const registrant = audit.find((e) => e.action === 'signal.register')!;
    expect(registrant).toMatchObject({ agencyId: school.id, outcome: 'created' });
    expect(registrant.actor).toMatch(/^prf_/);
    expect(registrant.actor).not.toBe(admin.id);
    expect(audit.filter((e) => e.action === 'console.sign_in' && e.actor === admin.id).length).toBe(2);
    expect(audit).toContainEqual({ agencyId: school.id, actor: admin.id, action: 'professional.invite', outcome: 'created' });
    expect(audit).toContainEqual({ agencyId: school.id, actor: admin.id, action: 'console.sign_out', outcome: 'ok' });
    expect(JSON.stringify(audit)).not.toContain(bsn);

    // Pages checked: zero axe violations, no horizontal scrolling at 375 px.
    for (const [name, result] of Object.entries(checked)) {
      expect(result.violations, name).toEqual([]);
      expect(result.fits, `${name} is ${result.scrollWidth}px wide at 375`).toBe(true);
    }
    expect(Object.keys(checked).sort()).toEqual(['account', 'bevestiging', 'inloggen', 'medewerkers', 'medewerkers-uitnodiging', 'melden', 'melden-fouten', 'uitnodiging']);

    // Nothing from another origin; no BSN in any URL the browsers asked for.
    expect(requests.length).toBeGreaterThan(20);
    expect(requests.filter((u) => new URL(u).origin !== base)).toEqual([]);
    expect(requests.filter((u) => u.includes(bsn))).toEqual([]);
  });

  it('a professional adds a passkey on a second device, removes the first, and cannot remove the last', { timeout: 60_000 }, async () => {
    const { h, base } = suite.service;
    const gp = await h.agency('gp', { name: 'Huisartsenpraktijk Selwerd' });
    const { link } = await inviteProfessional(h.deps, { agencyId: gp.id, fields: { name: 'Dr. Koops', email: 'koops@example.nl', roles: ['registrant', 'admin'] }, invitedBy: null });
    const p = await personWithPasskeys(suite.browser);
    await p.page.goto(link);
    await p.page.getByRole('button', { name: 'Passkey aanmaken' }).click();
    await arrivedAt(p.page, `${base}/console/melden`);
    await p.page.goto(`${base}/console/account`);
    expect(await p.page.getByText('Uw enige passkey kunt u niet verwijderen.').isVisible()).toBe(true);
    // A second device (an authenticator refuses a second passkey for the same account), a minute
    // later: passkeys are listed oldest first, so "Passkey 1" is the first device's.
    h.clock.set(new Date(h.clock.now().getTime() + 60_000).toISOString());
    await p.newDevice();
    h.clock.set(new Date(h.clock.now().getTime() + 60_000).toISOString());
    await p.page.getByRole('button', { name: 'Passkey toevoegen' }).click();
    await arrivedAt(p.page, `${base}/console/account?gedaan=added`);
    expect(await p.page.locator('section.bk-card').count()).toBe(2);
    await check(p.page, 'account-twee-passkeys');
    await p.page.getByRole('button', { name: 'Passkey 1 verwijderen' }).click();
    await arrivedAt(p.page, `${base}/console/account?gedaan=removed#passkeys`);
    expect(await p.page.locator('section.bk-card').count()).toBe(1);
    expect(await p.page.getByText('Uw enige passkey kunt u niet verwijderen.').isVisible()).toBe(true);
    // Signs in again with the passkey on the new device.
    await p.page.getByRole('button', { name: 'Uitloggen', exact: true }).click();
    await p.page.getByRole('button', { name: 'Inloggen met passkey' }).click();
    await arrivedAt(p.page, `${base}/console/melden`);
    expect(checked['account-twee-passkeys']!.violations).toEqual([]);
    expect(checked['account-twee-passkeys']!.fits).toBe(true);
    await p.context.close();
  });

  it('without JavaScript the sign-in page says that a passkey needs it', async () => {
    const context = await suite.browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${suite.service.base}/console/inloggen`);
    expect(await page.getByText('Inloggen met een passkey werkt alleen als JavaScript aan staat').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Inloggen met passkey' }).isVisible()).toBe(false);
    await context.close();
  });
});

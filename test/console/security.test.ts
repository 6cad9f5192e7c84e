import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { professionalActor } from '../../src/console/roles.ts';
import { SESSION_COOKIE } from '../../src/console/sessions.ts';
import { createHarness, type Harness, validBsn } from '../support/harness.ts';
import { consoleRequest, signedInProfessional } from './support.ts';

const auditRows = (h: Harness) =>
  h.rows<{ agencyId: string | null; actor: string | null; action: string; resource: string | null; outcome: string }>('select agency_id as "agencyId", actor, action, resource, outcome from audit_log order by seq');

/** The registration form as a browser posts it. */
const registration = (bsn: string, over: Record<string, string> = {}) => ({
  bsn, birthDate: '01-05-2014', municipality: '0014', district: '0014:selwerd', kind: 'concern', name: 'Jet de Vries', phone: '050-1234567', email: 'jet@example.nl', informed: 'informed', ...over,
});

async function world(opts: { logger?: ReturnType<typeof createLogger> } = {}) {
  const h = await createHarness(opts.logger ? { logger: opts.logger } : {});
  await h.agency('wij', { districts: ['selwerd'] });
  const school = await h.agency('school', { name: 'Noorderpoort' });
  const other = await h.agency('school', { name: 'Praedinius' });
  return { h, school, other };
}

describe('console requests that change something', () => {
  it('are refused without the session\'s CSRF token, with a wrong one, or from another origin; accepted with both', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school);
    const form = registration(validBsn(1));
    expect((await consoleRequest(h, 'POST', '/console/melden', { user, form, csrf: null })).status).toBe(403);
    expect((await consoleRequest(h, 'POST', '/console/melden', { user, form, csrf: 'x'.repeat(52) })).status).toBe(403);
    expect((await consoleRequest(h, 'POST', '/console/melden', { user, form, origin: 'https://evil.example' })).status).toBe(403);
    expect((await consoleRequest(h, 'POST', '/console/melden', { user, form, origin: null })).status).toBe(403);
    expect((await auditRows(h)).filter((r) => r.action === 'signal.register')).toEqual([]);
    const ok = await consoleRequest(h, 'POST', '/console/melden', { user, form });
    expect(ok.status).toBe(303);
    expect((await auditRows(h)).filter((r) => r.action === 'signal.register')).toHaveLength(1);
  });

  it('a sign-out is refused without the token: a page elsewhere cannot sign the professional out', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school);
    expect((await consoleRequest(h, 'POST', '/console/uitloggen', { user, csrf: null })).status).toBe(403);
    expect((await consoleRequest(h, 'GET', '/console/melden', { user })).status).toBe(200);
  });
});

describe('console sessions', () => {
  it('end after 15 idle minutes, however recent the sign-in', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school);
    h.clock.set(new Date(h.clock.now().getTime() + 14 * 60_000).toISOString());
    expect((await consoleRequest(h, 'GET', '/console/melden', { user })).status).toBe(200);
    h.clock.set(new Date(h.clock.now().getTime() + 15 * 60_000).toISOString());
    const res = await consoleRequest(h, 'GET', '/console/melden', { user });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/inloggen?verlopen=1');
    expect(res.headers.get('set-cookie')).toContain(`${SESSION_COOKIE}=;`);
  });

  // 59 page loads: seconds on PostgreSQL on a busy machine.
  it('end 10 hours after sign-in, however active', { timeout: 30_000 }, async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school);
    for (let minutes = 10; minutes < 600; minutes += 10) {
      h.clock.set(new Date(Date.parse('2026-03-02T09:00:00.000Z') + minutes * 60_000).toISOString());
      expect((await consoleRequest(h, 'GET', '/console/account', { user })).status).toBe(200);
    }
    h.clock.set('2026-03-02T19:00:00.000Z');
    expect((await consoleRequest(h, 'GET', '/console/account', { user })).status).toBe(303);
  });

  it('end at sign-out, and all of them at "sign out everywhere"; both are audited', async () => {
    const { h, school } = await world();
    const first = await signedInProfessional(h, school);
    await consoleRequest(h, 'POST', '/console/uitloggen', { user: first });
    expect((await consoleRequest(h, 'GET', '/console/melden', { user: first })).status).toBe(303);

    const user = await signedInProfessional(h, school, ['registrant'], 'Kees');
    const res = await consoleRequest(h, 'POST', '/console/account/overal-uitloggen', { user });
    expect(res.status).toBe(303);
    expect((await consoleRequest(h, 'GET', '/console/melden', { user })).status).toBe(303);
    const actions = (await auditRows(h)).filter((r) => r.action.startsWith('console.'));
    expect(actions).toEqual([
      { agencyId: school.id, actor: first.professionalId, action: 'console.sign_out', resource: first.sessionId, outcome: 'ok' },
      { agencyId: school.id, actor: user.professionalId, action: 'console.sign_out_everywhere', resource: null, outcome: 'ok' },
    ]);
  });

  it('a made-up or foreign cookie opens nothing', async () => {
    const { h } = await world();
    const res = await h.app.request('/console/melden', { headers: { cookie: `${SESSION_COOKIE}=${'a'.repeat(52)}` } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/inloggen');
  });

  it('a refused sign-in is audited, and sign-in attempts from one address are limited', async () => {
    const { h } = await world();
    const post = (path: string) => h.app.request(path, { method: 'POST', headers: { origin: h.deps.issuer, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'unknownpasskeyid123456', response: {} }) });
    expect((await post('/console/inloggen')).status).toBe(401);
    expect((await auditRows(h)).filter((r) => r.action === 'console.sign_in')).toEqual([{ agencyId: null, actor: null, action: 'console.sign_in', resource: null, outcome: 'unknown_passkey' }]);
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await post('/console/inloggen/opties')).status);
    expect(statuses.filter((s) => s === 429).length).toBe(1); // the 20 allowed include the attempt above
    h.clock.set(new Date(h.clock.now().getTime() + 5 * 60_000 + 1).toISOString());
    expect((await post('/console/inloggen/opties')).status).toBe(200);
  });

  it('a disabled professional is signed out everywhere at once', async () => {
    const { h, school } = await world();
    const admin = await signedInProfessional(h, school, ['admin']);
    const user = await signedInProfessional(h, school, ['registrant'], 'Kees');
    const res = await consoleRequest(h, 'POST', `/console/medewerkers/${user.professionalId}/uitschakelen`, { user: admin });
    expect(res.status).toBe(200);
    expect((await consoleRequest(h, 'GET', '/console/melden', { user })).status).toBe(303);
  });
});

describe('console pages', () => {
  it('are never cached and carry a CSP without inline script, framing or foreign origins', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school, ['registrant', 'admin']);
    for (const path of ['/console/inloggen', '/console/melden', '/console/account', '/console/medewerkers', '/console/meldingen', '/console/berichten']) {
      const res = await consoleRequest(h, 'GET', path, { user });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy')!;
      for (const directive of ["default-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"]) expect(csp).toContain(directive);
      expect(csp).not.toContain('unsafe-inline');
      const html = await res.text();
      expect(html).toMatch(/^<!DOCTYPE html><html lang="nl">/);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
      expect(html).not.toMatch(/\sstyle=/); // no inline style
    }
  });

  it('Medewerkers is for the agency administrator only', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school, ['registrant']);
    expect((await consoleRequest(h, 'GET', '/console/medewerkers', { user })).status).toBe(403);
    expect((await consoleRequest(h, 'POST', '/console/medewerkers/uitnodigen', { user, form: { name: 'X', email: 'x@example.nl', roles: 'admin' } })).status).toBe(403);
  });
});

describe('a professional of one agency', () => {
  it("gets 404 for another agency's signal and professionals, as for ids that do not exist", async () => {
    const { h, school, other } = await world();
    const a = await signedInProfessional(h, school, ['registrant', 'admin']);
    const b = await signedInProfessional(h, other, ['registrant', 'admin'], 'Bram');
    const res = await consoleRequest(h, 'POST', '/console/melden', { user: b, form: registration(validBsn(2)) });
    const signalOfB = /bevestiging\/(sig_[a-z0-9]+)/.exec(res.headers.get('location')!)![1]!;
    expect((await consoleRequest(h, 'GET', `/console/melden/bevestiging/${signalOfB}`, { user: b })).status).toBe(200);
    expect((await consoleRequest(h, 'GET', `/console/melden/bevestiging/${signalOfB}`, { user: a })).status).toBe(404);
    expect((await consoleRequest(h, 'GET', '/console/melden/bevestiging/sig_00000000000000000000000000', { user: a })).status).toBe(404);
    for (const verb of ['rollen', 'uitschakelen', 'inschakelen', 'uitnodiging']) {
      const r = await consoleRequest(h, 'POST', `/console/medewerkers/${b.professionalId}/${verb}`, { user: a, form: { roles: 'registrant' } });
      expect(r.status, verb).toBe(404);
    }
    expect((await consoleRequest(h, 'GET', '/console/melden', { user: b })).status).toBe(200); // B was left alone
    const listA = await (await consoleRequest(h, 'GET', '/console/medewerkers', { user: a })).text();
    expect(listA).not.toContain(b.professionalId);
    expect(listA).not.toContain('Bram');
  });

  it('acts with its roles\' scopes within what the policy gives the agency type', async () => {
    const { h, school } = await world();
    const agency = { id: school.id, type: 'school', grants: [] };
    const coordinator = professionalActor(h.policy, agency, { id: 'prf_x', roles: ['coordinator'] });
    expect([...coordinator.scopes].sort()).toEqual(['notices:read', 'signals:read']); // schools do not coordinate
    const registrant = professionalActor(h.policy, agency, { id: 'prf_x', roles: ['registrant', 'admin', 'nonsense'] });
    expect([...registrant.scopes].sort()).toEqual(['notices:read', 'signals:read', 'signals:write']);
    expect(registrant.professional).toBe('prf_x');
    const wij = professionalActor(h.policy, { id: 'agy_w', type: 'wij', grants: [] }, { id: 'prf_y', roles: ['coordinator'] });
    expect(wij.scopes.has('matches:coordinate')).toBe(true);
  });
});

describe('the BSN', () => {
  it('is in no URL, no page after submission and no log line; the audit names the professional', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const { h, school } = await world({ logger: createLogger('trace', sink) });
    const user = await signedInProfessional(h, school);
    const bsn = validBsn(3);
    // A refused form first (birth date missing): the page shown again does not hold the BSN either.
    const refused = await consoleRequest(h, 'POST', '/console/melden', { user, form: registration(bsn, { birthDate: '' }) });
    expect(refused.status).toBe(422);
    const refusedPage = await refused.text();
    expect(refusedPage).not.toContain(bsn);
    expect(refusedPage).toContain('id="veld-birthDate-fout"');
    const invalid = await consoleRequest(h, 'POST', '/console/melden', { user, form: registration(`${bsn.slice(0, 8)}${(Number(bsn[8]) + 1) % 10}`) });
    expect(invalid.status).toBe(422);
    expect(await invalid.text()).toContain('Dit is geen geldig BSN');

    const res = await consoleRequest(h, 'POST', '/console/melden', { user, form: registration(bsn) });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).not.toContain(bsn);
    const page = await (await consoleRequest(h, 'GET', location, { user })).text();
    expect(page).toContain('Uw melding is geregistreerd.');
    expect(page).not.toContain(bsn);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join('')).not.toContain(bsn);
    const register = (await auditRows(h)).find((r) => r.action === 'signal.register')!;
    expect(register).toMatchObject({ agencyId: school.id, actor: user.professionalId, outcome: 'created' });
  });

  it('posted again for the same young person gives the existing registration', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school);
    const bsn = validBsn(4);
    await consoleRequest(h, 'POST', '/console/melden', { user, form: registration(bsn, { reference: 'LVS-1' }) });
    const again = await consoleRequest(h, 'POST', '/console/melden', { user, form: registration(bsn, { reference: 'LVS-2' }) });
    const location = again.headers.get('location')!;
    expect(location).toContain('uitkomst=existing');
    expect(location).toContain('niet=reference');
    const page = await (await consoleRequest(h, 'GET', location, { user })).text();
    expect(page).toContain('Uw organisatie had deze jongere al gemeld.');
    expect(page).toContain('<li class="utrecht-unordered-list__item">dossiernummer</li>');
  });
});

describe('the language', () => {
  it('is Dutch by default and English after the switch, which only returns to console paths', async () => {
    const { h, school } = await world();
    const user = await signedInProfessional(h, school);
    const sw = await h.app.request('/console/taal?lang=en&terug=/console/account');
    expect(sw.headers.get('location')).toBe('/console/account');
    const cookie = sw.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toMatch(/^__Host-betrokken-taal=en$/);
    const page = await (await h.app.request('/console/melden', { headers: { cookie: `${user.cookie}; ${cookie}` } })).text();
    expect(page).toContain('<html lang="en">');
    expect(page).toContain('Send registration');
    expect((await h.app.request('/console/taal?lang=en&terug=//evil.example/')).headers.get('location')).toBe('/console');
  });
});

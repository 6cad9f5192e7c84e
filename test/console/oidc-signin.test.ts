import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/app/context.ts';
import { DEFAULT_CONSOLE_CONFIG } from '../../src/config.ts';
import { configureAgencyOidc, DiscoveryCache } from '../../src/console/oidc.ts';
import { OIDC_CALLBACK_PATH } from '../../src/console/oidc-signin.tsx';
import { inviteProfessional } from '../../src/console/professionals.ts';
import { SESSION_COOKIE } from '../../src/console/sessions.ts';
import { createApp } from '../../src/http/app.ts';
import { professionalById, professionalByEmail, setProfessionalStatus } from '../../src/store/professionals.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.ts';

/**
 * Console sign-in through the agency's own OpenID provider, over HTTP against a real provider on
 * loopback: a professional is found by the subject linked before, or by an open invitation to the
 * e-mail address the provider verified; anyone else is refused, audited, and nobody is created.
 */

let h: Harness;
let app: ReturnType<typeof createApp>;
let idp: TestProvider;
let jwksServer: ReturnType<typeof serve>;
let school: string;

const auditRows = (h: Harness) =>
  h.rows<{
    agencyId: string | null;
    actor: string | null;
    action: string;
    outcome: string;
  }>("select agency_id as \"agencyId\", actor, action, outcome from audit_log where action like 'console.sign_in' or action like 'professional.%' order by seq");
const professionalCount = async (h: Harness) => (await h.row<{ n: number }>('select count(*) as n from professionals'))!.n;

beforeAll(async () => {
  h = await createHarness();
  app = createApp(h.deps, { ...DEFAULT_CONSOLE_CONFIG, oidc: { allowInsecureRequests: true, discoveryCache: new DiscoveryCache() } });
  jwksServer = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => jwksServer.once('listening', resolve));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  idp = await startOidcProvider({
    clients: [{ clientId: 'betrokken', redirectUri: `${h.deps.issuer}${OIDC_CALLBACK_PATH}`, jwksUri }],
    accounts: {
      'sub-jet': { email: 'J.deVries@School.example', emailVerified: true, name: 'Jet de Vries' },
      'sub-bob': { email: 'bob@school.example', emailVerified: false, name: 'Bob Bakker' },
      'sub-eve': { email: 'eve@school.example', emailVerified: true, name: 'Eve Evers' },
    },
  });
  school = (await h.agency('school', { name: 'Noorderpoort' })).id;
  await configureAgencyOidc({ ...h.deps, oidc: { allowInsecureRequests: true } }, { agencyId: school, issuer: idp.issuer, clientId: 'betrokken' });
}, 30_000);

afterAll(async () => {
  await idp?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

/** The browser's part: the sign-in page's choice, the provider, and the callback with the pending cookie. */
async function signInThroughProvider(account: string): Promise<Response> {
  idp.account = account;
  const begin = await app.request(`/console/inloggen/organisatie?organisatie=${school}`);
  expect(begin.status).toBe(303);
  const pending = begin.headers.getSetCookie().find((c) => c.startsWith('__Host-betrokken-oidc='))!;
  expect(pending).toMatch(/; HttpOnly/);
  expect(pending).toMatch(/; Secure/);
  expect(pending).toMatch(/; SameSite=Lax/);
  const callback = await idp.signIn(begin.headers.get('location')!, `${h.deps.issuer}${OIDC_CALLBACK_PATH}`);
  return app.request(`${callback.pathname}${callback.search}`, { headers: { cookie: pending.split(';')[0]! } });
}

const sessionCookieOf = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`) && !c.startsWith(`${SESSION_COOKIE}=;`));

describe('OIDC sign-in in the console', () => {
  it("offers the agency's provider on the sign-in page", async () => {
    const page = await (await app.request('/console/inloggen')).text();
    expect(page).toContain('Inloggen via uw organisatie');
    expect(page).toContain(`<a class="utrecht-link" href="/console/inloggen/organisatie?organisatie=${school}">Inloggen via Noorderpoort</a>`);
  });

  it('an invitation to the verified e-mail address: linked, active, signed in; then found by the subject alone', async () => {
    await inviteProfessional(h.deps, { agencyId: school, fields: { name: 'Jet de Vries', email: 'j.devries@school.example', roles: ['registrant'] }, invitedBy: null });
    const res = await signInThroughProvider('sub-jet');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<meta http-equiv="refresh" content="0;url=/console/melden"');
    const cookie = sessionCookieOf(res);
    expect(cookie).toBeDefined();
    const melden = await app.request('/console/melden', { headers: { cookie: cookie!.split(';')[0]! } });
    expect(melden.status).toBe(200);
    expect(await melden.text()).toContain('Jet de Vries');
    const jet = (await professionalByEmail(h.store.reader, school, 'j.devries@school.example'))!;
    expect(jet).toMatchObject({ status: 'active', oidcIssuer: idp.issuer, oidcSubject: 'sub-jet' });
    expect((await auditRows(h)).filter((r) => r.actor === jet.id).map((r) => [r.action, r.outcome])).toEqual([
      ['professional.oidc_link', 'ok'],
      ['console.sign_in', 'ok'],
    ]);
    // The invitation is used up; the link to the subject signs Jet in from now on.
    const again = await signInThroughProvider('sub-jet');
    expect(again.status).toBe(200);
    expect(sessionCookieOf(again)).toBeDefined();
  });

  it('an e-mail address the provider has not verified is refused, even with an invitation to it', async () => {
    await inviteProfessional(h.deps, { agencyId: school, fields: { name: 'Bob Bakker', email: 'bob@school.example', roles: ['registrant'] }, invitedBy: null });
    const before = await professionalCount(h);
    const res = await signInThroughProvider('sub-bob');
    expect(res.status).toBe(403);
    expect(sessionCookieOf(res)).toBeUndefined();
    expect(await res.text()).toContain('Inloggen lukte niet');
    expect((await auditRows(h)).at(-1)).toEqual({ agencyId: school, actor: null, action: 'console.sign_in', outcome: 'email_unverified' });
    expect((await professionalByEmail(h.store.reader, school, 'bob@school.example'))!).toMatchObject({ status: 'invited', oidcSubject: null });
    expect(await professionalCount(h)).toBe(before);
  });

  it('a verified e-mail address without an invitation is refused, and nobody is created', async () => {
    const before = await professionalCount(h);
    const res = await signInThroughProvider('sub-eve');
    expect(res.status).toBe(403);
    expect(sessionCookieOf(res)).toBeUndefined();
    expect((await auditRows(h)).at(-1)).toEqual({ agencyId: school, actor: null, action: 'console.sign_in', outcome: 'no_invitation' });
    expect(await professionalCount(h)).toBe(before);
    expect(await professionalByEmail(h.store.reader, school, 'eve@school.example')).toBeUndefined();
  });

  it('a disabled professional is refused, though linked to the subject', async () => {
    const jet = (await professionalByEmail(h.store.reader, school, 'j.devries@school.example'))!;
    await withTransaction(h.deps, (tx) => setProfessionalStatus(tx, jet.id, 'disabled', h.clock.now().toISOString()));
    const res = await signInThroughProvider('sub-jet');
    expect(res.status).toBe(403);
    expect(sessionCookieOf(res)).toBeUndefined();
    expect((await auditRows(h)).at(-1)).toEqual({ agencyId: school, actor: jet.id, action: 'console.sign_in', outcome: 'disabled' });
    expect((await professionalById(h.store.reader, jet.id))!.status).toBe('disabled');
  });

  it('a callback without the pending cookie of its sign-in is refused and audited', async () => {
    idp.account = 'sub-eve';
    const begin = await app.request(`/console/inloggen/organisatie?organisatie=${school}`);
    const callback = await idp.signIn(begin.headers.get('location')!, `${h.deps.issuer}${OIDC_CALLBACK_PATH}`);
    const res = await app.request(`${callback.pathname}${callback.search}`);
    expect(res.status).toBe(400);
    expect(sessionCookieOf(res)).toBeUndefined();
    expect((await auditRows(h)).at(-1)).toEqual({ agencyId: null, actor: null, action: 'console.sign_in', outcome: 'oidc_pending_invalid' });
  });
});

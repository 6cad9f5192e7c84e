import { describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/app/context.ts';
import { inviteProfessional } from '../../src/console/professionals.ts';
import { SESSION_COOKIE } from '../../src/console/sessions.ts';
import { createApp } from '../../src/http/app.ts';
import { insertPasskeyChallenge, takePasskeyChallenge } from '../../src/store/passkey-challenges.ts';
import { countAttempt } from '../../src/store/sign-in-attempts.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { type AuthenticationOptionsJSON, type RegistrationOptionsJSON, SoftAuthenticator } from './soft-authenticator.ts';

/**
 * The console on several instances over one database (issue 15): two apps made by createApp on one
 * store stand for two instances behind a load balancer, each with its own console services. A
 * passkey ceremony begun on one is finished on the other, an answer is accepted once however many
 * instances it reaches, and sign-in attempts count against one allowance. On PostgreSQL the
 * concurrent requests run on different pooled connections.
 */

type App = ReturnType<typeof createApp>;

async function twoInstances(): Promise<{ h: Harness; one: App; two: App; school: string }> {
  const h = await createHarness();
  const school = (await h.agency('school', { name: 'Noorderpoort' })).id;
  return { h, one: h.app, two: createApp(h.deps), school };
}

const post = (h: Harness, app: App, path: string, body: unknown = {}, cookie?: string) =>
  Promise.resolve(app.request(path, { method: 'POST', headers: { origin: h.deps.issuer, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) }));

async function optionsFrom<T>(h: Harness, app: App, path: string): Promise<T> {
  const res = await post(h, app, path);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function invite(h: Harness, school: string, name: string): Promise<string> {
  const { link } = await inviteProfessional(h.deps, { agencyId: school, fields: { name, email: `${name.split(' ')[0]!.toLowerCase()}@school.example`, roles: ['registrant'] }, invitedBy: null });
  return link.split('/').at(-1)!;
}

/** A professional enrolled with the authenticator, through the instance given. */
async function enrolled(h: Harness, app: App, school: string, name = 'Jet de Vries'): Promise<SoftAuthenticator> {
  const token = await invite(h, school, name);
  const key = new SoftAuthenticator(h.deps.issuer);
  const options = await optionsFrom<RegistrationOptionsJSON>(h, app, `/console/uitnodiging/${token}/opties`);
  expect((await post(h, app, `/console/uitnodiging/${token}`, key.register(options))).status).toBe(200);
  return key;
}

const sessionCookieOf = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))?.split(';')[0];
const signInOutcomes = async (h: Harness) => (await h.rows<{ outcome: string }>("select outcome from audit_log where action = 'console.sign_in' order by seq")).map((r) => r.outcome);
const count = async (h: Harness, table: string) => (await h.row<{ n: number }>(`select count(*) as n from ${table}`))!.n;

describe('a passkey ceremony across instances', () => {
  it('is begun on one instance and finished on the other, for enrolment and for sign-in', async () => {
    const { h, one, two, school } = await twoInstances();
    const token = await invite(h, school, 'Jet de Vries');
    const key = new SoftAuthenticator(h.deps.issuer);
    const registration = await optionsFrom<RegistrationOptionsJSON>(h, one, `/console/uitnodiging/${token}/opties`);
    const enrol = await post(h, two, `/console/uitnodiging/${token}`, key.register(registration));
    expect(enrol.status).toBe(200);
    expect(await enrol.json()).toEqual({ redirect: '/console/melden' });
    expect(sessionCookieOf(enrol)).toBeDefined();

    const authentication = await optionsFrom<AuthenticationOptionsJSON>(h, two, '/console/inloggen/opties');
    const signIn = await post(h, one, '/console/inloggen', key.authenticate(authentication));
    expect(signIn.status).toBe(200);
    const cookie = sessionCookieOf(signIn)!;
    const page = await two.request('/console/melden', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Jet de Vries');
    expect(await signInOutcomes(h)).toEqual(['ok', 'ok']);
    // Both challenges were taken back; none waits.
    expect(await count(h, 'passkey_challenges')).toBe(0);
  });

  it('accepts an answer once, when it is sent to both instances at once and when it is sent again', async () => {
    const { h, one, two, school } = await twoInstances();
    const key = await enrolled(h, one, school);
    const answer = key.authenticate(await optionsFrom<AuthenticationOptionsJSON>(h, one, '/console/inloggen/opties'));
    const statuses = (await Promise.all([post(h, one, '/console/inloggen', answer), post(h, two, '/console/inloggen', answer)])).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 401]);
    expect((await post(h, two, '/console/inloggen', answer)).status).toBe(401);
    expect((await signInOutcomes(h)).sort()).toEqual(['not_verified', 'not_verified', 'ok', 'ok']); // the enrolment's sign-in, then these three
  });

  it("binds a registration challenge to its professional: another's invitation cannot use it, and it is gone after", async () => {
    const { h, one, two, school } = await twoInstances();
    const jet = await invite(h, school, 'Jet de Vries');
    const kees = await invite(h, school, 'Kees Bakker');
    const key = new SoftAuthenticator(h.deps.issuer);
    const answer = key.register(await optionsFrom<RegistrationOptionsJSON>(h, one, `/console/uitnodiging/${jet}/opties`));
    const refused = await post(h, two, `/console/uitnodiging/${kees}`, answer);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe('passkey_refused');
    expect((await post(h, one, `/console/uitnodiging/${jet}`, answer)).status).toBe(400);
    expect(await count(h, 'passkeys')).toBe(0);
  });

  it('refuses an answer after five minutes, and sweeps expired challenges when the next is handed out', async () => {
    const { h, one, two, school } = await twoInstances();
    const key = await enrolled(h, one, school);
    const late = key.authenticate(await optionsFrom<AuthenticationOptionsJSON>(h, one, '/console/inloggen/opties'));
    await optionsFrom(h, two, '/console/inloggen/opties');
    expect(await count(h, 'passkey_challenges')).toBe(2);
    h.clock.set(new Date(h.clock.now().getTime() + 5 * 60_000).toISOString());
    expect((await post(h, two, '/console/inloggen', late)).status).toBe(401);
    expect(await count(h, 'passkey_challenges')).toBe(1); // the late one was taken out; the other waits for a sweep
    const fresh = await optionsFrom<AuthenticationOptionsJSON>(h, one, '/console/inloggen/opties');
    expect(await h.rows('select challenge from passkey_challenges')).toEqual([{ challenge: fresh.challenge }]);
    expect((await post(h, two, '/console/inloggen', key.authenticate(fresh))).status).toBe(200);
  });

  it('is taken by one of many transactions that take it at once', async () => {
    const { h } = await twoInstances();
    const now = h.clock.now().toISOString();
    await withTransaction(h.deps, (tx) => insertPasskeyChallenge(tx, { challenge: 'c1', purpose: 'authenticate', professionalId: null, expiresAt: '2999-01-01T00:00:00.000Z' }, now));
    const taken = await Promise.all(Array.from({ length: 8 }, () => withTransaction(h.deps, (tx) => takePasskeyChallenge(tx, 'c1'))));
    expect(taken.filter((t) => t !== undefined)).toEqual([{ challenge: 'c1', purpose: 'authenticate', professionalId: null, expiresAt: '2999-01-01T00:00:00.000Z' }]);
  });
});

describe('sign-in attempts across instances', () => {
  it('count against one allowance of 20 per address in five minutes, also when they arrive at once', async () => {
    const { h, one, two } = await twoInstances();
    const statuses = (await Promise.all(Array.from({ length: 30 }, (_, i) => post(h, i % 2 ? one : two, '/console/inloggen/opties')))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    expect((await post(h, one, '/console/inloggen/opties')).status).toBe(429);
    h.clock.set(new Date(h.clock.now().getTime() + 5 * 60_000).toISOString());
    expect((await post(h, two, '/console/inloggen/opties')).status).toBe(200);
    // One row per address, keyed by a hash: the database keeps no client address.
    const rows = await h.rows<{ key: string; count: number }>('select key, count from sign_in_attempts');
    expect(rows).toEqual([{ key: expect.stringMatching(/^[0-9a-f]{64}$/), count: 1 }]);
  });

  it('are counted exactly under contention, per key, and a new window starts when the last one ended', async () => {
    const { h } = await twoInstances();
    const at = (ms: number) => new Date(Date.parse('2026-03-02T09:00:00.000Z') + ms).toISOString();
    const take = (key: string, nowMs: number) => withTransaction(h.deps, (tx) => countAttempt(tx, { key, now: at(nowMs), windowEndsAt: at(nowMs + 60_000), max: 5 }));
    const first = await Promise.all(Array.from({ length: 24 }, (_, i) => take(i % 2 ? 'a' : 'b', 0)));
    expect(first.filter(Boolean)).toHaveLength(10);
    expect(await take('a', 59_999)).toBe(false);
    expect(await take('a', 60_000)).toBe(true);
    expect(await take('b', 60_000)).toBe(true);
    expect(await h.rows('select key, count, window_ends_at as "windowEndsAt" from sign_in_attempts order by key')).toEqual([
      { key: 'a', count: 1, windowEndsAt: at(120_000) },
      { key: 'b', count: 1, windowEndsAt: at(120_000) },
    ]);
  });
});

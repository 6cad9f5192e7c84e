import type { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { reader, type Tx, withTransaction } from '../app/context.ts';
import { activeAgencyById, agencyById } from '../store/agencies.ts';
import { agenciesWithOidc } from '../store/agency-oidc.ts';
import { type AuditEntry, appendAudit } from '../store/audit.ts';
import { insertSession } from '../store/console-sessions.ts';
import {
  activateProfessional,
  insertPasskey,
  openInvitation,
  passkeyById,
  passkeysOf,
  professionalById,
  recordPasskeyUse,
  useInvitation,
} from '../store/professionals.ts';
import { type ConsoleContext, type ConsoleEnv, type ConsoleServices, renderPage } from './context.tsx';
import { Alert, Heading, P, PasskeyButton } from './layout.tsx';
import { authenticationOptions, credentialIdOf, registrationOptions, verifyAuthentication, verifyRegistration } from './passkeys.ts';
import { OidcChoice } from './oidc-signin.tsx';
import { hashSecret } from './secrets.ts';
import { describeDevice, newSessionRow, SESSION_COOKIE, SESSION_COOKIE_OPTIONS } from './sessions.ts';

/** Where a professional lands after signing in. */
export const HOME = '/console/melden';

/** The client's address for rate limiting: the socket's peer (a proxy in front should be the only peer). */
export function clientAddress(c: ConsoleContext): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** Sign-in with a passkey (no user name: the passkey names the professional) and enrolment by invitation. */
export function authRoutes(app: Hono<ConsoleEnv>, s: ConsoleServices): void {
  const { deps, settings } = s;
  const startCookie = (c: ConsoleContext, token: string) => setCookie(c, SESSION_COOKIE, token, SESSION_COOKIE_OPTIONS);
  const refusal = (c: ConsoleContext, at: string) => async (outcome: string, who: { agencyId: string | null; actor: string | null } = { agencyId: null, actor: null }) => {
    await recordSignInRefusal(s, { at, ...who, outcome, requestId: c.get('requestId') ?? null });
    return c.json({ code: 'sign_in_refused', message: c.get('t').signin.refused }, 401);
  };

  app.get('/inloggen', async (c) => {
    const t = c.get('t');
    const notice = c.req.query('uitgelogd') ? t.signin.signedOut : c.req.query('verlopen') ? t.signin.expired : null;
    return renderPage(c, {
      title: t.signin.title,
      scripts: true,
      body: (
        <>
          <Heading>{t.signin.title}</Heading>
          {notice ? (
            <Alert type="info">
              <P>{notice}</P>
            </Alert>
          ) : null}
          <P lead>{t.signin.intro}</P>
          <PasskeyButton t={t} kind="authenticate" options="/console/inloggen/opties" verify="/console/inloggen" label={t.signin.button} />
          <P>{t.signin.noPasskey}</P>
          <OidcChoice t={t} agencies={await agenciesWithOidc(reader(deps))} />
        </>
      ),
    });
  });

  app.post('/inloggen/opties', async (c) => {
    if (!(await s.signInLimiter.take(clientAddress(c)))) return c.json({ code: 'too_many_attempts', message: c.get('t').signin.tooMany }, 429);
    return c.json(await authenticationOptions(s.rp, s.challenges));
  });

  app.post('/inloggen', async (c) => {
    const t = c.get('t');
    if (!(await s.signInLimiter.take(clientAddress(c)))) return c.json({ code: 'too_many_attempts', message: t.signin.tooMany }, 429);
    const answer = await c.req.json().catch(() => null);
    const at = deps.clock.now().toISOString();
    const refuse = refusal(c, at);
    const credentialId = credentialIdOf(answer);
    const db = reader(deps);
    const passkey = credentialId ? await passkeyById(db, credentialId) : undefined;
    if (!passkey) return refuse('unknown_passkey');
    const professional = await professionalById(db, passkey.professionalId);
    if (!professional) return refuse('unknown_passkey');
    const who = { agencyId: professional.agencyId, actor: professional.id };
    if (professional.status !== 'active' || !(await activeAgencyById(db, professional.agencyId))) return refuse('disabled', who);
    // The passkey must carry this professional's user handle, as it was made for them.
    const handle = (answer as { response?: { userHandle?: unknown } }).response?.userHandle;
    if (handle !== undefined && handle !== Buffer.from(professional.webauthnUserId).toString('base64url')) return refuse('not_verified', who);
    const counter = await verifyAuthentication(s.rp, s.challenges, passkey, answer);
    if (counter === null) return refuse('not_verified', who);
    const token = await withTransaction(deps, async (tx) => {
      await recordPasskeyUse(tx, passkey.id, counter, at);
      return startSignedInSession(tx, c, s, professional, at);
    });
    startCookie(c, token);
    return c.json({ redirect: HOME });
  });

  const invitationOf = async (c: ConsoleContext) => openInvitation(reader(deps), hashSecret(c.req.param('token') ?? ''), deps.clock.now().toISOString());

  app.get('/uitnodiging/:token', async (c) => {
    const t = c.get('t');
    const open = await invitationOf(c);
    if (!open) {
      return renderPage(c, {
        title: t.signin.invitationInvalidTitle,
        status: 404,
        body: (
          <>
            <Heading>{t.signin.invitationInvalidTitle}</Heading>
            <P>{t.signin.invitationInvalid}</P>
          </>
        ),
      });
    }
    const agency = (await agencyById(reader(deps), open.professional.agencyId))!;
    const base = `/console/uitnodiging/${c.req.param('token')}`;
    return renderPage(c, {
      title: t.signin.enrolTitle,
      scripts: true,
      body: (
        <>
          <Heading>{t.signin.enrolTitle}</Heading>
          <P lead>{t.signin.enrolIntro(open.professional.name, agency.name)}</P>
          <P>{t.signin.enrolHow}</P>
          <PasskeyButton t={t} kind="register" options={`${base}/opties`} verify={base} label={t.signin.enrolButton} />
        </>
      ),
    });
  });

  app.post('/uitnodiging/:token/opties', async (c) => {
    if (!(await s.signInLimiter.take(clientAddress(c)))) return c.json({ code: 'too_many_attempts', message: c.get('t').signin.tooMany }, 429);
    const open = await invitationOf(c);
    if (!open) return c.json({ code: 'invitation_invalid', message: c.get('t').signin.invitationInvalid }, 404);
    return c.json(await registrationOptions(s.rp, s.challenges, open.professional, await passkeysOf(reader(deps), open.professional.id)));
  });

  app.post('/uitnodiging/:token', async (c) => {
    const t = c.get('t');
    if (!(await s.signInLimiter.take(clientAddress(c)))) return c.json({ code: 'too_many_attempts', message: t.signin.tooMany }, 429);
    const open = await invitationOf(c);
    if (!open) return c.json({ code: 'invitation_invalid', message: t.signin.invitationInvalid }, 404);
    const at = deps.clock.now().toISOString();
    const passkey = await verifyRegistration(s.rp, s.challenges, open.professional.id, await c.req.json().catch(() => null), at);
    if (!passkey) return c.json({ code: 'passkey_refused', message: t.common.passkeyFailed }, 400);
    const { professional } = open;
    const { token, row } = newSessionRow(deps, settings, professional.id, describeDevice(c.req.header('user-agent')));
    const who = { at, agencyId: professional.agencyId, actor: professional.id, subject: null, outcome: 'ok', requestId: c.get('requestId') ?? null };
    // The invitation is used up, the passkey kept, the professional active and the first session
    // started, in one transaction; refused when the invitation was used meanwhile.
    const done = await withTransaction(deps, async (tx) => {
      if (!(await useInvitation(tx, open.invitation.tokenHash, at))) return false;
      await insertPasskey(tx, passkey);
      await activateProfessional(tx, professional.id);
      await insertSession(tx, row);
      await appendAudit(tx, { ...who, action: 'professional.enrol', resource: passkey.id }, { ...who, action: 'console.sign_in', resource: row.id });
      return true;
    });
    if (!done) return c.json({ code: 'invitation_invalid', message: t.signin.invitationInvalid }, 404);
    startCookie(c, token);
    return c.json({ redirect: HOME });
  });
}

/** Records a refused sign-in (an audit entry and nothing else). */
export async function recordSignInRefusal(
  s: ConsoleServices,
  e: { at: string; agencyId: string | null; actor: string | null; outcome: string; requestId: string | null },
): Promise<void> {
  const entry: AuditEntry = { at: e.at, agencyId: e.agencyId, actor: e.actor, action: 'console.sign_in', subject: null, resource: null, outcome: e.outcome, requestId: e.requestId };
  await withTransaction(s.deps, (tx) => appendAudit(tx, entry));
}

/**
 * Starts a session, in the caller's transaction, for a professional who proved who they are (a
 * passkey or their agency's provider), and audits the sign-in. Resolves to the cookie's secret.
 */
export async function startSignedInSession(tx: Tx, c: ConsoleContext, s: ConsoleServices, professional: { id: string; agencyId: string }, at: string): Promise<string> {
  const { token, row } = newSessionRow(s.deps, s.settings, professional.id, describeDevice(c.req.header('user-agent')));
  await insertSession(tx, row);
  await appendAudit(tx, {
    at,
    agencyId: professional.agencyId,
    actor: professional.id,
    action: 'console.sign_in',
    subject: null,
    resource: row.id,
    outcome: 'ok',
    requestId: c.get('requestId') ?? null,
  });
  return token;
}

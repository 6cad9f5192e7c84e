import type { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type Tx, withTransaction } from '../app/context.ts';
import { activeAgencyById } from '../store/agencies.ts';
import { appendAudit } from '../store/audit.ts';
import { activateProfessional, type InvitationRow, invitedByEmail, linkOidcSubject, professionalByOidcSubject, type ProfessionalRow, useInvitation } from '../store/professionals.ts';
import { clientAddress, HOME, startSignedInSession } from './auth.tsx';
import { type ConsoleContext, type ConsoleEnv, type ConsoleServices, renderPage } from './context.tsx';
import type { Messages } from './i18n/index.ts';
import { Alert, Heading, P } from './layout.tsx';
import { SESSION_COOKIE, SESSION_COOKIE_OPTIONS } from './sessions.ts';
import { beginOidcSignIn, completeOidcSignIn, type OidcDeps, OidcError, type OidcIdentity, openPendingOidc, PENDING_TTL_MS, sealPendingOidc } from './oidc.ts';

/**
 * Sign-in through an agency's own OpenID provider. The sign-in page offers it for the agencies
 * that have one; the pending sign-in (state, nonce, PKCE verifier) waits in a sealed, short-lived
 * `__Host-` cookie. At the callback the professional is the one already linked to the provider's
 * subject, or the one whose open invitation went to the e-mail address the provider verified
 * (then the subject is linked and the invitation used up). Sign-in creates no one; every refusal
 * is audited.
 */

export const OIDC_BEGIN_PATH = '/console/inloggen/organisatie';
export const OIDC_CALLBACK_PATH = '/console/inloggen/organisatie/terug';
/** The redirect URI an agency registers at its provider for this service. */
export const oidcRedirectUri = (issuer: string) => `${issuer}${OIDC_CALLBACK_PATH}`;

const PENDING_COOKIE = '__Host-betrokken-oidc';
// Lax, not Strict: the callback is a navigation from the provider's site, which must carry it.
const PENDING_COOKIE_OPTIONS = { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: PENDING_TTL_MS / 1000 } as const;

/**
 * The organisations on the sign-in page whose provider a professional may sign in with, each a
 * link (nothing when no agency has one). Links, not a form: the console's `form-action 'self'`
 * would stop a form's redirect to the provider.
 */
export function OidcChoice({ t, agencies }: { t: Messages; agencies: Array<{ id: string; name: string }> }) {
  if (agencies.length === 0) return null;
  return (
    <section aria-labelledby="organisatie">
      <h2 class="utrecht-heading-2" id="organisatie">{t.signin.oidcTitle}</h2>
      <P>{t.signin.oidcIntro}</P>
      <ul class="utrecht-unordered-list">
        {agencies.map((a) => (
          <li class="utrecht-unordered-list__item">
            <a class="utrecht-link" href={`${OIDC_BEGIN_PATH}?organisatie=${encodeURIComponent(a.id)}`}>{t.signin.oidcVia(a.name)}</a>
          </li>
        ))}
      </ul>
    </section>
  );
}

type Match = { professional: ProfessionalRow; invitation?: InvitationRow } | { refused: string };

export function oidcRoutes(app: Hono<ConsoleEnv>, s: ConsoleServices): void {
  const { deps } = s;
  const oidcDeps: OidcDeps = { store: deps.store, keys: deps.keys, clock: deps.clock, ...(s.settings.oidc ? { oidc: s.settings.oidc } : {}) };

  const failed = (c: ConsoleContext, refused: boolean) => {
    const t = c.get('t');
    return renderPage(c, {
      title: t.signin.oidcRefusedTitle,
      status: refused ? 403 : 400,
      body: (
        <>
          <Heading>{t.signin.oidcRefusedTitle}</Heading>
          <Alert type="error">
            <P>{refused ? t.signin.oidcRefused : t.signin.oidcFailed}</P>
          </Alert>
          <P>
            <a class="utrecht-link" href="/console/inloggen">{t.signin.title}</a>
          </P>
        </>
      ),
    });
  };
  const audited = async (c: ConsoleContext, outcome: string, who: { agencyId: string | null; actor: string | null }) => {
    const entry = { at: deps.clock.now().toISOString(), ...who, action: 'console.sign_in', subject: null, resource: null, outcome, requestId: c.get('requestId') ?? null };
    await withTransaction(deps, (tx) => appendAudit(tx, entry));
  };

  app.get('/inloggen/organisatie', async (c) => {
    if (!(await s.signInLimiter.take(clientAddress(c)))) return failed(c, false);
    const agencyId = c.req.query('organisatie') ?? '';
    try {
      const { url, pending } = await beginOidcSignIn(oidcDeps, agencyId, oidcRedirectUri(deps.issuer));
      setCookie(c, PENDING_COOKIE, sealPendingOidc(deps.keys, pending), PENDING_COOKIE_OPTIONS);
      return c.redirect(url.href, 303);
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      return failed(c, false);
    }
  });

  app.get('/inloggen/organisatie/terug', async (c) => {
    if (!(await s.signInLimiter.take(clientAddress(c)))) {
      await audited(c, 'too_many_attempts', { agencyId: null, actor: null });
      return failed(c, false);
    }
    const sealed = getCookie(c, PENDING_COOKIE);
    deleteCookie(c, PENDING_COOKIE, PENDING_COOKIE_OPTIONS);
    let agencyId: string | null = null;
    let identity: OidcIdentity;
    try {
      if (!sealed) throw new OidcError('oidc_pending_invalid', 'no sign-in was begun in this browser');
      const pending = openPendingOidc(deps.keys, sealed);
      agencyId = pending.agencyId;
      identity = await completeOidcSignIn(oidcDeps, pending, c.req.url);
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      await audited(c, err.code, { agencyId, actor: null });
      return failed(c, false);
    }
    const forAgency = agencyId!;
    const at = deps.clock.now().toISOString();
    const result = await withTransaction(deps, async (tx): Promise<{ token: string } | { refused: string; actor: string | null }> => {
      const match = await matchProfessional(tx, forAgency, identity, at);
      if ('refused' in match) return { refused: match.refused, actor: null };
      const { professional, invitation } = match;
      if (professional.status !== 'active' && !invitation) return { refused: 'disabled', actor: professional.id };
      if (!(await activeAgencyById(tx, professional.agencyId))) return { refused: 'disabled', actor: professional.id };
      if (invitation) {
        if (!(await useInvitation(tx, invitation.tokenHash, at))) return { refused: 'no_invitation', actor: professional.id };
        await linkOidcSubject(tx, professional.id, identity.issuer, identity.subject);
        await activateProfessional(tx, professional.id);
        await appendAudit(tx, { at, agencyId: professional.agencyId, actor: professional.id, action: 'professional.oidc_link', subject: null, resource: professional.id, outcome: 'ok', requestId: c.get('requestId') ?? null });
      }
      return { token: await startSignedInSession(tx, c, s, professional, at) };
    });
    if ('refused' in result) {
      await audited(c, result.refused, { agencyId: forAgency, actor: result.actor });
      return failed(c, true);
    }
    setCookie(c, SESSION_COOKIE, result.token, SESSION_COOKIE_OPTIONS);
    // A page, not a redirect: after a navigation that came from the provider's site the browser
    // would not send the SameSite=Strict session cookie along a redirect; a refresh from this page
    // is a navigation of this site.
    const t = c.get('t');
    return renderPage(c, {
      title: t.signin.title,
      refreshTo: HOME,
      body: (
        <>
          <Heading>{t.signin.title}</Heading>
          <P>
            <a class="utrecht-link" href={HOME}>{t.signin.oidcContinue}</a>
          </P>
        </>
      ),
    });
  });
}

/**
 * Who the provider's identity is here: the professional already linked to (issuer, subject), or
 * the one whose open invitation went to the verified e-mail address; never anyone else.
 */
async function matchProfessional(tx: Tx, agencyId: string, identity: OidcIdentity, now: string): Promise<Match> {
  const linked = await professionalByOidcSubject(tx, agencyId, identity.issuer, identity.subject);
  if (linked) return { professional: linked };
  if (!identity.emailVerified || identity.email === null) return { refused: 'email_unverified' };
  const invited = await invitedByEmail(tx, agencyId, identity.email, now);
  if (!invited) return { refused: 'no_invitation' };
  // A professional linked to another subject of this provider is not taken over by a second account.
  if (invited.professional.oidcSubject !== null) return { refused: 'subject_mismatch' };
  return invited;
}

import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type Deps, withTransaction } from '../app/context.ts';
import { DomainError } from '../app/errors.ts';
import { countUnreadNotices } from '../app/unread-notices.ts';
import type { ConsoleConfig } from '../config.ts';
import { appendAudit } from '../store/audit.ts';
import { revokeSession } from '../store/console-sessions.ts';
import { accountRoutes } from './account.tsx';
import { authRoutes } from './auth.tsx';
import { type ConsoleContext, type ConsoleEnv, type ConsoleServices, ctxOf, renderPage } from './context.tsx';
import { inboxRoutes } from './inbox.tsx';
import { oidcRoutes } from './oidc-signin.tsx';
import { signalsRoutes } from './signals.tsx';
import { loadAssets } from './assets.ts';
import { CATALOGS, isLang } from './i18n/index.ts';
import { Alert, Heading, P } from './layout.tsx';
import { ChallengeStore, relyingPartyOf } from './passkeys.ts';
import { AttemptLimiter } from './rate-limit.ts';
import { reportRoutes } from './report.tsx';
import { sameSecret } from './secrets.ts';
import { resolveSession, SESSION_COOKIE, SESSION_COOKIE_OPTIONS } from './sessions.ts';
import { staffRoutes } from './staff.tsx';

/**
 * Everything a console page may load comes from this origin; no inline script or style, no
 * framing, forms post only here. `data:` images are the component library's own icons.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const LANG_COOKIE = '__Host-betrokken-taal';
/** Sign-in attempts (options and answers) one client address may make in the window. */
const SIGN_IN_ATTEMPTS = 20;
const SIGN_IN_WINDOW_MS = 5 * 60_000;

/**
 * The console for professionals, mounted at /console: server-rendered pages that act through the
 * same use cases as the API, with the signed-in professional as the actor.
 */
export function createConsole(deps: Deps, settings: ConsoleConfig): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const assets = loadAssets(settings.tokensCssFile);
  const services: ConsoleServices = {
    deps,
    settings,
    rp: relyingPartyOf(deps.issuer),
    challenges: new ChallengeStore(deps),
    signInLimiter: new AttemptLimiter(deps, SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW_MS),
  };

  app.use(async (c, next) => {
    c.header('Content-Security-Policy', CONSOLE_CONTENT_SECURITY_POLICY);
    c.header('Cache-Control', 'no-store');
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on a form's POST.
    c.header('Referrer-Policy', 'same-origin');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    const lang = getCookie(c, LANG_COOKIE);
    c.set('lang', isLang(lang) ? lang : 'nl');
    c.set('t', CATALOGS[c.get('lang')]);
    await next();
  });

  app.get('/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (!asset) return notFoundPage(c);
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(asset.body, 200, { 'Content-Type': asset.type });
  });

  // The language switch: a preference cookie, then back to the page (a path of the console only).
  app.get('/taal', (c) => {
    const lang = c.req.query('lang');
    if (isLang(lang)) setCookie(c, LANG_COOKIE, lang, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: 365 * 86_400 });
    const back = c.req.query('terug') ?? '';
    return c.redirect(/^\/console(\/[A-Za-z0-9/_-]*)?$/.test(back) ? back : '/console', 303);
  });

  // Every state change comes from this origin (CSRF, beside the token and SameSite=Strict).
  app.post('*', async (c, next) => {
    if (c.req.header('origin') !== services.rp.origin) return refused(c);
    await next();
  });

  authRoutes(app, services);
  oidcRoutes(app, services);

  // Behind this point a page needs a session; a POST also its synchroniser token.
  app.use(async (c, next) => {
    const found = await resolveSession(deps, settings, getCookie(c, SESSION_COOKIE));
    if (found === 'none' || found === 'expired') {
      deleteCookie(c, SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
      if (c.req.method === 'GET') return c.redirect(found === 'expired' ? '/console/inloggen?verlopen=1' : '/console/inloggen', 303);
      return c.redirect('/console/inloggen?verlopen=1', 303);
    }
    c.set('auth', found);
    c.set('actor', found.actor);
    c.set('unread', async () => (found.actor.scopes.has('notices:read') ? countUnreadNotices({ ctx: ctxOf(c, deps) }) : null));
    if (c.req.method === 'POST') {
      const form = (c.req.header('content-type') ?? '').startsWith('application/json') ? {} : await c.req.parseBody({ all: true });
      const sent = c.req.header('x-csrf-token') ?? (typeof form._csrf === 'string' ? form._csrf : '');
      if (!sameSecret(sent, found.session.csrfToken)) return refused(c);
    }
    await next();
  });

  app.get('/', (c) => c.redirect('/console/melden', 303));

  app.post('/uitloggen', async (c) => {
    const { session, professional } = c.get('auth');
    const at = deps.clock.now().toISOString();
    await withTransaction(deps, async (tx) => {
      await revokeSession(tx, session.id, at);
      await appendAudit(tx, {
        at, agencyId: professional.agencyId, actor: professional.id, action: 'console.sign_out', subject: null, resource: session.id, outcome: 'ok', requestId: c.get('requestId') ?? null,
      });
    });
    deleteCookie(c, SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
    return c.redirect('/console/inloggen?uitgelogd=1', 303);
  });

  reportRoutes(app, services);
  accountRoutes(app, services);
  staffRoutes(app, services);

  signalsRoutes(app, services);
  inboxRoutes(app, services);

  app.all('*', (c) => notFoundPage(c));

  app.onError((err, c) => {
    if (err instanceof DomainError && err.kind === 'not_found') return notFoundPage(c);
    if (err instanceof DomainError && err.kind === 'forbidden') return forbiddenPage(c);
    deps.logger.error({ err, requestId: c.get('requestId'), route: c.req.routePath }, 'unexpected error in the console');
    const t = c.get('t') ?? CATALOGS.nl;
    return renderPage(c, {
      title: t.common.errorTitle,
      status: 500,
      body: (
        <>
          <Heading>{t.common.errorTitle}</Heading>
          <Alert type="error">
            <P>{t.common.error(c.get('requestId') ?? '-')}</P>
          </Alert>
        </>
      ),
    });
  });
  return app;
}

export function notFoundPage(c: ConsoleContext): Promise<Response> {
  const t = c.get('t');
  return renderPage(c, { title: t.common.notFoundTitle, status: 404, body: <><Heading>{t.common.notFoundTitle}</Heading><P>{t.common.notFound}</P></> });
}

export function forbiddenPage(c: ConsoleContext): Promise<Response> {
  const t = c.get('t');
  return renderPage(c, { title: t.common.forbiddenTitle, status: 403, body: <><Heading>{t.common.forbiddenTitle}</Heading><P>{t.common.forbidden}</P></> });
}

/** A POST that did not come from this origin or lacks the session's token: refused, nothing done. */
function refused(c: ConsoleContext): Promise<Response> | Response {
  const t = c.get('t');
  if ((c.req.header('content-type') ?? '').startsWith('application/json')) return c.json({ code: 'csrf_refused', message: t.common.refused }, 403);
  return renderPage(c, { title: t.common.refusedTitle, status: 403, body: <><Heading>{t.common.refusedTitle}</Heading><Alert type="error"><P>{t.common.refused}</P></Alert></> });
}

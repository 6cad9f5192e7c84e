import type { Hono } from 'hono';
import { deleteCookie } from 'hono/cookie';
import { reader, withTransaction } from '../app/context.ts';
import { notFound } from '../app/errors.ts';
import { type AuditEntry, appendAudit } from '../store/audit.ts';
import { openSessionsOf, revokeAllSessions } from '../store/console-sessions.ts';
import { insertPasskey, passkeysOf, removePasskey } from '../store/professionals.ts';
import { type ConsoleContext, type ConsoleEnv, type ConsoleServices, field, formatDate, renderPage } from './context.tsx';
import { Alert, Csrf, H2, Heading, P, PasskeyButton } from './layout.tsx';
import { registrationOptions, verifyRegistration } from './passkeys.ts';
import { isRole } from './roles.ts';
import { SESSION_COOKIE, SESSION_COOKIE_OPTIONS, sessionState } from './sessions.ts';

/** Account: the professional's passkeys (add, remove but the last) and sessions (sign out everywhere). */
export function accountRoutes(app: Hono<ConsoleEnv>, s: ConsoleServices): void {
  const { deps, settings } = s;
  const audit = (c: ConsoleContext, action: string, resource: string | null): AuditEntry => {
    const { professional } = c.get('auth');
    return { at: deps.clock.now().toISOString(), agencyId: professional.agencyId, actor: professional.id, action, subject: null, resource, outcome: 'ok', requestId: c.get('requestId') ?? null };
  };

  app.get('/account', async (c) => {
    const t = c.get('t');
    const a = t.account;
    const { professional, session } = c.get('auth');
    const now = deps.clock.now();
    const keys = await passkeysOf(reader(deps), professional.id);
    const sessions = (await openSessionsOf(reader(deps), professional.id, now.toISOString())).filter((x) => sessionState(x, settings, now) === 'open');
    const done = c.req.query('gedaan');
    const notice = done === 'removed' ? a.removed : done === 'added' ? a.added : done === 'last' ? a.lastPasskey : null;
    return renderPage(c, {
      title: a.title,
      current: 'account',
      scripts: true,
      body: (
        <>
          <Heading>{a.title}</Heading>
          {notice ? <Alert type={done === 'last' ? 'warning' : 'ok'}><P>{notice}</P></Alert> : null}
          <H2>{a.profile}</H2>
          <dl class="bk-dl">
            <dt>{a.name}</dt>
            <dd>{professional.name}</dd>
            <dt>{a.email}</dt>
            <dd>{professional.email}</dd>
            {professional.phone ? (
              <>
                <dt>{a.phone}</dt>
                <dd>{professional.phone}</dd>
              </>
            ) : null}
            <dt>{a.roles}</dt>
            <dd>{professional.roles.filter(isRole).map((r) => t.common.roles[r]).join(', ')}</dd>
          </dl>

          <H2 id="passkeys">{a.passkeys}</H2>
          <P>{a.passkeysIntro}</P>
          {keys.map((k, i) => (
            <section class="bk-card" aria-labelledby={`passkey-${i + 1}`}>
              <h3 class="utrecht-heading-3" id={`passkey-${i + 1}`}>{a.passkeyLabel(i + 1)}</h3>
              <dl class="bk-dl">
                <dt>{a.passkeyCreated}</dt>
                <dd>{formatDate(c, k.createdAt, true)}</dd>
                <dt>{a.passkeyLastUsed}</dt>
                <dd>{k.lastUsedAt ? formatDate(c, k.lastUsedAt, true) : a.never}</dd>
                <dt>{a.passkeySynced}</dt>
                <dd>{k.backedUp ? a.yes : a.no}</dd>
              </dl>
              {keys.length > 1 ? (
                <form method="post" action="/console/account/passkeys/verwijderen">
                  <Csrf token={session.csrfToken} />
                  <input type="hidden" name="passkey" value={k.id} />
                  <button type="submit" class="utrecht-button utrecht-button--secondary-action" aria-label={a.removeLabel(i + 1)}>
                    {a.remove}
                  </button>
                </form>
              ) : (
                <P>{a.lastPasskey}</P>
              )}
            </section>
          ))}
          <PasskeyButton t={t} kind="register" options="/console/account/passkeys/opties" verify="/console/account/passkeys" label={a.addPasskey} secondary />

          <H2 id="sessies">{a.sessions}</H2>
          <div class="bk-table-wrap">
            <table class="utrecht-table utrecht-table--html-table">
              <thead class="utrecht-table__header">
                <tr class="utrecht-table__row">
                  <th class="utrecht-table__header-cell" scope="col">{a.sessionDevice}</th>
                  <th class="utrecht-table__header-cell" scope="col">{a.sessionStarted}</th>
                  <th class="utrecht-table__header-cell" scope="col">{a.sessionLastSeen}</th>
                </tr>
              </thead>
              <tbody class="utrecht-table__body">
                {sessions.map((x) => (
                  <tr class="utrecht-table__row">
                    <td class="utrecht-table__cell">
                      {x.device}
                      {x.id === session.id ? ` (${a.thisSession})` : ''}
                    </td>
                    <td class="utrecht-table__cell">{formatDate(c, x.createdAt, true)}</td>
                    <td class="utrecht-table__cell">{formatDate(c, x.lastSeenAt, true)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <form method="post" action="/console/account/overal-uitloggen">
            <Csrf token={session.csrfToken} />
            <P>{a.signOutEverywhereHint}</P>
            <button type="submit" class="utrecht-button utrecht-button--secondary-action">{a.signOutEverywhere}</button>
          </form>
        </>
      ),
    });
  });

  app.post('/account/passkeys/opties', async (c) => {
    const { professional } = c.get('auth');
    return c.json(await registrationOptions(s.rp, s.challenges, professional, await passkeysOf(reader(deps), professional.id)));
  });

  app.post('/account/passkeys', async (c) => {
    const { professional } = c.get('auth');
    const passkey = await verifyRegistration(s.rp, s.challenges, professional.id, await c.req.json().catch(() => null), deps.clock.now().toISOString());
    if (!passkey) return c.json({ code: 'passkey_refused', message: c.get('t').common.passkeyFailed }, 400);
    await withTransaction(deps, async (tx) => {
      await insertPasskey(tx, passkey);
      await appendAudit(tx, audit(c, 'passkey.add', passkey.id));
    });
    return c.json({ redirect: '/console/account?gedaan=added' });
  });

  app.post('/account/passkeys/verwijderen', async (c) => {
    const { professional } = c.get('auth');
    const id = field(await c.req.parseBody(), 'passkey') ?? '';
    const result = await withTransaction(deps, async (tx) => {
      const outcome = await removePasskey(tx, professional.id, id);
      if (outcome === 'removed') await appendAudit(tx, audit(c, 'passkey.remove', id));
      return outcome;
    });
    if (result === 'missing') throw notFound('passkey_not_found', 'no such passkey of yours');
    return c.redirect(`/console/account?gedaan=${result}#passkeys`, 303);
  });

  app.post('/account/overal-uitloggen', async (c) => {
    const { professional } = c.get('auth');
    await withTransaction(deps, async (tx) => {
      await revokeAllSessions(tx, professional.id, deps.clock.now().toISOString());
      await appendAudit(tx, audit(c, 'console.sign_out_everywhere', null));
    });
    deleteCookie(c, SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
    return c.redirect('/console/inloggen?uitgelogd=1', 303);
  });
}

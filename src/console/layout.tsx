import type { Child } from 'hono/jsx';
import type { Lang, Messages } from './i18n/index.ts';

/** What the frame of a page knows about who is signed in. */
export interface Frame {
  lang: Lang;
  t: Messages;
  /** The path of this page, for the language switch to come back to. */
  path: string;
  who?: { name: string; agency: string; admin: boolean; csrf: string; unread?: number | null };
  /** The navigation entry this page belongs to. */
  current?: NavKey;
  /** Passkey pages load the WebAuthn bundle and the console's script. */
  scripts?: boolean;
  /** Where the page sends the browser on at once (a meta refresh, no script). */
  refreshTo?: string;
}

export type NavKey = 'report' | 'mySignals' | 'inbox' | 'account' | 'staff';

export const NAV: Array<{ key: NavKey; href: string; adminOnly?: boolean }> = [
  { key: 'report', href: '/console/melden' },
  { key: 'mySignals', href: '/console/meldingen' },
  { key: 'inbox', href: '/console/berichten' },
  { key: 'account', href: '/console/account' },
  { key: 'staff', href: '/console/medewerkers', adminOnly: true },
];

/** The console's page: NL Design System (Utrecht) components, themed by the served tokens. */
export function Layout({ frame, title, children }: { frame: Frame; title: string; children: Child }) {
  const { t, who } = frame;
  const back = encodeURIComponent(frame.path);
  return (
    <html lang={frame.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · ${t.common.appName}`}</title>
        <link rel="stylesheet" href="/console/assets/utrecht.css" />
        <link rel="stylesheet" href="/console/assets/tokens.css" />
        <link rel="stylesheet" href="/console/assets/console.css" />
        <link rel="stylesheet" href="/console/assets/pages.css" />
        {who ? <meta name="csrf-token" content={who.csrf} /> : null}
        {frame.refreshTo ? <meta http-equiv="refresh" content={`0;url=${frame.refreshTo}`} /> : null}
        {frame.scripts ? <script src="/console/assets/webauthn.js" defer></script> : null}
        {frame.scripts ? <script src="/console/assets/console.js" defer></script> : null}
      </head>
      <body class="utrecht-theme utrecht-body bk-body">
        <a class="utrecht-skip-link utrecht-skip-link--visible-on-focus" href="#inhoud">
          {t.common.skipToContent}
        </a>
        <header class="bk-header">
          <div class="bk-header__bar">
            <p class="bk-brand">{t.common.appName}</p>
            {who ? <p class="bk-who">{t.common.signedInAs(who.name, who.agency)}</p> : null}
            <div class="bk-header__actions">
              <a class="utrecht-link" href={`/console/taal?lang=${t.common.switchToLang}&terug=${back}`} lang={t.common.switchToLang} hreflang={t.common.switchToLang}>
                {t.common.switchTo}
              </a>
              {who ? (
                <form method="post" action="/console/uitloggen" class="bk-inline-form">
                  <input type="hidden" name="_csrf" value={who.csrf} />
                  <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                    {t.common.signOut}
                  </button>
                </form>
              ) : null}
            </div>
          </div>
          {who ? (
            <nav class="bk-nav" aria-label={t.common.nav.label}>
              <ul class="bk-nav__list">
                {NAV.filter((n) => !n.adminOnly || who.admin).map((n) => (
                  <li>
                    <a class="bk-nav__link" href={n.href} aria-current={frame.current === n.key ? 'page' : undefined}>
                      {t.common.nav[n.key]}
                      {n.key === 'inbox' && who.unread ? <UnreadCount n={who.unread} t={t} /> : null}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
        </header>
        <main id="inhoud" class="bk-main">
          {children}
        </main>
      </body>
    </html>
  );
}

/** The header's count of unread notices: a badge, read out as a phrase. */
function UnreadCount({ n, t }: { n: number; t: Messages }) {
  return (
    <>
      {' '}
      <span class="bk-count" aria-hidden="true">{n}</span>
      <span class="bk-visually-hidden">{` (${t.inbox.unreadCount(n)})`}</span>
    </>
  );
}

export function Heading({ children }: { children: Child }) {
  return <h1 class="utrecht-heading-1">{children}</h1>;
}

export function H2({ children, id }: { children: Child; id?: string }) {
  return (
    <h2 class="utrecht-heading-2" id={id}>
      {children}
    </h2>
  );
}

export function P({ children, lead }: { children: Child; lead?: boolean }) {
  return <p class={lead ? 'utrecht-paragraph utrecht-paragraph--lead' : 'utrecht-paragraph'}>{children}</p>;
}

export function Alert({ type, children, id }: { type: 'info' | 'ok' | 'warning' | 'error'; children: Child; id?: string }) {
  return (
    <div class={`utrecht-alert utrecht-alert--${type}`} role={type === 'error' ? 'alert' : 'status'} id={id}>
      <div class="bk-alert-body">{children}</div>
    </div>
  );
}

export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** A text field with its label, hint and error beside it (the error named by aria-describedby). */
export function TextField(props: {
  name: string;
  label: string;
  value?: string | null;
  hint?: string;
  error?: string | undefined;
  type?: string;
  required?: boolean;
  autocomplete?: string;
  inputmode?: 'numeric' | 'email' | 'tel' | 'text';
  requiredText?: string;
}) {
  const id = `veld-${props.name}`;
  const describedBy = [props.hint ? `${id}-hint` : null, props.error ? `${id}-fout` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`utrecht-form-field utrecht-form-field--text${props.error ? ' utrecht-form-field--invalid' : ''}`}>
      <div class="utrecht-form-field__label">
        <label class="utrecht-form-label" for={id}>
          {props.label}
          {props.requiredText ? <span class="bk-muted"> ({props.requiredText})</span> : null}
        </label>
      </div>
      {props.hint ? (
        <div class="utrecht-form-field-description" id={`${id}-hint`}>
          {props.hint}
        </div>
      ) : null}
      {props.error ? (
        <div class="utrecht-form-field-error-message" id={`${id}-fout`}>
          {props.error}
        </div>
      ) : null}
      <div class="utrecht-form-field__input">
        <input
          class={`utrecht-textbox utrecht-textbox--html-input${props.error ? ' utrecht-textbox--invalid' : ''}`}
          id={id}
          name={props.name}
          type={props.type ?? 'text'}
          value={props.value ?? ''}
          required={props.required}
          aria-invalid={props.error ? 'true' : undefined}
          aria-describedby={describedBy}
          autocomplete={props.autocomplete}
          inputmode={props.inputmode}
        />
      </div>
    </div>
  );
}

/** An error's message beside a group of fields. */
export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <div class="utrecht-form-field-error-message" id={id}>
      {error}
    </div>
  ) : null;
}

/** A passkey button that only JavaScript reveals, and the sentence that says it needs JavaScript when it cannot. */
export function PasskeyButton(props: { t: Messages; kind: 'authenticate' | 'register'; options: string; verify: string; label: string; secondary?: boolean }) {
  const { t } = props;
  return (
    <>
      <p class="utrecht-paragraph" data-needs-js>
        {t.common.needsJavaScript}
      </p>
      <div class="bk-actions">
        <button
          type="button"
          class={`utrecht-button ${props.secondary ? 'utrecht-button--secondary-action' : 'utrecht-button--primary-action'}`}
          data-passkey={props.kind}
          data-options={props.options}
          data-verify={props.verify}
          data-failed={t.common.passkeyFailed}
          aria-describedby="passkey-status"
          hidden
        >
          {props.label}
        </button>
      </div>
      <div class="utrecht-form-field-error-message" id="passkey-status" role="alert" hidden></div>
    </>
  );
}

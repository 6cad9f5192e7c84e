import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AgencyActor, Ctx, Deps } from '../app/context.ts';
import type { ConsoleConfig } from '../config.ts';
import type { Lang, Messages } from './i18n/index.ts';
import { type Frame, Layout, type NavKey } from './layout.tsx';
import type { ChallengeStore, RelyingParty } from './passkeys.ts';
import type { AttemptLimiter } from './rate-limit.ts';
import type { SignedIn } from './sessions.ts';

/** Per-request values of the console. `auth` is set on every page behind sign-in. */
export interface ConsoleEnv {
  Variables: {
    requestId: string;
    actor: AgencyActor;
    lang: Lang;
    t: Messages;
    auth: SignedIn;
    /** The signed-in agency's unread notices for the header (null: it may not read notices). */
    unread: () => Promise<number | null>;
  };
}
export type ConsoleContext = Context<ConsoleEnv>;

/** What the console's routes share, built once by createConsole. */
export interface ConsoleServices {
  deps: Deps;
  settings: ConsoleConfig;
  rp: RelyingParty;
  challenges: ChallengeStore;
  signInLimiter: AttemptLimiter;
}

/** The use-case context of the signed-in professional: the same verbs as the API, with them as actor. */
export function ctxOf(c: ConsoleContext, deps: Deps): Ctx {
  return { deps, actor: c.get('auth').actor, requestId: c.get('requestId') ?? null };
}

export function hasRole(c: ConsoleContext, role: string): boolean {
  return c.get('auth').professional.roles.includes(role);
}

/** The frame of a page for whoever asks: signed in (header, navigation, sign-out) or not. */
export function frameOf(c: ConsoleContext, current?: NavKey, scripts?: boolean): Frame {
  const auth = c.get('auth') as SignedIn | undefined;
  const frame: Frame = { lang: c.get('lang'), t: c.get('t'), path: new URL(c.req.url).pathname };
  if (auth) {
    frame.who = { name: auth.professional.name, agency: auth.agency.name, admin: auth.professional.roles.includes('admin'), csrf: auth.session.csrfToken };
  }
  if (current) frame.current = current;
  if (scripts) frame.scripts = true;
  return frame;
}

/** Renders a whole page (with its doctype) in the frame. */
export async function renderPage(c: ConsoleContext, opts: { title: string; body: Child; current?: NavKey; scripts?: boolean; status?: number; refreshTo?: string }): Promise<Response> {
  const frame = frameOf(c, opts.current, opts.scripts);
  if (opts.refreshTo) frame.refreshTo = opts.refreshTo;
  const unread = c.get('unread') as ConsoleEnv['Variables']['unread'] | undefined;
  if (frame.who && unread) frame.who.unread = await unread();
  const html = await (<Layout frame={frame} title={opts.title}>{opts.body}</Layout>);
  return c.html(`<!DOCTYPE html>${html}`, (opts.status ?? 200) as 200);
}

/** Dates as people read them, in the page's language and the Netherlands' time zone. */
export function formatDate(c: ConsoleContext, iso: string, withTime = false): string {
  return new Intl.DateTimeFormat(c.get('t').common.dateLocale, {
    dateStyle: 'long',
    ...(withTime ? { timeStyle: 'short' } : {}),
    timeZone: 'Europe/Amsterdam',
  }).format(new Date(iso));
}

/** One value of a posted form (the first, when a name repeats); files are not accepted. */
export function field(form: Record<string, unknown>, name: string): string | undefined {
  const v = form[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : undefined;
}

/** Every value of a posted form's repeated field. */
export function fields(form: Record<string, unknown>, name: string): string[] {
  const v = form[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
}

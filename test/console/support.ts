import type { Harness, TestAgency } from '../support/harness.ts';
import { DEFAULT_CONSOLE_CONFIG } from '../../src/config.ts';
import { inviteProfessional } from '../../src/console/professionals.ts';
import { hashSecret } from '../../src/console/secrets.ts';
import { newSessionRow, SESSION_COOKIE } from '../../src/console/sessions.ts';
import { withTransaction } from '../../src/app/context.ts';
import { insertSession } from '../../src/store/console-sessions.ts';
import { activateProfessional, insertPasskey, openInvitation, useInvitation } from '../../src/store/professionals.ts';

export interface ConsoleUser {
  professionalId: string;
  /** The Cookie header of the session. */
  cookie: string;
  csrf: string;
  sessionId: string;
}

let passkeyCounter = 0;

/**
 * A professional of the agency, enrolled and signed in without a browser: invited through the use
 * case, then enrolled with a stand-in passkey row (the HTTP tests check sessions, not WebAuthn;
 * the browser journey does that with a virtual authenticator).
 */
export async function signedInProfessional(h: Harness, agency: TestAgency, roles: string[] = ['registrant'], name = 'Jet de Vries'): Promise<ConsoleUser> {
  const email = `p${++passkeyCounter}@example.nl`;
  const { link } = await inviteProfessional(h.deps, { agencyId: agency.id, fields: { name, email, phone: '050-1234567', roles }, invitedBy: null });
  const token = link.split('/').at(-1)!;
  const open = await openInvitation(h.store.reader, hashSecret(token), h.clock.now().toISOString());
  if (!open) throw new Error('the invitation does not open');
  const at = h.clock.now().toISOString();
  const session = newSessionRow(h.deps, DEFAULT_CONSOLE_CONFIG, open.professional.id, 'test');
  const professionalId = open.professional.id;
  const done = await withTransaction(h.deps, async (tx) => {
    if (!(await useInvitation(tx, hashSecret(token), at))) return false;
    await insertPasskey(tx, { id: `testpasskey${passkeyCounter}xxxxxxxx`, professionalId, publicKey: Buffer.alloc(32), counter: 0, transports: [], backedUp: false, createdAt: at, lastUsedAt: null });
    await activateProfessional(tx, professionalId);
    await insertSession(tx, session.row);
    return true;
  });
  if (!done) throw new Error('enrolment failed');
  return { professionalId: open.professional.id, cookie: `${SESSION_COOKIE}=${session.token}`, csrf: session.row.csrfToken, sessionId: session.row.id };
}

/** A console request as a browser of this origin sends it. */
export function consoleRequest(h: Harness, method: string, path: string, opts: { user?: ConsoleUser; form?: Record<string, string | string[]>; origin?: string | null; csrf?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (opts.user) headers.cookie = opts.user.cookie;
  if (opts.origin !== null) headers.origin = opts.origin ?? h.deps.issuer;
  let body: string | undefined;
  if (opts.form || method === 'POST') {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.form ?? {})) for (const x of [v].flat()) form.append(k, x);
    const csrf = opts.csrf === undefined ? opts.user?.csrf : opts.csrf;
    if (csrf) form.set('_csrf', csrf);
    body = form.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  return Promise.resolve(h.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) }));
}

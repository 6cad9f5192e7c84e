import { type AgencyActor, type Deps, withTransaction } from '../app/context.ts';
import type { ConsoleConfig } from '../config.ts';
import { opaqueId } from '../crypto/ids.ts';
import { type AgencyRow, activeAgencyById } from '../store/agencies.ts';
import { type ConsoleSessionRow, type NewConsoleSessionRow, sessionByTokenHash, touchSession } from '../store/console-sessions.ts';
import { professionalById, type ProfessionalRow } from '../store/professionals.ts';
import { professionalActor } from './roles.ts';
import { hashSecret, newSecret } from './secrets.ts';

/** The session cookie: `__Host-` binds it to this host, path / and Secure. */
export const SESSION_COOKIE = '__Host-betrokken-sessie';
export const SESSION_COOKIE_OPTIONS = { path: '/', secure: true, httpOnly: true, sameSite: 'Strict' } as const;

export interface SignedIn {
  session: ConsoleSessionRow;
  professional: ProfessionalRow;
  agency: AgencyRow;
  actor: AgencyActor;
}

/** A new session for the professional: the secret for the cookie and the row that keeps its hash. */
export function newSessionRow(deps: Deps, settings: ConsoleConfig, professionalId: string, device: string): { token: string; row: NewConsoleSessionRow } {
  const now = deps.clock.now();
  const token = newSecret();
  return {
    token,
    row: {
      id: opaqueId('ses'),
      tokenHash: hashSecret(token),
      professionalId,
      csrfToken: newSecret(),
      device,
      createdAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + settings.absoluteHours * 3_600_000).toISOString(),
      revokedAt: null,
    },
  };
}

/** Whether a session is still usable at `now`: not revoked, not past its absolute end, not idle too long. */
export function sessionState(session: ConsoleSessionRow, settings: ConsoleConfig, now: Date): 'open' | 'revoked' | 'expired' {
  if (session.revokedAt) return 'revoked';
  if (now.toISOString() >= session.expiresAt) return 'expired';
  if (now.getTime() - Date.parse(session.lastSeenAt) >= settings.idleMinutes * 60_000) return 'expired';
  return 'open';
}

/**
 * The professional a session cookie belongs to, with the actor they act as, or why there is none.
 * Every use counts as activity; a disabled professional or agency has no session.
 */
export async function resolveSession(deps: Deps, settings: ConsoleConfig, token: string | undefined): Promise<SignedIn | 'none' | 'expired'> {
  if (!token || !/^[0-9a-z]{40,60}$/.test(token)) return 'none';
  return withTransaction(deps, async (tx): Promise<SignedIn | 'none' | 'expired'> => {
    const session = await sessionByTokenHash(tx, hashSecret(token));
    if (!session) return 'none';
    const now = deps.clock.now();
    const state = sessionState(session, settings, now);
    if (state !== 'open') return state === 'expired' ? 'expired' : 'none';
    const professional = await professionalById(tx, session.professionalId);
    if (!professional || professional.status !== 'active') return 'none';
    const agency = await activeAgencyById(tx, professional.agencyId);
    if (!agency) return 'none';
    await touchSession(tx, session.id, now.toISOString());
    return { session: { ...session, lastSeenAt: now.toISOString() }, professional, agency, actor: professionalActor(deps.policy, agency, professional) };
  });
}

/** A short name of the browser and system from the User-Agent, for the list of sessions. */
export function describeDevice(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : null;
  const system = /iPhone|iPad/.test(ua) ? 'iOS' : /Android/.test(ua) ? 'Android' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : null;
  return [browser ?? '?', system].filter(Boolean).join(' · ');
}

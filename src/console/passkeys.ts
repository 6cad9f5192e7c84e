import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { Clock } from '../app/context.ts';
import type { NewPasskeyRow, PasskeyRow, ProfessionalRow } from '../store/professionals.ts';

/** The relying party: the console's origin and host, from the service's public URL. */
export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export function relyingPartyOf(issuer: string): RelyingParty {
  const url = new URL(issuer);
  return { id: url.hostname, name: 'Betrokken', origin: url.origin };
}

const CHALLENGE_MS = 5 * 60_000;

type Purpose = { kind: 'register'; professionalId: string } | { kind: 'authenticate' };

/**
 * Challenges handed out and not yet answered, each usable once and for five minutes. They live in
 * this process: a deployment with several instances sends a browser back to the same one.
 */
export class ChallengeStore {
  private readonly open = new Map<string, { purpose: Purpose; until: number }>();
  constructor(private readonly clock: Clock) {}

  remember(challenge: string, purpose: Purpose): void {
    const now = this.clock.now().getTime();
    if (this.open.size > 10_000) for (const [k, v] of this.open) if (v.until <= now) this.open.delete(k);
    this.open.set(challenge, { purpose, until: now + CHALLENGE_MS });
  }

  /** Takes the challenge out: true when it was handed out for this purpose and is still fresh. */
  consume(challenge: string, purpose: Purpose): boolean {
    const entry = this.open.get(challenge);
    if (!entry) return false;
    this.open.delete(challenge);
    const same = entry.purpose.kind === purpose.kind && (purpose.kind !== 'register' || (entry.purpose.kind === 'register' && entry.purpose.professionalId === purpose.professionalId));
    return same && entry.until > this.clock.now().getTime();
  }
}

/** Options to make a discoverable, user-verifying passkey for the professional. */
export async function registrationOptions(
  rp: RelyingParty,
  challenges: ChallengeStore,
  professional: ProfessionalRow,
  existing: PasskeyRow[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: professional.email,
    userDisplayName: professional.name,
    userID: new TextEncoder().encode(professional.webauthnUserId),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports as never })),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
  });
  challenges.remember(options.challenge, { kind: 'register', professionalId: professional.id });
  return options;
}

/** Checks a new passkey; the row to keep, or null when it does not verify. */
export async function verifyRegistration(
  rp: RelyingParty,
  challenges: ChallengeStore,
  professionalId: string,
  response: unknown,
  at: string,
): Promise<NewPasskeyRow | null> {
  try {
    const result = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: (c) => challenges.consume(c, { kind: 'register', professionalId }),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
    if (!result.verified) return null;
    const { credential, credentialBackedUp } = result.registrationInfo;
    return {
      id: credential.id,
      professionalId,
      publicKey: Buffer.from(credential.publicKey),
      counter: credential.counter,
      transports: credential.transports ?? [],
      backedUp: credentialBackedUp,
      createdAt: at,
      lastUsedAt: null,
    };
  } catch {
    return null;
  }
}

/** Options to sign in with any passkey of this site (no user name asked). */
export async function authenticationOptions(rp: RelyingParty, challenges: ChallengeStore): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({ rpID: rp.id, userVerification: 'required', allowCredentials: [] });
  challenges.remember(options.challenge, { kind: 'authenticate' });
  return options;
}

/** The credential id a sign-in answer names, or null for something that is not one. */
export function credentialIdOf(response: unknown): string | null {
  const id = (response as { id?: unknown } | null)?.id;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{16,1366}$/.test(id) ? id : null;
}

/** Checks a sign-in with a known passkey; its new signature counter, or null. */
export async function verifyAuthentication(rp: RelyingParty, challenges: ChallengeStore, passkey: PasskeyRow, response: unknown): Promise<number | null> {
  try {
    const result = await verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: (c) => challenges.consume(c, { kind: 'authenticate' }),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: passkey.id, publicKey: new Uint8Array(passkey.publicKey), counter: passkey.counter, transports: passkey.transports as never },
      requireUserVerification: true,
    });
    return result.verified ? result.authenticationInfo.newCounter : null;
  } catch {
    return null;
  }
}

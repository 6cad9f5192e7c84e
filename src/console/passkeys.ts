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
import { type Deps, withTransaction } from '../app/context.ts';
import { insertPasskeyChallenge, takePasskeyChallenge } from '../store/passkey-challenges.ts';
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
 * Challenges handed out and not yet answered, each usable once and for five minutes. They are kept
 * in the database, so that an answer may reach any instance of the service and is still accepted
 * by one only.
 */
export class ChallengeStore {
  constructor(private readonly deps: Pick<Deps, 'store' | 'clock'>) {}

  async remember(challenge: string, purpose: Purpose): Promise<void> {
    const now = this.deps.clock.now();
    const row = { challenge, purpose: purpose.kind, professionalId: purpose.kind === 'register' ? purpose.professionalId : null, expiresAt: new Date(now.getTime() + CHALLENGE_MS).toISOString() };
    await withTransaction(this.deps, (tx) => insertPasskeyChallenge(tx, row, now.toISOString()));
  }

  /** Takes the challenge out: true when it was handed out for this purpose and is still fresh. */
  async consume(challenge: string, purpose: Purpose): Promise<boolean> {
    const entry = await withTransaction(this.deps, (tx) => takePasskeyChallenge(tx, challenge));
    if (!entry) return false;
    const same = entry.purpose === purpose.kind && (purpose.kind !== 'register' || entry.professionalId === purpose.professionalId);
    return same && entry.expiresAt > this.deps.clock.now().toISOString();
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
  await challenges.remember(options.challenge, { kind: 'register', professionalId: professional.id });
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
  await challenges.remember(options.challenge, { kind: 'authenticate' });
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

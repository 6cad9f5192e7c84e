import type { signin as nl } from '../nl/signin.ts';

export const signin: typeof nl = {
  title: 'Sign in',
  intro: 'Sign in with your passkey: with your fingerprint, face or PIN on this device, or with your phone. No user name or password needed.',
  button: 'Sign in with a passkey',
  noPasskey: "No passkey yet? Ask your organisation's administrator for an invitation.",
  signedOut: 'You have signed out.',
  expired: 'Your session has ended. Please sign in again.',
  refused: 'Signing in did not work. Use a passkey you made for Betrokken.',
  tooMany: 'Too many attempts. Wait a few minutes and try again.',
  enrolTitle: 'Create a passkey',
  enrolIntro: (name, agency) => `Welcome, ${name}. You have been invited to Betrokken on behalf of ${agency}.`,
  enrolHow: 'Create a passkey to sign in from now on. Your device asks for your fingerprint, face or PIN; these stay on your device.',
  enrolButton: 'Create a passkey',
  invitationInvalidTitle: 'Invitation not valid',
  oidcTitle: 'Sign in through your organisation',
  oidcIntro: 'Do you sign in at your organisation with an account of its own? Choose your organisation; you sign in there and then come back to Betrokken.',
  oidcVia: (agency) => `Sign in through ${agency}`,
  oidcRefusedTitle: 'Signing in did not work',
  oidcRefused:
    "Your organisation signed you in, but Betrokken does not know you yet, or your e-mail address is not confirmed there. Ask your organisation's administrator for an invitation to your e-mail address.",
  oidcFailed: 'Signing in through your organisation was not completed or took too long. Please try again.',
  oidcContinue: 'You are signed in. Continue to Betrokken.',
  invitationInvalid: "This invitation has expired or has been used. Ask your organisation's administrator for a new one.",
};

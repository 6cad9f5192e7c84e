/** Sign-in and enrolment through an invitation. */
export const signin = {
  title: 'Inloggen',
  intro: 'Log in met uw passkey: met uw vingerafdruk, gezicht of pincode op dit apparaat, of met uw telefoon. U hoeft geen gebruikersnaam of wachtwoord in te vullen.',
  button: 'Inloggen met passkey',
  noPasskey: 'Heeft u nog geen passkey? Vraag de beheerder van uw organisatie om een uitnodiging.',
  signedOut: 'U bent uitgelogd.',
  expired: 'Uw sessie is verlopen. Log opnieuw in.',
  refused: 'Inloggen lukte niet. Gebruik een passkey die u voor Betrokken heeft gemaakt.',
  tooMany: 'Te veel pogingen. Wacht enkele minuten en probeer het dan opnieuw.',
  enrolTitle: 'Passkey aanmaken',
  enrolIntro: (name: string, agency: string) => `Welkom, ${name}. U bent uitgenodigd voor Betrokken namens ${agency}.`,
  enrolHow: 'Maak een passkey aan om voortaan in te loggen. Uw apparaat vraagt u om uw vingerafdruk, gezicht of pincode; die blijven op uw apparaat.',
  enrolButton: 'Passkey aanmaken',
  invitationInvalidTitle: 'Uitnodiging niet geldig',
  invitationInvalid: 'Deze uitnodiging is verlopen of al gebruikt. Vraag de beheerder van uw organisatie om een nieuwe.',
};

import fs from 'node:fs';

/** One command of the command line: how it is called and what it does. */
interface CommandHelp {
  usage: string;
  about: string;
}

/**
 * Every command and subcommand, by its words. `betrokken WORDS --help` prints its entry (a group's
 * `--help` lists its subcommands) and does nothing else: no configuration read, no file touched.
 */
export const COMMANDS: Record<string, CommandHelp> = {
  start: {
    usage: 'start [--allow-orphans]',
    about:
      'migrate the database, check the keys and the policy, then serve the API (what npm start runs); a policy that drops a type or\n' +
      'scope that agencies use refuses to start, naming them, unless --allow-orphans',
  },
  migrate: { usage: 'migrate', about: 'apply migrations and exit; on an empty or missing data directory this creates a new, empty index with new keys' },
  backup: {
    usage: 'backup DIR',
    about:
      'copy the database into DIR while the service runs (SQLite online backup), verify the copy (integrity, audit chain, keys for every\n' +
      'key-encryption key version it uses) and name the keys directory that belongs with it; DIR must not hold a backup already',
  },
  restore: {
    usage: 'restore DIR',
    about:
      'put the backup in DIR in place as the database (service stopped, no database at BETROKKEN_DB), after verifying it against the\n' +
      'keys directory; restore that directory first, from the keys backup that belongs with it',
  },
  'agency add': {
    usage: 'agency add --name N --type T --municipality CODE [--district D]… --public-key FILE [--webhook URL] [--grant SCOPE]… [--json]',
    about: 'register an agency with its public key (JWK or PEM, Ed25519 or P-256); prints its id',
  },
  'agency list': { usage: 'agency list [--json]', about: 'the agencies, one a line in aligned columns' },
  'agency disable': { usage: 'agency disable ID', about: "suspend an agency's signals and send it nothing until it is enabled again" },
  'agency enable': { usage: 'agency enable ID', about: "let a disabled agency's signals count again" },
  'agency key add': { usage: 'agency key add ID FILE', about: 'add a public key to an agency' },
  'agency key revoke': { usage: 'agency key revoke ID KID', about: "revoke a key: its assertions and the tokens it earned are refused at once" },
  'agency webhook': {
    usage: 'agency webhook ID URL [--secret] | agency webhook ID --remove',
    about: 'push notices to URL, or stop pushing (the inbox keeps them); --secret: also sign v1 (HMAC) with a new secret, shown once',
  },
  'professional invite': {
    usage: 'professional invite --agency ID --name N --email E [--phone P] [--role ROLE]…',
    about:
      "invite a professional of the agency to the console (roles: registrant, coordinator, privacy_officer, statistics, admin;\n" +
      'default registrant); prints a one-time enrolment link, valid 72 hours, under BETROKKEN_ISSUER: the first admin starts here',
  },
  'agency oidc': {
    usage: 'agency oidc --agency ID --issuer URL --client-id ID | agency oidc --agency ID --remove',
    about:
      "let the agency's professionals sign in to the console through its own OpenID provider (https; its discovery is checked first),\n" +
      "as client ID authenticating with private_key_jwt under the service's key (register the service's JWKS URI there); or stop that",
  },
  'keys rotate': { usage: 'keys rotate', about: 'new key-encryption key and signing key; old ones kept. Back up the keys directory right after' },
  'jobs run': { usage: 'jobs run [retention|escalation|reminders]…', about: 'run the periodic jobs once (the server runs them on a timer)' },
  'deliveries list': { usage: 'deliveries list [--agency ID] [--status failed|pending|delivered|all] [--json]', about: 'webhook deliveries per agency' },
  'deliveries retry': { usage: 'deliveries retry (--agency ID | NOTICE_ID)', about: 'queue failed webhook deliveries again' },
  'audit verify': {
    usage: 'audit verify [--checkpoint FILE [--jwks FILE]]',
    about: 'check the audit hash chain, and that it extends a signed checkpoint kept elsewhere',
  },
  'audit checkpoint': { usage: 'audit checkpoint [--out FILE]', about: 'sign a checkpoint of the audit chain now (JSON, as GET /v1/audit/checkpoint answers)' },
  'db encrypt': { usage: 'db encrypt', about: 'encrypt an unencrypted database in place (service stopped); then start with BETROKKEN_DB_ENCRYPTION=on' },
  'policy check': { usage: 'policy check FILE', about: 'validate a policy file' },
  'policy explain': { usage: 'policy explain FILE --facts FACTS.json [--json]', about: 'the decision for the facts, with every rule that made it' },
  'policy schema': { usage: 'policy schema', about: 'print the JSON Schema of the policy file format' },
  assertion: { usage: 'assertion --agency ID --key FILE [--audience URL]', about: "print a fresh client assertion signed with an agency's private key" },
  demo: {
    usage: 'demo [--env]',
    about: 'create demo agencies with keys (once) and show how to call the API; --env prints shell assignments of their ids and key files',
  },
};

const GROUPS = new Set(Object.keys(COMMANDS).flatMap((words) => words.split(' ').slice(0, -1).map((_, i, all) => all.slice(0, i + 1).join(' '))));

/** The command or group named by the leading words of `args` (options and values skipped), if any. */
export function commandOf(args: string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const name = words.slice(0, n).join(' ');
    if (COMMANDS[name] || GROUPS.has(name)) return name;
  }
  return undefined;
}

/** The help of a command, or the list of a group's subcommands. */
export function helpOf(name: string): string {
  const entry = COMMANDS[name];
  if (entry) return `usage: betrokken ${entry.usage}\n\n${entry.about}`;
  const members = Object.entries(COMMANDS).filter(([words]) => words.startsWith(`${name} `));
  return `usage: betrokken ${name} …\n\n${members.map(([, c]) => `  ${c.usage}\n      ${c.about.replace(/\n/g, '\n      ')}`).join('\n')}`;
}

/** Whether the arguments ask for help (before a `--`, after which everything is a value). */
export function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** The version in package.json. */
export function version(): string {
  return (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

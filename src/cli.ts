import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import type { Logger } from 'pino';
import { z } from 'zod';
import { writeCheckpoint } from './app/audit-checkpoint.ts';
import { addAgency, addAgencyKey, type AgencyRecord, disableAgency, enableAgency, listAgencies, revokeAgencyKey, setAgencyWebhook } from './app/agencies.ts';
import type { Deps } from './app/context.ts';
import { DomainError } from './app/errors.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { AgencyKeyError, parseAgencyPublicKey } from './crypto/agency-keys.ts';
import { type Checkpoint, CheckpointError, verifyCheckpoint } from './crypto/audit-checkpoint.ts';
import { KeyRingError, loadPublicSigningKeys, rotateKeys } from './crypto/key-ring.ts';
import { signClientAssertion } from './crypto/tokens.ts';
import { JOBS, type JobName, runJobs } from './jobs/index.ts';
import type { Progress } from './jobs/retention.ts';
import { createLogger } from './log.ts';
import { decide, type Decision } from './policy/decide.ts';
import { policyJsonSchema } from './policy/json-schema.ts';
import { loadPolicy, PolicyError } from './policy/load.ts';
import { AGENCY_TYPES } from './policy/types.ts';
import { encryptConfiguredDatabase, openConfiguredDatabase, openRuntime } from './runtime.ts';
import { verifyAuditChain } from './store/audit.ts';
import { DatabaseKeyError, inTransaction } from './store/db.ts';
import { listDeliveries, requeueFailed } from './store/notices.ts';

const USAGE = `betrokken — referral index for youth care

  start                         migrate, then serve (what npm start runs)
  migrate                       apply migrations and exit
  agency add --name N --type T --municipality CODE [--district D]… --public-key FILE
             [--webhook URL] [--grant SCOPE]… [--json]
  agency list [--json] | agency disable ID | agency enable ID
  agency key add ID FILE | agency key revoke ID KID
  agency webhook ID URL [--secret] | agency webhook ID --remove
                                --secret: also sign v1 (HMAC) with a new secret, shown once
                                a disabled agency's signals are suspended (they count for no
                                match) and it is sent nothing until it is enabled again; a revoked
                                key's assertions and the tokens it earned are refused at once
  keys rotate                   new key-encryption key and signing key; old ones kept
  jobs run [retention|escalation|reminders]
                                run the periodic jobs once (the server runs them on a timer)
  deliveries list [--agency ID] [--status failed|pending|delivered|all] [--json]
  deliveries retry (--agency ID | NOTICE_ID)
                                webhook deliveries per agency; queue failed ones again
  audit verify [--checkpoint FILE [--jwks FILE]]
                                check the audit hash chain, and that it still extends a signed
                                checkpoint kept elsewhere (verified with the JWK Set in FILE, the
                                service's /.well-known/jwks.json; by default the keys directory's)
  audit checkpoint [--out FILE] sign a checkpoint of the audit chain now (JSON, as
                                GET /v1/audit/checkpoint answers)
  db encrypt                    encrypt an unencrypted database in place (service stopped), with a
                                new keys/database.key; then start with BETROKKEN_DB_ENCRYPTION=on
  policy check FILE             validate a policy file
  policy explain FILE --facts FACTS.json [--json]
                                the decision for the facts, with every rule that made it
  policy schema                 print the JSON Schema of the policy file format
  assertion --agency ID --key FILE [--audience URL]
                                print a fresh client assertion signed with an agency's private key
  demo [--env]                  create demo agencies with keys (once) and show how to call the API;
                                --env prints shell assignments of their ids and key files

Settings come from the environment: PORT, HOST, METRICS_PORT, METRICS_HOST, BETROKKEN_DATA_DIR, BETROKKEN_DB, BETROKKEN_KEYS_DIR,
BETROKKEN_POLICY, BETROKKEN_ISSUER, BETROKKEN_JOB_INTERVAL_S, BETROKKEN_WEBHOOK_ALLOWED_HOSTS, BETROKKEN_DB_ENCRYPTION, LOG_LEVEL.`;

class UsageError extends Error {}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

function readFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function printAgency(a: AgencyRecord): void {
  const districts = a.districts.length ? ` districts=${a.districts.join(',')}` : '';
  console.log(`${a.id}  ${a.status.padEnd(8)} ${a.type.padEnd(12)} ${a.municipality}  ${a.name}${districts}  keys=${a.keys.filter((k) => !k.revokedAt).length}`);
}

async function withRuntime<T>(config: Config, logger: Logger, fn: (deps: Deps) => Promise<T> | T): Promise<T> {
  const deps = await openRuntime(config, logger);
  try {
    return await fn(deps);
  } finally {
    deps.db.$client.close();
  }
}

async function agencyCommand(args: string[], config: Config, logger: Logger): Promise<number> {
  const [verb, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      type: { type: 'string' },
      municipality: { type: 'string' },
      district: { type: 'string', multiple: true },
      'public-key': { type: 'string' },
      webhook: { type: 'string' },
      grant: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      remove: { type: 'boolean' },
      secret: { type: 'boolean' },
    },
  });
  if (values.secret && verb !== 'webhook') throw new UsageError('--secret belongs to agency webhook ID URL --secret');
  return withRuntime(config, logger, async (deps) => {
    switch (verb) {
      case 'add': {
        const publicKey = await parseAgencyPublicKey(readFile(need(values['public-key'], '--public-key FILE')));
        const agency = addAgency(deps, {
          name: need(values.name, '--name'),
          type: need(values.type, '--type'),
          municipality: need(values.municipality, '--municipality'),
          districts: values.district ?? [],
          grants: values.grant ?? [],
          publicKey,
          ...(values.webhook ? { webhookUrl: values.webhook } : {}),
        });
        console.log(values.json ? JSON.stringify(agency, null, 2) : agency.id);
        return 0;
      }
      case 'list': {
        const all = listAgencies(deps);
        if (values.json) console.log(JSON.stringify(all, null, 2));
        else if (all.length === 0) console.log('no agencies yet: add one with `betrokken agency add`');
        else all.forEach(printAgency);
        return 0;
      }
      case 'disable':
        printAgency(disableAgency(deps, need(positionals[0], 'agency id')));
        return 0;
      case 'enable':
        printAgency(enableAgency(deps, need(positionals[0], 'agency id')));
        return 0;
      case 'key': {
        if (positionals[0] === 'revoke') {
          printAgency(revokeAgencyKey(deps, need(positionals[1], 'agency id'), need(positionals[2], 'key id (KID)')));
          return 0;
        }
        if (positionals[0] !== 'add') throw new UsageError('usage: agency key add ID FILE | agency key revoke ID KID');
        const key = await parseAgencyPublicKey(readFile(need(positionals[2], 'key FILE')));
        printAgency(addAgencyKey(deps, need(positionals[1], 'agency id'), key));
        return 0;
      }
      case 'webhook': {
        const id = need(positionals[0], 'agency id');
        if (values.remove === (positionals[1] !== undefined)) throw new UsageError('usage: agency webhook ID URL [--secret] | agency webhook ID --remove');
        const agency = setAgencyWebhook(deps, id, values.remove ? null : need(positionals[1], 'URL'), { secret: values.secret === true });
        printAgency(agency);
        if (agency.webhookSecret) {
          console.log(`webhook secret (shown once; deliveries are signed v1 with it, and v1a): ${agency.webhookSecret}`);
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown agency command ${verb ?? ''}`);
    }
  });
}

const DEMO_AGENCIES = [
  { slug: 'school', name: 'OBS De Starter', type: 'school', districts: [] },
  { slug: 'gp', name: 'Huisartsenpraktijk Selwerd', type: 'gp', districts: [] },
  { slug: 'wij', name: 'WIJ Selwerd', type: 'wij', districts: ['selwerd', 'paddepoel', 'tuinwijk'] },
  { slug: 'veilig-thuis', name: 'Veilig Thuis Groningen', type: 'veilig_thuis', districts: [] },
  { slug: 'municipality', name: 'Gemeente Groningen', type: 'municipality', districts: [] },
] as const;

/** A progress bar on stderr for long sweeps (only on a terminal, so logs and pipes stay clean). */
function progressBar(): Progress {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (phase, done, total) => {
    if (!tty || total < 1000) return;
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r${phase.padEnd(10)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
  };
}

interface DemoAgency {
  slug: string;
  type: string;
  id: string;
  keyFile: string;
}

/**
 * Creates the demo agencies once (a second run reuses them) and prints how to act as each.
 * With --env it prints only shell assignments, for `eval "$(npx betrokken demo --env)"`.
 */
async function demo(args: string[], config: Config, logger: Logger): Promise<number> {
  const asEnv = args.includes('--env');
  const dir = path.join(config.dataDir, 'demo');
  const record = path.join(dir, 'agencies.json');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created = await withRuntime(config, logger, async (deps) => {
    if (fs.existsSync(record)) {
      const known = JSON.parse(fs.readFileSync(record, 'utf8')) as DemoAgency[];
      const present = new Set(listAgencies(deps).map((a) => a.id));
      if (known.every((a) => present.has(a.id))) return known;
    }
    const made: DemoAgency[] = [];
    for (const a of DEMO_AGENCIES) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const keyFile = path.join(dir, `${a.slug}.pem`);
      fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const agency = addAgency(deps, {
        name: a.name,
        type: a.type,
        municipality: '0014',
        districts: [...a.districts],
        grants: [],
        publicKey: await parseAgencyPublicKey(publicKey.export({ type: 'spki', format: 'pem' }) as string),
      });
      made.push({ slug: a.slug, type: a.type, id: agency.id, keyFile });
    }
    fs.writeFileSync(record, JSON.stringify(made, null, 2));
    return made;
  });
  const envName = (slug: string) => slug.toUpperCase().replace(/-/g, '_');
  if (asEnv) {
    console.log(`export BETROKKEN_URL='${config.issuer}'`);
    for (const a of created) console.log(`export ${envName(a.slug)}_ID='${a.id}' ${envName(a.slug)}_KEY='${a.keyFile}'`);
    return 0;
  }
  console.log(`Demo agencies in municipality 0014 (Groningen); private keys in ${dir}:\n`);
  for (const a of created) console.log(`  ${a.type.padEnd(13)} ${a.id}  key: ${a.keyFile}`);
  console.log(`
Put their ids and keys in your shell with:  eval "$(npx betrokken demo --env)"
then follow the quick start in README.md.`);
  return 0;
}

const factsSchema = z.strictObject({
  parties: z.array(z.strictObject({ agencyId: z.string(), agencyType: z.enum(AGENCY_TYPES) })),
  location: z.strictObject({ municipality: z.string(), district: z.string().nullable().default(null) }),
  coordinators: z
    .array(z.strictObject({ agencyId: z.string(), agencyType: z.enum(AGENCY_TYPES), municipality: z.string(), districts: z.array(z.string()).default([]) }))
    .default([]),
});

function explain(decision: Decision): string {
  const lines = [`policy ${decision.policy.id} version ${decision.policy.version}`];
  if (!decision.match) return [...lines, 'no match: fewer than two agencies are involved', `rules: ${decision.rules.join(', ')}`].join('\n');
  lines.push(
    decision.coordinator
      ? `coordinator: ${decision.coordinator.agencyId} (route ${decision.coordinator.route}; rule ${decision.coordinator.rule})`
      : 'coordinator: none found (no WIJ team for the district and no municipality agency)',
  );
  for (const r of decision.recipients) {
    lines.push(`${r.agencyId} (${r.role}) is told; rules ${r.rules.join(', ')}`);
    for (const s of r.sees) lines.push(`    sees ${s.agencyId} (${s.agencyType}) as ${s.view}  [${s.rule}]`);
  }
  for (const s of decision.silent) lines.push(`${s.agencyId} is not told: it may see no other party  [${s.rule}]`);
  lines.push(`rules: ${decision.rules.join(', ')}`);
  return lines.join('\n');
}

function policyCommand(args: string[]): number {
  const [verb, file, ...rest] = args;
  switch (verb) {
    case 'check': {
      const policy = loadPolicy(need(file, 'policy FILE'));
      console.log(`policy ${policy.id} is valid (version ${policy.version})`);
      return 0;
    }
    case 'explain': {
      const policy = loadPolicy(need(file, 'policy FILE'));
      const { values } = parseArgs({ args: rest, options: { facts: { type: 'string' }, json: { type: 'boolean' } } });
      let raw: unknown;
      try {
        raw = JSON.parse(readFile(need(values.facts, '--facts FACTS.json')));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError('the facts file is not JSON');
      }
      const facts = factsSchema.safeParse(raw);
      if (!facts.success) throw new UsageError(`the facts do not fit: ${facts.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const decision = decide(policy, facts.data);
      console.log(values.json ? JSON.stringify(decision, null, 2) : explain(decision));
      return 0;
    }
    case 'schema':
      console.log(JSON.stringify(policyJsonSchema(), null, 2));
      return 0;
    default:
      throw new UsageError('usage: policy check FILE | policy explain FILE --facts FACTS.json [--json] | policy schema');
  }
}

async function deliveriesCommand(args: string[], config: Config, logger: Logger): Promise<number> {
  const [verb, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { agency: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean' } },
  });
  return withRuntime(config, logger, (deps) => {
    if (verb === 'list') {
      const status = values.status ?? 'failed';
      if (!['pending', 'delivered', 'failed', 'all'].includes(status)) throw new UsageError('--status is pending, delivered, failed or all');
      const rows = inTransaction(deps.db, (tx) =>
        listDeliveries(tx, { ...(values.agency ? { agencyId: values.agency } : {}), ...(status === 'all' ? {} : { status: status as 'failed' }) }),
      );
      if (values.json) console.log(JSON.stringify(rows, null, 2));
      else if (rows.length === 0) console.log(`no ${status === 'all' ? '' : `${status} `}deliveries`);
      else for (const r of rows) console.log(`${r.id}  ${r.agencyId}  ${r.delivery.padEnd(9)} attempts=${r.attempts}  ${r.type}${r.lastError ? `  last error: ${r.lastError}` : ''}`);
      return 0;
    }
    if (verb === 'retry') {
      if (!values.agency && !positionals[0]) throw new UsageError('usage: deliveries retry (--agency ID | NOTICE_ID)');
      const n = inTransaction(deps.db, (tx) =>
        requeueFailed(tx, { ...(values.agency ? { agencyId: values.agency } : {}), ...(positionals[0] ? { noticeId: positionals[0] } : {}) }, deps.clock.now().toISOString()),
      );
      console.log(`${n} failed ${n === 1 ? 'delivery' : 'deliveries'} queued again`);
      return 0;
    }
    throw new UsageError('usage: deliveries list [--agency ID] [--status failed|pending|delivered|all] [--json] | deliveries retry (--agency ID | NOTICE_ID)');
  });
}

/** The checkpoint in a file: the JSON that GET /v1/audit/checkpoint answers, or its bare `jws`. */
function readCheckpointFile(file: string): string {
  const text = readFile(file).trim();
  if (!text.startsWith('{')) return text;
  try {
    const jws = (JSON.parse(text) as { jws?: unknown }).jws;
    if (typeof jws === 'string') return jws;
  } catch {
    /* answered below */
  }
  throw new UsageError(`${file} holds neither a checkpoint (the JSON of GET /v1/audit/checkpoint) nor its jws`);
}

/** The service's public keys: a JWK Set file (/.well-known/jwks.json), or the keys directory's signing keys. */
function readPublicKeys(jwksFile: string | undefined, keysDir: string): JSONWebKeySet {
  if (!jwksFile) return loadPublicSigningKeys(keysDir) as JSONWebKeySet;
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFile(jwksFile));
  } catch (err) {
    if (err instanceof UsageError) throw err;
  }
  if (!jwks || !Array.isArray((jwks as { keys?: unknown }).keys)) throw new UsageError(`${jwksFile} is not a JWK Set (the JSON of /.well-known/jwks.json)`);
  return jwks as JSONWebKeySet;
}

async function auditCommand(args: string[], config: Config, logger: Logger): Promise<number> {
  const [verb, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { checkpoint: { type: 'string' }, jwks: { type: 'string' }, out: { type: 'string' } } });
  if (verb === 'checkpoint') {
    const checkpoint = await withRuntime(config, logger, (deps) => writeCheckpoint(deps));
    const text = `${JSON.stringify(checkpoint, null, 2)}\n`;
    if (!values.out) process.stdout.write(text);
    else {
      fs.writeFileSync(values.out, text);
      console.error(`checkpoint of record ${checkpoint.seq} (${checkpoint.at}, key ${checkpoint.kid}) written to ${values.out}`);
    }
    return 0;
  }
  if (verb !== 'verify') throw new UsageError('usage: audit verify [--checkpoint FILE [--jwks FILE]] | audit checkpoint [--out FILE]');
  if (values.jwks && !values.checkpoint) throw new UsageError('--jwks verifies a checkpoint: give --checkpoint FILE too');
  // Needs no keys: a backup copy can be checked on its own; a checkpoint needs only public keys.
  let anchor: Checkpoint | undefined;
  if (values.checkpoint) {
    const jws = readCheckpointFile(values.checkpoint);
    let jwks: JSONWebKeySet;
    try {
      jwks = readPublicKeys(values.jwks, config.keysDir);
    } catch (err) {
      if (err instanceof KeyRingError) throw new KeyRingError(`${err.message}; give the service's public keys with --jwks FILE (its /.well-known/jwks.json)`);
      throw err;
    }
    try {
      anchor = await verifyCheckpoint(jws, jwks);
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      console.error(`audit checkpoint refused: ${err.message} (${err.code})`);
      return 1;
    }
  }
  if (!fs.existsSync(config.dbFile)) throw new UsageError(`no database at ${config.dbFile}`);
  // Needs no keys (but the database key of an encrypted file): a backup copy can be checked on its own.
  const db = openConfiguredDatabase(config);
  try {
    const result = verifyAuditChain(db, anchor ? { checkpoint: anchor } : {});
    if (result.ok) {
      const extends_ = anchor ? `; it extends the checkpoint of record ${anchor.seq} signed by ${anchor.issuer} at ${anchor.at} (key ${anchor.kid})` : '';
      console.log(`audit chain intact: ${result.count} records${extends_}`);
      return 0;
    }
    if (anchor && result.reason === 'truncated before the checkpoint') {
      console.error(`audit chain truncated: the checkpoint signed at ${anchor.at} covers records 1 to ${anchor.seq}, but the chain ends at record ${result.count}`);
    } else if (anchor && result.reason === 'head differs from the checkpoint') {
      console.error(`audit chain rewritten: record ${anchor.seq} does not have the hash the checkpoint signed at ${anchor.at}; the records up to it were changed and the chain re-hashed`);
    } else {
      console.error(`audit chain broken at record ${result.brokenSeq}: ${result.reason} (${result.count} records before it are intact)`);
    }
    return 1;
  } finally {
    db.$client.close();
  }
}

/** Runs one command; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  try {
    if (command === 'policy') return policyCommand(args);
    const config = loadConfig();
    const logger = createLogger(command === 'start' ? config.logLevel : 'warn');
    switch (command) {
      case 'start': {
        const { startServer } = await import('./main.ts');
        await startServer();
        return -1; // keeps running
      }
      case 'migrate':
        await withRuntime(config, logger, () => console.log(`database ${config.dbFile} is up to date`));
        return 0;
      case 'agency':
        return await agencyCommand(args, config, logger);
      case 'keys': {
        if (args[0] !== 'rotate') throw new UsageError('usage: keys rotate');
        await withRuntime(config, logger, async () => {
          const v = await rotateKeys(config.keysDir);
          console.log(`key-encryption key v${v.kekVersion} and signing key v${v.signingVersion} created; restart the service to use them`);
        });
        return 0;
      }
      case 'audit':
        return await auditCommand(args, config, logger);
      case 'db': {
        if (args[0] !== 'encrypt') throw new UsageError('usage: db encrypt');
        const keyFile = encryptConfiguredDatabase(config);
        console.log(`database ${config.dbFile} encrypted; its key is ${keyFile} (back it up with the other keys); start with BETROKKEN_DB_ENCRYPTION=on`);
        return 0;
      }
      case 'jobs': {
        if (args[0] !== 'run') throw new UsageError('usage: jobs run [retention|escalation|reminders]');
        const names = args.slice(1);
        const unknown = names.find((n) => !(JOBS as readonly string[]).includes(n));
        if (unknown) throw new UsageError(`unknown job ${unknown}; jobs are ${JOBS.join(', ')}`);
        return await withRuntime(config, logger, (deps) => {
          const result = runJobs(deps, names.length ? (names as JobName[]) : JOBS, progressBar());
          console.log(JSON.stringify(result));
          return 0;
        });
      }
      case 'deliveries':
        return await deliveriesCommand(args, config, logger);
      case 'assertion': {
        const { values } = parseArgs({ args, options: { agency: { type: 'string' }, key: { type: 'string' }, audience: { type: 'string' } } });
        console.log(
          await signClientAssertion(readFile(need(values.key, '--key FILE')), {
            agencyId: need(values.agency, '--agency ID'),
            audience: values.audience ?? config.issuer,
          }),
        );
        return 0;
      }
      case 'demo':
        return await demo(args, config, logger);
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`betrokken: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof PolicyError || err instanceof KeyRingError || err instanceof DatabaseKeyError || err instanceof AgencyKeyError) {
      console.error(`betrokken: ${err.message}`);
      return 1;
    }
    if (err instanceof DomainError) {
      console.error(`betrokken: ${err.message} (${err.code})`);
      return 1;
    }
    if (err instanceof TypeError && /parseArgs|Unknown option/i.test(String((err as { code?: string }).code ?? err.message))) {
      console.error(`betrokken: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import type { Logger } from 'pino';
import { z } from 'zod';
import { writeCheckpoint } from './app/audit-checkpoint.ts';
import { BackupError, backupDatabase, restoreDatabase } from './app/backup.ts';
import { addAgency, addAgencyKey, type AgencyRecord, disableAgency, enableAgency, listAgencies, revokeAgencyKey, setAgencyWebhook } from './app/agencies.ts';
import { checkKeyEncryptionKeys } from './app/check-keys.ts';
import { configureAgencyOidc, removeAgencyOidc } from './console/oidc-config.ts';
import { oidcRedirectUri } from './console/oidc-signin.tsx';
import { type Deps, withTransaction } from './app/context.ts';
import { DomainError } from './app/errors.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { asksForHelp, COMMANDS, commandOf, helpOf, version } from './cli-help.ts';
import { inviteProfessional } from './console/professionals.ts';
import { AgencyKeyError, parseAgencyPublicKey } from './crypto/agency-keys.ts';
import { type Checkpoint, CheckpointError, verifyCheckpoint } from './crypto/audit-checkpoint.ts';
import { fileName, KeyRingError, loadKeyRing, loadPublicSigningKeys, rotateKeys } from './crypto/key-ring.ts';
import { signClientAssertion } from './crypto/tokens.ts';
import { JOBS, type JobName, runJobs } from './jobs/index.ts';
import type { Progress } from './jobs/retention.ts';
import { createLogger } from './log.ts';
import { decide, type Decision } from './policy/decide.ts';
import { policyJsonSchema } from './policy/json-schema.ts';
import { describeLegalBasis } from './policy/legal-basis.ts';
import { loadPolicy, PolicyError } from './policy/load.ts';
import { AGENCY_TYPES } from './policy/types.ts';
import { databaseName, encryptConfiguredDatabase, hasDatabase, openConfiguredPgStore, openConfiguredStore, openRuntime, type RuntimeOptions, sqliteFileOnly, StartupError } from './runtime.ts';
import { verifyAuditChain } from './store/audit.ts';
import { DatabaseKeyError, isStorageError } from './store/db.ts';
import { listDeliveries, requeueFailed } from './store/notices.ts';

const USAGE = `betrokken — referral index for youth care

usage: betrokken COMMAND [OPTIONS]    (betrokken COMMAND --help: what it does; betrokken --version)

${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}\n      ${c.about.replace(/\n/g, '\n      ')}`)
  .join('\n')}

Settings come from the environment: PORT, HOST, METRICS_PORT, METRICS_HOST, BETROKKEN_DATA_DIR, BETROKKEN_DB, BETROKKEN_KEYS_DIR,
BETROKKEN_POLICY, BETROKKEN_ISSUER, BETROKKEN_JOB_INTERVAL_S, BETROKKEN_WEBHOOK_ALLOWED_HOSTS, BETROKKEN_DB_ENCRYPTION,
BETROKKEN_CONSOLE_IDLE_MINUTES, BETROKKEN_CONSOLE_ABSOLUTE_HOURS, BETROKKEN_CONSOLE_TOKENS_CSS, LOG_LEVEL.`;

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

/**
 * Parses a command's options and positionals strictly: an unknown option is a parse error, a
 * missing or extra positional a UsageError (`NAME?` marks an optional one).
 */
function parseCommand<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, names: readonly string[] = []) {
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  const required = names.filter((n) => !n.endsWith('?'));
  if (positionals.length < required.length) throw new UsageError(`missing ${required[positionals.length]}`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument ${positionals[names.length]}`);
  return { values, positionals };
}

async function withRuntime<T>(config: Config, logger: Logger, fn: (deps: Deps) => Promise<T> | T, opts: RuntimeOptions = {}): Promise<T> {
  const deps = await openRuntime(config, logger, undefined, { create: false, ...opts });
  try {
    return await fn(deps);
  } finally {
    await deps.store.close();
  }
}

async function agencyCommand(args: string[], config: Config, logger: Logger): Promise<number> {
  const [verb, ...rest] = args;
  switch (verb) {
    case 'add': {
      const { values } = parseCommand(rest, {
        name: { type: 'string' },
        type: { type: 'string' },
        municipality: { type: 'string' },
        district: { type: 'string', multiple: true },
        'public-key': { type: 'string' },
        webhook: { type: 'string' },
        grant: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      });
      const input = {
        name: need(values.name, '--name'),
        type: need(values.type, '--type'),
        municipality: need(values.municipality, '--municipality'),
        districts: values.district ?? [],
        grants: values.grant ?? [],
        ...(values.webhook ? { webhookUrl: values.webhook } : {}),
      };
      const publicKey = await parseAgencyPublicKey(readFile(need(values['public-key'], '--public-key FILE')));
      return withRuntime(config, logger, async (deps) => {
        const agency = await addAgency(deps, { ...input, publicKey });
        console.log(values.json ? JSON.stringify(agency, null, 2) : agency.id);
        return 0;
      });
    }
    case 'list': {
      const { values } = parseCommand(rest, { json: { type: 'boolean' } });
      return withRuntime(config, logger, async (deps) => {
        const all = await listAgencies(deps);
        if (values.json) console.log(JSON.stringify(all, null, 2));
        else if (all.length === 0) console.log('no agencies yet: add one with `betrokken agency add`');
        else console.log(agencyTable(all));
        return 0;
      });
    }
    case 'disable':
    case 'enable': {
      const [id] = parseCommand(rest, {}, ['ID']).positionals;
      return withRuntime(config, logger, async (deps) => {
        console.log(agencyTable([await (verb === 'disable' ? disableAgency : enableAgency)(deps, id!)]));
        return 0;
      });
    }
    case 'key': {
      const [keyVerb, ...keyArgs] = rest;
      if (keyVerb === 'revoke') {
        const [id, kid] = parseCommand(keyArgs, {}, ['ID', 'KID']).positionals;
        return withRuntime(config, logger, async (deps) => {
          console.log(agencyTable([await revokeAgencyKey(deps, id!, kid!)]));
          return 0;
        });
      }
      if (keyVerb !== 'add') throw new UsageError(keyVerb ? `unknown command agency key ${keyVerb}` : 'missing add or revoke');
      const [id, file] = parseCommand(keyArgs, {}, ['ID', 'FILE']).positionals;
      const key = await parseAgencyPublicKey(readFile(file!));
      return withRuntime(config, logger, async (deps) => {
        console.log(agencyTable([await addAgencyKey(deps, id!, key)]));
        return 0;
      });
    }
    case 'webhook': {
      const { values, positionals } = parseCommand(rest, { remove: { type: 'boolean' }, secret: { type: 'boolean' } }, ['ID', 'URL?']);
      const [id, url] = positionals;
      if (values.remove === (url !== undefined)) throw new UsageError('give either a URL or --remove');
      if (values.secret && values.remove) throw new UsageError('--secret goes with a URL, not with --remove');
      return withRuntime(config, logger, async (deps) => {
        const agency = await setAgencyWebhook(deps, id!, values.remove ? null : url!, { secret: values.secret === true });
        console.log(agencyTable([agency]));
        if (agency.webhookSecret) console.log(`webhook secret (shown once; deliveries are signed v1 with it, and v1a): ${agency.webhookSecret}`);
        return 0;
      });
    }
    case 'oidc': {
      const { values } = parseCommand(rest, { agency: { type: 'string' }, issuer: { type: 'string' }, 'client-id': { type: 'string' }, remove: { type: 'boolean' } });
      const agencyId = need(values.agency, '--agency ID');
      if (values.remove) {
        if (values.issuer || values['client-id']) throw new UsageError('--remove takes no --issuer or --client-id');
        return withRuntime(config, logger, async (deps) => {
          console.log((await removeAgencyOidc(deps, agencyId)) ? `${agencyId}: OpenID sign-in removed` : `${agencyId}: had no OpenID provider`);
          return 0;
        });
      }
      const issuer = need(values.issuer, '--issuer URL');
      const clientId = need(values['client-id'], '--client-id ID');
      return withRuntime(config, logger, async (deps) => {
        const row = await configureAgencyOidc(deps, { agencyId, issuer, clientId });
        console.log(`${row.agencyId}  issuer=${row.issuer}  client_id=${row.clientId}`);
        console.log(
          `register the client at the provider with token_endpoint_auth_method private_key_jwt (EdDSA), jwks_uri ${config.issuer}/.well-known/jwks.json and redirect_uri ${oidcRedirectUri(config.issuer)}`,
        );
        return 0;
      });
    }
    default:
      throw new UsageError(verb ? `unknown command agency ${verb}` : 'missing agency command');
  }
}

/** Agencies as aligned columns (widths from the longest value), one a line. */
function agencyTable(agencies: AgencyRecord[]): string {
  const rows = agencies.map((a) => [
    a.id,
    a.status,
    a.type,
    a.municipality,
    `keys=${a.keys.filter((k) => !k.revokedAt).length}`,
    a.districts.length ? `districts=${a.districts.join(',')}` : '-',
    a.name,
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
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
 * With --env it prints only shell assignments, for `eval "$(node bin/betrokken.js demo --env)"`.
 */
async function demo(args: string[], config: Config, logger: Logger): Promise<number> {
  const asEnv = parseCommand(args, { env: { type: 'boolean' } }).values.env === true;
  const dir = path.join(config.dataDir, 'demo');
  const record = path.join(dir, 'agencies.json');
  const created = await withRuntime(config, logger, async (deps) => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (fs.existsSync(record)) {
      const known = JSON.parse(fs.readFileSync(record, 'utf8')) as DemoAgency[];
      const present = new Set((await listAgencies(deps)).map((a) => a.id));
      if (known.every((a) => present.has(a.id))) return known;
    }
    const made: DemoAgency[] = [];
    for (const a of DEMO_AGENCIES) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const keyFile = path.join(dir, `${a.slug}.pem`);
      fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const agency = await addAgency(deps, {
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
Put their ids and keys in your shell with:  eval "$(node bin/betrokken.js demo --env)"
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
  const [verb, ...rest] = args;
  switch (verb) {
    case 'check': {
      const [file] = parseCommand(rest, {}, ['FILE']).positionals;
      const policy = loadPolicy(file!);
      console.log(`policy ${policy.id} is valid (version ${policy.version})`);
      return 0;
    }
    case 'explain': {
      const { values, positionals } = parseCommand(rest, { facts: { type: 'string' }, json: { type: 'boolean' } }, ['FILE']);
      const facts = need(values.facts, '--facts FACTS.json');
      const policy = loadPolicy(positionals[0]!);
      let raw: unknown;
      try {
        raw = JSON.parse(readFile(facts));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError('the facts file is not JSON');
      }
      const parsed = factsSchema.safeParse(raw);
      if (!parsed.success) throw new UsageError(`the facts do not fit: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const decision = decide(policy, parsed.data);
      console.log(
        values.json
          ? JSON.stringify({ ...decision, legalBasis: policy.legalBasis }, null, 2)
          : `${explain(decision)}\n\nlegal basis (as the policy names it):\n${describeLegalBasis(policy.legalBasis)}`,
      );
      return 0;
    }
    case 'schema':
      parseCommand(rest, {});
      console.log(JSON.stringify(policyJsonSchema(), null, 2));
      return 0;
    default:
      throw new UsageError(verb ? `unknown command policy ${verb}` : 'missing policy command');
  }
}

async function deliveriesCommand(args: string[], config: Config, logger: Logger): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'list') {
    const { values } = parseCommand(rest, { agency: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean' } });
    const status = values.status ?? 'failed';
    if (!['pending', 'delivered', 'failed', 'all'].includes(status)) throw new UsageError('--status is pending, delivered, failed or all');
    return withRuntime(config, logger, async (deps) => {
      const rows = await withTransaction(deps, async (tx) =>
        listDeliveries(tx, { ...(values.agency ? { agencyId: values.agency } : {}), ...(status === 'all' ? {} : { status: status as 'failed' }) }),
      );
      if (values.json) console.log(JSON.stringify(rows, null, 2));
      else if (rows.length === 0) console.log(`no ${status === 'all' ? '' : `${status} `}deliveries`);
      else for (const r of rows) console.log(`${r.id}  ${r.agencyId}  ${r.delivery.padEnd(9)} attempts=${r.attempts}  ${r.type}${r.lastError ? `  last error: ${r.lastError}` : ''}`);
      return 0;
    });
  }
  if (verb === 'retry') {
    const { values, positionals } = parseCommand(rest, { agency: { type: 'string' } }, ['NOTICE_ID?']);
    if (!values.agency && !positionals[0]) throw new UsageError('missing --agency ID or NOTICE_ID');
    return withRuntime(config, logger, async (deps) => {
      const n = await withTransaction(deps, async (tx) =>
        requeueFailed(tx, { ...(values.agency ? { agencyId: values.agency } : {}), ...(positionals[0] ? { noticeId: positionals[0] } : {}) }, deps.clock.now().toISOString()),
      );
      console.log(`${n} failed ${n === 1 ? 'delivery' : 'deliveries'} queued again`);
      return 0;
    });
  }
  throw new UsageError(verb ? `unknown command deliveries ${verb}` : 'missing deliveries command');
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
  if (verb === 'checkpoint') {
    const { values } = parseCommand(rest, { out: { type: 'string' } });
    const checkpoint = await withRuntime(config, logger, (deps) => writeCheckpoint(deps));
    const text = `${JSON.stringify(checkpoint, null, 2)}\n`;
    if (!values.out) process.stdout.write(text);
    else {
      fs.writeFileSync(values.out, text);
      console.error(`checkpoint of record ${checkpoint.seq} (${checkpoint.at}, key ${checkpoint.kid}) written to ${values.out}`);
    }
    return 0;
  }
  if (verb !== 'verify') throw new UsageError(verb ? `unknown command audit ${verb}` : 'missing audit command');
  const { values } = parseCommand(rest, { checkpoint: { type: 'string' }, jwks: { type: 'string' } });
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
  if (!config.postgres && !fs.existsSync(config.dbFile)) throw new UsageError(`no database at ${config.dbFile}`);
  // Needs no keys (but the database key of an encrypted file): a backup copy can be checked on its own.
  const store = config.postgres ? openConfiguredPgStore(config) : openConfiguredStore(config);
  try {
    const result = await verifyAuditChain(store.reader, anchor ? { checkpoint: anchor } : {});
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
    await store.close();
  }
}

/** Runs one command; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === '--version' || command === '-V') {
    console.log(version());
    return 0;
  }
  if (command === 'help' && args.length > 0) {
    const topic = commandOf(args);
    if (!topic) return usageError(`unknown command ${args.join(' ')}`, undefined);
    console.log(helpOf(topic));
    return 0;
  }
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  // Help is answered before anything else is read or opened: it must change nothing.
  const named = commandOf(argv);
  if (asksForHelp(argv)) {
    if (!named) return usageError(`unknown command ${command}`, undefined);
    console.log(helpOf(named));
    return 0;
  }
  try {
    if (command === 'policy') return policyCommand(args);
    const config = loadConfig();
    // Commands log warnings and worse, or less where LOG_LEVEL asks for less.
    const logger = createLogger(command === 'start' || ['error', 'fatal', 'silent'].includes(config.logLevel) ? config.logLevel : 'warn');
    switch (command) {
      case 'start': {
        const { values } = parseCommand(args, { 'allow-orphans': { type: 'boolean' } });
        const { startServer } = await import('./main.ts');
        await startServer({ allowOrphans: values['allow-orphans'] === true });
        return -1; // keeps running
      }
      case 'migrate':
        parseCommand(args, {});
        if (config.postgres) {
          await withRuntime(config, logger, () => console.log(`${databaseName(config)} is migrated and up to date; keys in ${config.keysDir}`), { create: true, migrate: true });
        } else if (!hasDatabase(config)) {
          await withRuntime(config, logger, () => console.log(`created a new, empty index at ${config.dbFile} with new keys in ${config.keysDir}: back the keys up apart from the database`), { create: true });
        } else await withRuntime(config, logger, () => console.log(`database ${config.dbFile} is up to date`));
        return 0;
      case 'backup': {
        const [dir] = parseCommand(args, {}, ['DIR']).positionals;
        sqliteFileOnly(config, 'backup', 'back PostgreSQL up with pg_dump (see the README, Beyond one machine), and the keys directory apart from it');
        const r = await backupDatabase(config, path.resolve(dir!), new Date());
        console.log(
          `backup ${r.file} verified: integrity ok, audit chain intact (${r.auditRecords} records), keys present for key-encryption key version ${r.kekVersions.join(', ') || '(none yet)'}${r.encrypted ? ', encrypted under database.key' : ''}`,
        );
        console.log(`it belongs with the keys directory ${r.keysDir} (${r.keyFiles.join(', ')}): back that up too, and again after every keys rotate`);
        return 0;
      }
      case 'restore': {
        const [dir] = parseCommand(args, {}, ['DIR']).positionals;
        sqliteFileOnly(config, 'restore', 'restore PostgreSQL with pg_restore or psql from its pg_dump');
        const r = await restoreDatabase(config, path.resolve(dir!));
        console.log(`restored ${r.file} (audit chain intact, ${r.auditRecords} records; keys in ${r.keysDir} fit it); start the service`);
        return 0;
      }
      case 'agency':
        return await agencyCommand(args, config, logger);
      case 'keys': {
        if (args[0] !== 'rotate') throw new UsageError(args[0] ? `unknown command keys ${args[0]}` : 'missing keys command');
        parseCommand(args.slice(1), {});
        await withRuntime(config, logger, async (deps) => {
          const v = await rotateKeys(config.keysDir);
          const keys = await loadKeyRing(config.keysDir);
          await withTransaction(deps, (tx) => checkKeyEncryptionKeys(tx, keys, config.keysDir));
          console.log(
            `key-encryption key v${v.kekVersion} and signing key v${v.signingVersion} created; restart the service to use them, and back up ${config.keysDir} again now: backups of the database from now on need ${fileName('kek', v.kekVersion)}`,
          );
        });
        return 0;
      }
      case 'audit':
        return await auditCommand(args, config, logger);
      case 'db': {
        if (args[0] !== 'encrypt') throw new UsageError(args[0] ? `unknown command db ${args[0]}` : 'missing db command');
        parseCommand(args.slice(1), {});
        sqliteFileOnly(config, 'db encrypt', "encrypt PostgreSQL's storage (the volume, or the managed database's encryption at rest)");
        const keyFile = encryptConfiguredDatabase(config);
        console.log(`database ${config.dbFile} encrypted; its key is ${keyFile} (back it up with the other keys); start with BETROKKEN_DB_ENCRYPTION=on`);
        return 0;
      }
      case 'jobs': {
        if (args[0] !== 'run') throw new UsageError(args[0] ? `unknown command jobs ${args[0]}` : 'missing jobs command');
        const names = parseCommand(args.slice(1), {}, JOBS.map((j) => `${j}?`)).positionals;
        const unknown = names.find((n) => !(JOBS as readonly string[]).includes(n));
        if (unknown) throw new UsageError(`unknown job ${unknown}; jobs are ${JOBS.join(', ')}`);
        return await withRuntime(config, logger, async (deps) => {
          const result = await runJobs(deps, names.length ? (names as JobName[]) : JOBS, progressBar());
          console.log(JSON.stringify(result));
          return 0;
        });
      }
      case 'deliveries':
        return await deliveriesCommand(args, config, logger);
      case 'professional': {
        if (args[0] !== 'invite') throw new UsageError(args[0] ? `unknown command professional ${args[0]}` : 'missing professional command');
        const { values } = parseCommand(args.slice(1), {
          agency: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' }, phone: { type: 'string' }, role: { type: 'string', multiple: true },
        });
        const agencyId = need(values.agency, '--agency ID');
        const fields = { name: need(values.name, '--name N'), email: need(values.email, '--email E'), ...(values.phone ? { phone: values.phone } : {}), roles: values.role ?? ['registrant'] };
        return await withRuntime(config, logger, async (deps) => {
          const { professional, link, expiresAt, renewed } = await inviteProfessional(deps, { agencyId, fields, invitedBy: null });
          console.log(`${renewed ? 'new invitation for' : 'invited'} ${professional.id} (${professional.roles.join(', ')}); the link works once, until ${expiresAt}:`);
          console.log(link);
          return 0;
        });
      }
      case 'assertion': {
        const { values } = parseCommand(args, { agency: { type: 'string' }, key: { type: 'string' }, audience: { type: 'string' } });
        const agencyId = need(values.agency, '--agency ID');
        console.log(
          await signClientAssertion(readFile(need(values.key, '--key FILE')), {
            agencyId,
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
    if (err instanceof UsageError) return usageError(err.message, named);
    if (isParseArgsError(err)) return usageError(err.message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''), named);
    if (err instanceof StartupError || err instanceof BackupError || err instanceof ConfigError || err instanceof PolicyError || err instanceof KeyRingError || err instanceof DatabaseKeyError || err instanceof AgencyKeyError) {
      console.error(`betrokken: ${err.message}`);
      return 1;
    }
    if (err instanceof DomainError) {
      console.error(`betrokken: ${err.message} (${err.code})`);
      return 1;
    }
    if (isStorageError(err)) {
      console.error(`betrokken: the database cannot take a write (${(err as { code: string }).code}): the disk may be full, or the file read-only`);
      return 1;
    }
    throw err;
  }
}

/** One line on stderr naming what is wrong and where the command's help is; exit code 2. */
function usageError(message: string, command: string | undefined): number {
  console.error(`betrokken: ${message} (see \`betrokken ${command ? `${command} ` : ''}--help\`)`);
  return 2;
}

function isParseArgsError(err: unknown): err is Error {
  return err instanceof TypeError && String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
}

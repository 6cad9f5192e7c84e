import type { OidcOptions } from './console/oidc-config.ts';
import path from 'node:path';
import { z } from 'zod';

/** Settings as API.md ("Running it") names them; the only reader of the environment. */
export interface Config {
  port: number;
  /** Bind address of the API listener. */
  host: string;
  /** The separate Prometheus listener: never the API's port, loopback unless told otherwise. */
  metrics: { port: number; host: string };
  dataDir: string;
  dbFile: string;
  keysDir: string;
  policyFile: string;
  issuer: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How often the server runs its periodic jobs (escalation, reminders, retention). */
  jobIntervalS: number;
  /** Webhook delivery: per-attempt timeout, first retry delay, and how long to keep trying. */
  webhook: { timeoutMs: number; backoffMs: number; retryWindowMs: number; allowedHosts: string[] };
  /** Page-level encryption of the SQLite file, with a key in the keys directory (opt-in). */
  dbEncryption: boolean;
  /**
   * PostgreSQL in place of the SQLite file (BETROKKEN_DATABASE_URL), for several instances on one
   * database, with the connections each instance keeps (BETROKKEN_DB_POOL_SIZE); null for SQLite.
   */
  postgres: { url: string; poolSize: number } | null;
  /** Who answers integrators' questions: `info.contact` of the OpenAPI document. */
  contact: ApiContact;
  /** The console for professionals: session lifetimes and the municipality's own design tokens. */
  console: ConsoleConfig;
}

export interface ConsoleConfig {
  /** A session ends after this many minutes without a request. */
  idleMinutes: number;
  /** A session ends this many hours after sign-in, however active. */
  absoluteHours: number;
  /** A CSS file of NL Design System tokens to serve in place of the Utrecht theme, or null. */
  tokensCssFile: string | null;
  /**
   * How the console speaks to agencies' OpenID providers. Not read from the environment: only
   * tests set it (a provider on plain http at a loopback address).
   */
  oidc?: OidcOptions;
}

export const DEFAULT_CONSOLE_CONFIG: ConsoleConfig = { idleMinutes: 15, absoluteHours: 10, tokensCssFile: null };

/** The contact the OpenAPI document names (NL GOV API Design Rules /core/doc-openapi-contact). */
export interface ApiContact {
  name: string;
  url: string;
  email: string;
}

const nonEmpty = z.string().trim().min(1, 'must not be empty');
const port = z.coerce.number().int('must be a whole number').min(1).max(65535);
// An IPv4 or IPv6 literal or a host name; a bind address, never a URL.
const bindHost = z
  .string()
  .trim()
  .regex(/^(?:[0-9a-fA-F:.]+|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)$/, 'must be an IP address or a host name');

const envSchema = z.object({
  PORT: port.default(8080),
  HOST: bindHost.default('0.0.0.0'),
  METRICS_PORT: port.default(9464),
  METRICS_HOST: bindHost.default('127.0.0.1'),
  BETROKKEN_DATA_DIR: nonEmpty.default('./data'),
  BETROKKEN_DB: nonEmpty.optional(),
  BETROKKEN_KEYS_DIR: nonEmpty.optional(),
  BETROKKEN_POLICY: nonEmpty.default('policies/groningen.yaml'),
  BETROKKEN_ISSUER: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  BETROKKEN_JOB_INTERVAL_S: z.coerce.number().int('must be a whole number').min(1).max(86_400).default(60),
  BETROKKEN_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  BETROKKEN_WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  BETROKKEN_WEBHOOK_RETRY_HOURS: z.coerce.number().positive().max(24 * 14).default(24),
  // Host names (never addresses or ranges) that webhooks may reach although they resolve to a
  // private or otherwise refused address: a receiver the operator runs inside its own network.
  BETROKKEN_WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(?=.*[a-z])[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/, 'must list host names separated by commas')))
    .default([]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BETROKKEN_DB_ENCRYPTION: z.enum(['on', 'off']).default('off'),
  // The error never repeats the value: the URL may hold the database password.
  BETROKKEN_DATABASE_URL: z
    .string()
    .trim()
    .refine((v) => URL.canParse(v) && /^postgres(ql)?:$/.test(new URL(v).protocol), 'must be a postgres:// URL')
    .optional(),
  BETROKKEN_DB_POOL_SIZE: z.coerce.number().int('must be a whole number').min(1).max(200).default(10),
  BETROKKEN_CONTACT_NAME: nonEmpty.default('Betrokken service desk'),
  BETROKKEN_CONTACT_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  BETROKKEN_CONTACT_EMAIL: z.email('must be an e-mail address').optional(),
  BETROKKEN_CONSOLE_IDLE_MINUTES: z.coerce.number().int('must be a whole number').min(1).max(240).default(15),
  BETROKKEN_CONSOLE_ABSOLUTE_HOURS: z.coerce.number().int('must be a whole number').min(1).max(24).default(10),
  BETROKKEN_CONSOLE_TOKENS_CSS: nonEmpty.optional(),
});

/** Thrown when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment once; throws ConfigError naming every bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = envSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.METRICS_PORT === e.PORT) {
    throw new ConfigError(['METRICS_PORT: must differ from PORT (metrics are never served on the API listener)']);
  }
  if (e.BETROKKEN_DATABASE_URL && e.BETROKKEN_DB_ENCRYPTION === 'on') {
    throw new ConfigError(['BETROKKEN_DB_ENCRYPTION: encrypts the SQLite file, and there is none with BETROKKEN_DATABASE_URL (encrypt PostgreSQL\'s storage instead)']);
  }
  const dataDir = path.resolve(e.BETROKKEN_DATA_DIR);
  const issuer = e.BETROKKEN_ISSUER ?? `http://localhost:${e.PORT}`;
  return {
    port: e.PORT,
    host: e.HOST,
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    dataDir,
    dbFile: path.resolve(e.BETROKKEN_DB ?? path.join(dataDir, 'betrokken.db')),
    keysDir: path.resolve(e.BETROKKEN_KEYS_DIR ?? path.join(dataDir, 'keys')),
    policyFile: path.resolve(e.BETROKKEN_POLICY),
    issuer,
    logLevel: e.LOG_LEVEL,
    jobIntervalS: e.BETROKKEN_JOB_INTERVAL_S,
    webhook: {
      timeoutMs: e.BETROKKEN_WEBHOOK_TIMEOUT_MS,
      backoffMs: e.BETROKKEN_WEBHOOK_BACKOFF_MS,
      retryWindowMs: Math.round(e.BETROKKEN_WEBHOOK_RETRY_HOURS * 3_600_000),
      allowedHosts: e.BETROKKEN_WEBHOOK_ALLOWED_HOSTS,
    },
    dbEncryption: e.BETROKKEN_DB_ENCRYPTION === 'on',
    postgres: e.BETROKKEN_DATABASE_URL ? { url: e.BETROKKEN_DATABASE_URL, poolSize: e.BETROKKEN_DB_POOL_SIZE } : null,
    contact: {
      name: e.BETROKKEN_CONTACT_NAME,
      url: e.BETROKKEN_CONTACT_URL ?? `${issuer}/docs`,
      email: e.BETROKKEN_CONTACT_EMAIL ?? `servicedesk@${new URL(issuer).hostname}`,
    },
    console: {
      idleMinutes: e.BETROKKEN_CONSOLE_IDLE_MINUTES,
      absoluteHours: e.BETROKKEN_CONSOLE_ABSOLUTE_HOURS,
      tokensCssFile: e.BETROKKEN_CONSOLE_TOKENS_CSS ? path.resolve(e.BETROKKEN_CONSOLE_TOKENS_CSS) : null,
    },
  };
}

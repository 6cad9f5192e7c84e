import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Timestamps are ISO-8601 UTC strings: sortable, readable in a shell, exact to the millisecond. */

export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const agencies = sqliteTable(
  'agencies',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    municipality: text('municipality').notNull(),
    districts: text('districts', { mode: 'json' }).$type<string[]>().notNull(),
    grants: text('grants', { mode: 'json' }).$type<string[]>().notNull(),
    webhookUrl: text('webhook_url'),
    /**
     * The agency's Standard Webhooks `v1` (HMAC-SHA256) secret, sealed under the KEK for the
     * purpose `webhook-secret` and bound to the agency id; null signs with `v1a` (Ed25519) only.
     */
    webhookSecret: blob('webhook_secret', { mode: 'buffer' }),
    status: text('status', { enum: ['active', 'disabled'] }).notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('agencies_municipality').on(t.municipality, t.type)],
);

export const agencyKeys = sqliteTable(
  'agency_keys',
  {
    id: text('id').primaryKey(),
    agencyId: text('agency_id')
      .notNull()
      .references(() => agencies.id),
    jwk: text('jwk', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    alg: text('alg', { enum: ['EdDSA', 'ES256'] }).notNull(),
    createdAt: text('created_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [index('agency_keys_agency').on(t.agencyId)],
);

/**
 * An agency's own OpenID provider, through which its professionals may sign in to the console:
 * the issuer (its discovery document is read from there) and the client id the provider gave the
 * service. The client authenticates with private_key_jwt under the service's signing key, so no
 * secret is kept.
 */
export const agencyOidc = sqliteTable('agency_oidc', {
  agencyId: text('agency_id')
    .primaryKey()
    .references(() => agencies.id),
  issuer: text('issuer').notNull(),
  clientId: text('client_id').notNull(),
  createdAt: text('created_at').notNull(),
});

/** Client-assertion ids seen, kept until the assertion would have expired (replay defence). */
export const usedAssertions = sqliteTable(
  'used_assertions',
  {
    agencyId: text('agency_id').notNull(),
    jti: text('jti').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agencyId, t.jti] }), index('used_assertions_expiry').on(t.expiresAt)],
);

/**
 * A young person (kind person), or the family of a parent named at registration (kind family),
 * known only by the keyed pseudonym of their BSN; their data key is wrapped by a KEK. A family's
 * matches, notices and audit records hang off its row as a young person's do off theirs.
 */
export const subjects = sqliteTable(
  'subjects',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['person', 'family'] }).notNull().default('person'),
    pseudonym: text('pseudonym').notNull(),
    wrappedKey: blob('wrapped_key', { mode: 'buffer' }).notNull(),
    kekVersion: integer('kek_version').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('subjects_kind_pseudonym').on(t.kind, t.pseudonym)],
);

/** The parents a registration named: the families (subjects of kind family) its signal belongs to. */
export const signalFamilies = sqliteTable(
  'signal_families',
  {
    signalId: text('signal_id')
      .notNull()
      .references(() => signals.id),
    familyId: text('family_id')
      .notNull()
      .references(() => subjects.id),
  },
  (t) => [primaryKey({ columns: [t.signalId, t.familyId] }), index('signal_families_family').on(t.familyId)],
);

export const signals = sqliteTable(
  'signals',
  {
    id: text('id').primaryKey(),
    agencyId: text('agency_id')
      .notNull()
      .references(() => agencies.id),
    subjectId: text('subject_id')
      .notNull()
      .references(() => subjects.id),
    status: text('status', { enum: ['active', 'ended'] }).notNull(),
    /** Kept in the clear for statistics by municipality; the district is sealed. */
    municipality: text('municipality').notNull(),
    /** Whether informing is still to be done (the overdue reminder asks); how it was done is sealed. */
    informingPending: integer('informing_pending', { mode: 'boolean' }).notNull(),
    /**
     * Sealed under the subject's data key, bound to the signal id: kind, district, informing state
     * and exemption, professional, reference, birth date. What no query needs stays out of the clear.
     */
    sealed: blob('sealed', { mode: 'buffer' }).notNull(),
    registeredAt: text('registered_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    endedAt: text('ended_at'),
    endReason: text('end_reason', {
      enum: ['care_ended', 'registered_in_error', 'moved', 'other', 'expired'],
    }),
  },
  (t) => [
    uniqueIndex('signals_one_active_per_agency')
      .on(t.agencyId, t.subjectId)
      .where(sql`${t.status} = 'active'`),
    index('signals_agency_status').on(t.agencyId, t.status, t.id),
    index('signals_subject').on(t.subjectId, t.status),
    index('signals_expiry').on(t.status, t.expiresAt),
  ],
);

/** Answers to creating requests, so that a retried request replays rather than repeats. */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    agencyId: text('agency_id').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    status: integer('status').notNull(),
    resourceId: text('resource_id').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agencyId, t.key] }), index('idempotency_created').on(t.createdAt)],
);

/** Append-only, hash-chained record of every access to subject data (NEN 7513 fields). */
export const auditLog = sqliteTable(
  'audit_log',
  {
    seq: integer('seq').primaryKey(),
    at: text('at').notNull(),
    agencyId: text('agency_id'),
    actor: text('actor'),
    action: text('action').notNull(),
    subject: text('subject'),
    resource: text('resource'),
    outcome: text('outcome').notNull(),
    requestId: text('request_id'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_subject').on(t.subject), index('audit_agency').on(t.agencyId, t.seq)],
);

/**
 * Signed checkpoints of the audit chain (a JWS over its sequence number and head hash), one per
 * sequence number. These rows only serve GET /v1/audit/checkpoint: the copies that count are
 * the ones the municipality and the agencies keep outside this database.
 */
export const auditCheckpoints = sqliteTable('audit_checkpoints', {
  seq: integer('seq').primaryKey(),
  head: text('head').notNull(),
  at: text('at').notNull(),
  kid: text('kid').notNull(),
  jws: text('jws').notNull(),
});

/**
 * One match per subject and lens while two or more agencies seen through that lens are involved
 * (src/policy/lens.ts). A match ends when it dissolves (fewer than two agencies left) or its
 * coordinator closes it. The match of lens '' is the one the coordinator works on; the others are
 * what parties with a narrower lens are told, as if the parties hidden from them never acted.
 */
export const matches = sqliteTable(
  'matches',
  {
    id: text('id').primaryKey(),
    subjectId: text('subject_id')
      .notNull()
      .references(() => subjects.id),
    /** The party types this line of matches leaves out ('' for none). */
    lens: text('lens').notNull().default(''),
    status: text('status', { enum: ['open', 'claimed', 'escalated', 'closed', 'dissolved'] }).notNull(),
    municipality: text('municipality').notNull(),
    // No district: once routing has used it, it is read from the sealed signals when shown.
    coordinatorId: text('coordinator_id').references(() => agencies.id),
    policyVersion: text('policy_version').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    /** The coordinator must claim the match before this instant, or it is escalated. */
    claimBy: text('claim_by').notNull(),
    claimedAt: text('claimed_at'),
    /** The claiming coordinator's contact, sealed under the subject's data key. */
    claimSealed: blob('claim_sealed', { mode: 'buffer' }),
    escalatedTo: text('escalated_to').references(() => agencies.id),
    escalatedAt: text('escalated_at'),
    endedAt: text('ended_at'),
    closeReason: text('close_reason', { enum: ['resolved', 'moved', 'no_longer_involved', 'other'] }),
    /** The signals a closed match covered: only a signal not among them starts a new match. */
    coveredSignals: text('covered_signals', { mode: 'json' }).$type<string[]>(),
  },
  (t) => [
    uniqueIndex('matches_one_live_per_subject_lens')
      .on(t.subjectId, t.lens)
      .where(sql`${t.status} in ('open', 'claimed', 'escalated')`),
    index('matches_coordinator').on(t.coordinatorId, t.status),
    index('matches_escalated').on(t.escalatedTo, t.status),
    index('matches_claim_by').on(t.status, t.claimBy),
  ],
);

/** What each recipient of a match was last shown, so a change tells only those it changes for. */
export const matchRecipients = sqliteTable(
  'match_recipients',
  {
    matchId: text('match_id')
      .notNull()
      .references(() => matches.id),
    agencyId: text('agency_id')
      .notNull()
      .references(() => agencies.id),
    role: text('role', { enum: ['party', 'coordinator', 'party_coordinator', 'escalation'] }).notNull(),
    /** Whom the recipient was last shown, and how: sealed under the subject's data key. */
    visibleSealed: blob('visible_sealed', { mode: 'buffer' }),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.matchId, t.agencyId] })],
);

/**
 * The inbox, and the outbox of webhook delivery: every notice is written in the transaction of
 * the change that caused it. Its content, with the rules that made the disclosure, is sealed under
 * the subject's data key; the policy version is kept beside it in the clear.
 */
export const notices = sqliteTable(
  'notices',
  {
    id: text('id').primaryKey(),
    agencyId: text('agency_id')
      .notNull()
      .references(() => agencies.id),
    /** None for a notice that must outlive the subject (subject.erased): sealed by the key ring instead. */
    subjectId: text('subject_id').references(() => subjects.id),
    matchId: text('match_id').references(() => matches.id),
    type: text('type').notNull(),
    sealed: blob('sealed', { mode: 'buffer' }).notNull(),
    policyId: text('policy_id').notNull(),
    policyVersion: text('policy_version').notNull(),
    createdAt: text('created_at').notNull(),
    ackedAt: text('acked_at'),
    /** Webhook delivery: none (no URL), pending, delivered or failed (it stays in the inbox). */
    delivery: text('delivery', { enum: ['none', 'pending', 'delivered', 'failed'] }).notNull().default('none'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: text('next_attempt_at'),
    deliveredAt: text('delivered_at'),
    lastError: text('last_error'),
  },
  (t) => [
    index('notices_agency').on(t.agencyId, t.id),
    index('notices_subject').on(t.subjectId),
    index('notices_delivery_due').on(t.delivery, t.nextAttemptAt),
  ],
);

/**
 * What signals of a database made before migration 0004 held in the clear, moved here by that
 * migration and sealed into each signal at the next start (`resealLegacySignals`), which empties it.
 */
export const legacySignalFields = sqliteTable('legacy_signal_fields', {
  signalId: text('signal_id').primaryKey(),
  kind: text('kind').notNull(),
  district: text('district'),
  informedStatus: text('informed_status').notNull(),
  informedExemption: text('informed_exemption'),
});

/**
 * That a young person's subject-access answer must leave out some agency (one registered with an
 * informing exemption for someone's safety). Kept after erasure and after the archive period, for
 * as long as the audit records it shields: the answer to a family never depends on data that an
 * erasure destroyed. The tag is a keyed digest of the pseudonym (not the pseudonym, so the row
 * cannot be joined to a subject without the key) and the agency ids are sealed by the key ring: the
 * database alone shows only how many young people have a marker.
 */
export const shieldMarkers = sqliteTable('shield_markers', {
  tag: text('tag').primaryKey(),
  sealed: blob('sealed', { mode: 'buffer' }).notNull(),
});

/** What happened to a match, in order: the coordinator's timeline. */
export const matchEvents = sqliteTable(
  'match_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    matchId: text('match_id')
      .notNull()
      .references(() => matches.id),
    at: text('at').notNull(),
    type: text('type').notNull(),
    agencyId: text('agency_id'),
  },
  (t) => [index('match_events_match').on(t.matchId, t.id)],
);

/** A case table (casusoverleg) convened for a match; the outcome is structured, never prose. */
export const caseTables = sqliteTable(
  'case_tables',
  {
    id: text('id').primaryKey(),
    matchId: text('match_id')
      .notNull()
      .references(() => matches.id),
    /** For a case table as the parties of a narrower lens see it: the one the coordinator convened. */
    rootId: text('root_id'),
    scheduledFor: text('scheduled_for').notNull(),
    invited: text('invited', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: text('created_at').notNull(),
    held: integer('held', { mode: 'boolean' }),
    attendedBy: text('attended_by', { mode: 'json' }).$type<string[]>(),
    leadAgencyId: text('lead_agency_id'),
    nextReviewOn: text('next_review_on'),
    outcomeAt: text('outcome_at'),
  },
  (t) => [index('case_tables_match').on(t.matchId), index('case_tables_root').on(t.rootId)],
);

/** Marks of what a periodic job has done once, so that running it again sends nothing twice. */
export const jobMarks = sqliteTable(
  'job_marks',
  {
    kind: text('kind').notNull(),
    ref: text('ref').notNull(),
    at: text('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.ref] })],
);

/**
 * The people of an agency who sign in to the console. Roles grant scopes within what the policy
 * gives the agency's type (src/console/roles.ts). `webauthnUserId` is the random user handle their
 * passkeys carry, so a passkey names no e-mail address.
 */
export const professionals = sqliteTable(
  'professionals',
  {
    id: text('id').primaryKey(),
    agencyId: text('agency_id')
      .notNull()
      .references(() => agencies.id),
    name: text('name').notNull(),
    email: text('email').notNull(),
    phone: text('phone'),
    roles: text('roles', { mode: 'json' }).$type<string[]>().notNull(),
    status: text('status', { enum: ['invited', 'active', 'disabled'] }).notNull(),
    webauthnUserId: text('webauthn_user_id').notNull(),
    /** The agency's OpenID provider (issuer) and the subject it names this professional by, once linked at a first sign-in. */
    oidcIssuer: text('oidc_issuer'),
    oidcSubject: text('oidc_subject'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('professionals_agency_email').on(t.agencyId, t.email),
    uniqueIndex('professionals_webauthn_user').on(t.webauthnUserId),
    uniqueIndex('professionals_oidc_subject').on(t.oidcIssuer, t.oidcSubject),
  ],
);

/** One-time enrolment links: only a hash of the token is kept. */
export const professionalInvitations = sqliteTable(
  'professional_invitations',
  {
    tokenHash: text('token_hash').primaryKey(),
    professionalId: text('professional_id')
      .notNull()
      .references(() => professionals.id),
    /** The admin who invited, or none for the command line. */
    invitedBy: text('invited_by'),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    usedAt: text('used_at'),
  },
  (t) => [index('professional_invitations_professional').on(t.professionalId)],
);

/** A professional's passkeys (WebAuthn credentials, discoverable, user-verifying). */
export const passkeys = sqliteTable(
  'passkeys',
  {
    id: text('id').primaryKey(),
    professionalId: text('professional_id')
      .notNull()
      .references(() => professionals.id),
    publicKey: blob('public_key', { mode: 'buffer' }).notNull(),
    counter: integer('counter').notNull(),
    transports: text('transports', { mode: 'json' }).$type<string[]>().notNull(),
    backedUp: integer('backed_up', { mode: 'boolean' }).notNull(),
    createdAt: text('created_at').notNull(),
    lastUsedAt: text('last_used_at'),
  },
  (t) => [index('passkeys_professional').on(t.professionalId)],
);

/** Console sessions: the cookie holds a secret, the row only its hash. */
export const consoleSessions = sqliteTable(
  'console_sessions',
  {
    id: text('id').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    professionalId: text('professional_id')
      .notNull()
      .references(() => professionals.id),
    /** The synchroniser token every form of this session posts back. */
    csrfToken: text('csrf_token').notNull(),
    /** A short description of the browser, so that the professional can recognise the session. */
    device: text('device').notNull(),
    createdAt: text('created_at').notNull(),
    lastSeenAt: text('last_seen_at').notNull(),
    /** The absolute end, however active the session is. */
    expiresAt: text('expires_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [uniqueIndex('console_sessions_token').on(t.tokenHash), index('console_sessions_professional').on(t.professionalId, t.revokedAt)],
);

/**
 * Passkey challenges handed out and not yet answered, shared by every instance: each is taken back
 * once, by whichever instance the answer reaches, within five minutes. A registration challenge
 * is bound to the professional it was made for; a sign-in challenge to no one.
 */
export const passkeyChallenges = sqliteTable(
  'passkey_challenges',
  {
    challenge: text('challenge').primaryKey(),
    purpose: text('purpose', { enum: ['register', 'authenticate'] }).notNull(),
    professionalId: text('professional_id').references(() => professionals.id),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [index('passkey_challenges_expiry').on(t.expiresAt)],
);

/**
 * Console sign-in attempts per client (a hash of its address), counted in a window that starts
 * with the first attempt, shared by every instance so that the limit does not multiply with them.
 */
export const signInAttempts = sqliteTable(
  'sign_in_attempts',
  {
    key: text('key').primaryKey(),
    count: integer('count').notNull(),
    windowEndsAt: text('window_ends_at').notNull(),
  },
  (t) => [index('sign_in_attempts_window').on(t.windowEndsAt)],
);

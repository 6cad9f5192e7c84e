import { openWebhookSecret } from '../app/agencies.ts';
import { type Deps, withTransaction } from '../app/context.ts';
import { subjectKeys } from '../store/subjects.ts';
import { type NoticeRow, openNoticeRow, webhookOfAgency } from '../store/notices.ts';
import { claimDueNotices, deliveryLeaseMs, recordDeliveryOutcome } from '../store/outbox.ts';
import { DESTINATION_REFUSED, postWebhook } from './post.ts';
import { signWebhook } from './sign.ts';

export interface DeliveryOptions {
  /** How long one attempt may take. */
  timeoutMs: number;
  /** How long a notice is retried before it is marked failed (it stays in the inbox). */
  retryWindowMs: number;
  /** First retry delay; it doubles per attempt, capped at an hour, with jitter. */
  backoffMs: number;
  /** Attempts made at once. */
  concurrency: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = { timeoutMs: 10_000, retryWindowMs: 24 * 3_600_000, backoffMs: 5_000, concurrency: 8 };

/** Why a queued delivery of a disabled agency was never sent. */
export const AGENCY_DISABLED = 'agency disabled';

export interface DeliveryStats {
  delivered: number;
  retried: number;
  failed: number;
}

/** Exponential backoff with jitter: half the delay fixed, half random, so receivers are not stormed. */
export function backoffDelay(attempts: number, baseMs: number, random = Math.random): number {
  const delay = Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 3_600_000);
  return Math.round(delay / 2 + (random() * delay) / 2);
}

interface Prepared {
  row: NoticeRow;
  url: string | null;
  body: string;
  /** The agency's HMAC secret for a `v1` signature, if it chose one. */
  secret: Uint8Array | null;
  disabled: boolean;
}

async function attempt(deps: Deps, p: Prepared, opts: DeliveryOptions): Promise<string | null> {
  const timestamp = Math.floor(deps.clock.now().getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'betrokken-webhooks',
    'webhook-id': p.row.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signWebhook(deps.keys, p.row.id, timestamp, p.body, p.secret),
  };
  const error = await postWebhook(p.url!, headers, p.body, { timeoutMs: opts.timeoutMs, allowedHosts: deps.webhookAllowedHosts ?? [] });
  if (error === DESTINATION_REFUSED) {
    deps.logger.warn({ agencyId: p.row.agencyId, noticeId: p.row.id, host: new URL(p.url!).hostname }, 'webhook destination refused: a private, link-local or metadata address');
  }
  return error;
}

/**
 * Pushes every due notice to its recipient's webhook once (at least once overall: the state is in
 * the database, so a restart resumes). Success marks it delivered; a failure schedules a retry
 * with backoff until the retry window has passed, then marks it failed.
 */
export async function deliverDue(deps: Deps, opts: DeliveryOptions = DEFAULT_DELIVERY, limit = 200): Promise<DeliveryStats> {
  const stats: DeliveryStats = { delivered: 0, retried: 0, failed: 0 };
  const started = deps.clock.now();
  const now = started.toISOString();
  // On PostgreSQL the claim holds the notices for this instance until each of its rounds has had
  // its time (outbox.ts): another instance takes them over only when this one died or stalled
  // past that, so a claim takes two rounds' worth, to keep a dead instance's notices waiting
  // briefly. On SQLite one process owns the outbox: the lease is the claim's own time, so that
  // notices stay due and a restarted process delivers them at once, as it always did.
  const multi = deps.store.dialect === 'postgres';
  const claim = multi ? Math.min(limit, 2 * opts.concurrency) : limit;
  const lease = multi ? new Date(started.getTime() + deliveryLeaseMs(opts.timeoutMs) * Math.ceil(claim / opts.concurrency)).toISOString() : now;
  const prepared = await withTransaction(deps, async (tx) => {
    const keyOf = subjectKeys(tx, deps.keys);
    const out: Prepared[] = [];
    for (const row of await claimDueNotices(tx, now, claim, lease)) {
      const agency = await webhookOfAgency(tx, row.agencyId);
      // A disabled agency is sent nothing; its notice is not even opened.
      if (agency?.status !== 'active') {
        out.push({ row, url: null, body: '', secret: null, disabled: true });
        continue;
      }
      const { body } = await openNoticeRow(tx, deps.keys, row, keyOf);
      const secret = agency.url ? openWebhookSecret(deps.keys, row.agencyId, agency.secret) : null;
      out.push({ row, url: agency.url, body: JSON.stringify({ ...body, acknowledgedAt: row.ackedAt }), secret, disabled: false });
    }
    return out;
  });
  for (let i = 0; i < prepared.length; i += opts.concurrency) {
    const chunk = prepared.slice(i, i + opts.concurrency);
    const errors = await Promise.all(chunk.map((p) => (p.url && !p.disabled ? attempt(deps, p, opts) : Promise.resolve('no webhook'))));
    const done = deps.clock.now();
    await withTransaction(deps, async (tx) => {
      for (const [k, p] of chunk.entries()) {
        const error = errors[k];
        const attempts = p.row.attempts + 1;
        if (p.disabled) {
          await recordDeliveryOutcome(tx, p.row.id, lease, { delivery: 'failed', nextAttemptAt: null, lastError: AGENCY_DISABLED });
        } else if (!p.url) {
          await recordDeliveryOutcome(tx, p.row.id, lease, { delivery: 'none', nextAttemptAt: null });
        } else if (error === null) {
          await recordDeliveryOutcome(tx, p.row.id, lease, { delivery: 'delivered', attempts, deliveredAt: done.toISOString(), nextAttemptAt: null, lastError: null });
          stats.delivered++;
        } else if (done.getTime() - Date.parse(p.row.createdAt) >= opts.retryWindowMs) {
          await recordDeliveryOutcome(tx, p.row.id, lease, { delivery: 'failed', attempts, nextAttemptAt: null, lastError: error });
          stats.failed++;
        } else {
          const next = new Date(done.getTime() + backoffDelay(attempts, opts.backoffMs)).toISOString();
          await recordDeliveryOutcome(tx, p.row.id, lease, { attempts, nextAttemptAt: next, lastError: error });
          stats.retried++;
        }
      }
    });
  }
  deps.metrics.recordDelivery(stats);
  return stats;
}

/**
 * The delivery worker inside the server: polls for due notices and delivers them, one round at a
 * time. `stop()` waits for the round in flight.
 */
export function startDeliveryWorker(deps: Deps, opts: DeliveryOptions, pollMs = 500) {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const loop = async () => {
    while (!stopped) {
      let stats: DeliveryStats = { delivered: 0, retried: 0, failed: 0 };
      try {
        current = deliverDue(deps, opts);
        stats = (await current) as DeliveryStats;
      } catch (err) {
        deps.logger.error({ err }, 'webhook delivery round failed');
      }
      if (stats.delivered + stats.retried + stats.failed === 0) await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  void loop();
  return async () => {
    stopped = true;
    await current.catch(() => undefined);
  };
}

import { type Deps, withTransaction } from '../app/context.ts';
import { countAttempt } from '../store/sign-in-attempts.ts';
import { hashSecret } from './secrets.ts';

/**
 * Counts attempts per key (a client address) in a window that starts with the key's first
 * attempt: enough to make guessing at sign-in slow. The counts are in the database, so that every
 * instance of a deployment counts against one allowance; the database keeps a hash of the key, not
 * the address.
 */
export class AttemptLimiter {
  constructor(
    private readonly deps: Pick<Deps, 'store' | 'clock'>,
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Counts an attempt; false when the key has had `max` attempts within its window already. */
  async take(key: string): Promise<boolean> {
    const now = this.deps.clock.now();
    const attempt = { key: hashSecret(key), now: now.toISOString(), windowEndsAt: new Date(now.getTime() + this.windowMs).toISOString(), max: this.max };
    return withTransaction(this.deps, (tx) => countAttempt(tx, attempt));
  }
}

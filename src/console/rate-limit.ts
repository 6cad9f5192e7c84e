import type { Clock } from '../app/context.ts';

/**
 * Counts attempts per key (a client address) in a sliding window, in this process: enough to
 * make guessing at sign-in slow; a deployment of several instances multiplies the allowance.
 */
export class AttemptLimiter {
  private readonly seen = new Map<string, number[]>();
  constructor(
    private readonly clock: Clock,
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Counts an attempt; false when the key has had `max` attempts within the window already. */
  take(key: string): boolean {
    const now = this.clock.now().getTime();
    if (this.seen.size > 10_000) for (const [k, v] of this.seen) if (v.at(-1)! <= now - this.windowMs) this.seen.delete(k);
    const recent = (this.seen.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length >= this.max) {
      this.seen.set(key, recent);
      return false;
    }
    recent.push(now);
    this.seen.set(key, recent);
    return true;
  }
}

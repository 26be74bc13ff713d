import { setBounded } from "../memory/bounded-map.ts";

/**
 * Failed authentications per client IP in a fixed window (docs/design.md §7). Bounded:
 * past `maxTracked` IPs the oldest window is forgotten, so a flood of source
 * addresses costs memory that does not grow.
 */
export class FailureLimiter {
  readonly #windows = new Map<string, { start: number; failures: number }>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxTracked: number;

  constructor(limit: number, windowMs: number, maxTracked: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxTracked = maxTracked;
  }

  /** Seconds until `ip` may try again, or 0 when it is not limited. */
  retryAfter(ip: string, now: number): number {
    const w = this.#windows.get(ip);
    if (!w || w.failures < this.#limit) return 0;
    const left = w.start + this.#windowMs - now;
    if (left <= 0) {
      this.#windows.delete(ip);
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  /**
   * Limits `ip` for a whole window from now, whatever this isolate counted:
   * for when another source (the Rate Limiting binding) saw it go over.
   */
  block(ip: string, now: number): void {
    setBounded(this.#windows, this.#maxTracked, ip, { start: now, failures: this.#limit });
  }

  recordFailure(ip: string, now: number): void {
    const w = this.#windows.get(ip);
    if (w && now - w.start < this.#windowMs) {
      w.failures++;
      return;
    }
    setBounded(this.#windows, this.#maxTracked, ip, { start: now, failures: 1 });
  }

  get size(): number {
    return this.#windows.size;
  }
}

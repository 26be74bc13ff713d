import { setBounded } from "./bounded-map.ts";

/** A Map with a time-to-live and a maximum size (full: the oldest insertion goes, see bounded-map.ts). */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  readonly #max: number;
  readonly #ttlMs: number;

  constructor(max: number, ttlMs: number) {
    this.#max = max;
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, now: number): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.until > now) return e.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, now: number): void {
    if (this.#ttlMs <= 0) return;
    setBounded(this.#entries, this.#max, key, { value, until: now + this.#ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}

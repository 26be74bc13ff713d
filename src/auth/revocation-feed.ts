import { errorText, logLine } from "../log.ts";
import { setBounded } from "../memory/bounded-map.ts";
import type { SqlDatabase } from "../storage/ports.ts";
import type { AuthRecord } from "../storage/records.ts";
import { readRevocationHead, readRevocationsAfter, type RevocationRow } from "../storage/revocations.ts";

/**
 * Revocation within seconds (docs/caching-and-revocation.md "Revocation within seconds"). KV can
 * serve a stale "active" record for about 60 s plus its cacheTtl after a
 * revocation, and isolate memory for MEMORY_CACHE_TTL_MS on top. So every
 * isolate also reads D1's append-only `key_revocations` feed: only rows past
 * the last seq it saw, in waitUntil, at most once per poll interval. Each new
 * row evicts the key from memory and enters a bounded set of recent
 * revocations that overrides whatever record a cache returns, for longer than
 * any cache can be stale. A request that finds the last complete read older
 * than the staleness bound awaits a read first, so idle isolates keep the
 * bound too. A read that stops at its page cap is not complete: the feed
 * stays due, and the bound keeps counting from the last read that caught up.
 */

/**
 * Key id → when it stops (the earliest time any row said), each entry kept
 * until `recorded_at + retention`. Keyed by id, not hash, so a key re-hashed
 * under a new KEY_HASH_SECRET is still covered. Full: the oldest entry goes
 * (and a warning is logged: for that key the bound falls back to KV's).
 */
export class RecentRevocations {
  readonly #entries = new Map<string, { effectiveAt: number; until: number }>();
  readonly #max: number;
  readonly #retentionMs: number;

  constructor(max: number, retentionMs: number) {
    this.#max = max;
    this.#retentionMs = retentionMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  note(keyId: string, effectiveAt: number, recordedAt: number, now: number): void {
    const until = recordedAt + this.#retentionMs;
    if (until <= now) return;
    const old = this.#entries.get(keyId);
    const dropped = setBounded(this.#entries, this.#max, keyId, {
      effectiveAt: old ? Math.min(old.effectiveAt, effectiveAt) : effectiveAt,
      until: old ? Math.max(old.until, until) : until,
    });
    if (dropped && dropped[1].until > now) logLine({ level: "warn", event: "revocation_set_full", max: this.#max });
  }

  /** When the key stops according to the feed, if it is in the set. */
  effectiveAt(keyId: string, now: number): number | undefined {
    const e = this.#entries.get(keyId);
    if (!e) return undefined;
    if (e.until > now) return e.effectiveAt;
    this.#entries.delete(keyId);
    return undefined;
  }

  /** The record with the feed's revocation applied: the earlier of the two times wins. */
  apply(record: AuthRecord, now: number): AuthRecord {
    const at = this.effectiveAt(record.id, now);
    if (at === undefined) return record;
    if (record.revoked_at !== null && Date.parse(record.revoked_at) <= at) return record;
    return { ...record, revoked_at: new Date(at).toISOString() };
  }
}

export interface FeedOptions {
  pollIntervalMs: number;
  maxStalenessMs: number;
  maxEntries: number;
  /** How long a revocation overrides cached records (see revocationRetentionMs). */
  retentionMs: number;
}

/** Rows read per query; a poll reads at most a few pages and continues at the next request. */
export const FEED_PAGE_ROWS = 500;
export const FEED_PAGES_PER_POLL = 4;

export class RevocationFeed {
  readonly recent: RecentRevocations;
  readonly #opts: FeedOptions;
  readonly #evict: (row: RevocationRow) => void;
  #last: number | null = null;
  #lastSuccess = Number.NEGATIVE_INFINITY;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | null = null;

  /** `evict` forgets what the isolate holds of a revoked key (its cached record, its identity token). */
  constructor(opts: FeedOptions, evict: (row: RevocationRow) => void) {
    this.#opts = opts;
    this.recent = new RecentRevocations(opts.maxEntries, opts.retentionMs);
    this.#evict = evict;
  }

  /** When the last complete read (one that reached the feed's end) started, ms since the epoch. */
  get lastSuccess(): number {
    return this.#lastSuccess;
  }

  /**
   * Call before trusting a cached record. Fresh: returns at once and, once
   * per interval, starts a read in the background. Stale: awaits a read. A
   * failed read is logged and retried no sooner than the interval; meanwhile
   * requests go on with what the isolate knows (docs/caching-and-revocation.md, "Failing safe").
   */
  async ready(db: SqlDatabase, waitUntil: (p: Promise<unknown>) => void, now: number): Promise<void> {
    const dueForPoll = now - this.#lastAttempt >= this.#opts.pollIntervalMs;
    if (now - this.#lastSuccess <= this.#opts.maxStalenessMs) {
      if (dueForPoll && !this.#inflight) waitUntil(this.poll(db, now));
      return;
    }
    if (this.#inflight) return this.#inflight;
    if (dueForPoll) return this.poll(db, now);
  }

  /** One read of the feed (never throws); concurrent callers share it. */
  poll(db: SqlDatabase, now: number): Promise<void> {
    if (this.#inflight) return this.#inflight;
    this.#lastAttempt = now;
    this.#inflight = this.#read(db, now)
      .then(
        (complete) => {
          if (complete) this.#lastSuccess = now;
          // Behind after a full poll: due again at once, not one interval later.
          else this.#lastAttempt = Number.NEGATIVE_INFINITY;
        },
        (err: unknown) => logLine({ level: "warn", event: "revocation_poll_failed", message: errorText(err) }),
      )
      .finally(() => {
        this.#inflight = null;
      });
    return this.#inflight;
  }

  /** Reads what is new; true when it reached the feed's end. */
  async #read(db: SqlDatabase, now: number): Promise<boolean> {
    if (this.#last === null) {
      // A cold isolate: everything recent enough to matter, and where the feed stands.
      const head = await readRevocationHead(db, new Date(now - this.#opts.retentionMs).toISOString(), this.#opts.maxEntries);
      this.#take(head.recent, now);
      this.#last = head.last;
      return true;
    }
    for (let page = 0; page < FEED_PAGES_PER_POLL; page++) {
      const rows = await readRevocationsAfter(db, this.#last, FEED_PAGE_ROWS);
      this.#take(rows, now);
      if (rows.length < FEED_PAGE_ROWS) return true;
    }
    return false;
  }

  #take(rows: readonly RevocationRow[], now: number): void {
    for (const row of rows) {
      this.recent.note(row.key_id, Date.parse(row.effective_at), Date.parse(row.recorded_at), now);
      this.#evict(row);
      if (this.#last === null || row.seq > this.#last) this.#last = row.seq;
    }
  }
}

/**
 * How long a revocation must override cached records: until every KV entry
 * written before it has expired everywhere (KV_CACHE_TTL_S, even if the
 * tombstone write failed), plus KV's propagation (~60 s) and cacheTtl, the
 * tombstone's second write, and one memory TTL.
 */
export const KV_PROPAGATION_MS = 60_000;

export function revocationRetentionMs(c: {
  KV_CACHE_TTL_S: number;
  KV_READ_CACHE_TTL_S: number;
  TOMBSTONE_REWRITE_DELAY_MS: number;
  MEMORY_CACHE_TTL_MS: number;
}): number {
  return (c.KV_CACHE_TTL_S + c.KV_READ_CACHE_TTL_S) * 1000 + KV_PROPAGATION_MS + c.TOMBSTONE_REWRITE_DELAY_MS + c.MEMORY_CACHE_TTL_MS;
}

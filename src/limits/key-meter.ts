import { DurableObject } from "cloudflare:workers";
import { EMPTY_METER, take, type MeterRequest, type MeterState, type MeterVerdict } from "./meter-state.ts";

const STATE_KEY = "meter";
/**
 * How long after a change the state is written to storage. Writing on every
 * request made each answer wait for a durable commit (about 8 ms locally, and
 * calls to one object do not overlap), capping a key near 100 requests/s.
 */
export const PERSIST_DELAY_MS = 1_000;

/**
 * One per metered key (idFromName(meter id)): the single point of truth for
 * its rate-limit window and monthly quota, whichever isolate asks. A Durable
 * Object runs one call at a time and `take` never awaits, so concurrent
 * requests are counted exactly against the in-memory state. That state is
 * written to the object's SQLite storage at most PERSIST_DELAY_MS after it
 * changes, and read back when the object starts again (after eviction): only
 * a crash inside that second can forget what it admitted during it.
 */
export class KeyMeter extends DurableObject {
  #state: MeterState | null = null;
  #persistPending = false;

  /** Decides one request (rate window and quota in one round-trip); `now` is the caller's clock. */
  take(req: MeterRequest): MeterVerdict {
    const before = (this.#state ??= this.ctx.storage.kv.get<MeterState>(STATE_KEY) ?? EMPTY_METER);
    const { state, verdict } = take(before, req);
    if (state.window !== before.window || state.month !== before.month) {
      this.#state = state;
      this.#schedulePersist();
    }
    return verdict;
  }

  #schedulePersist(): void {
    if (this.#persistPending) return;
    this.#persistPending = true;
    setTimeout(() => {
      this.#persistPending = false;
      if (this.#state) this.ctx.storage.kv.put(STATE_KEY, this.#state);
    }, PERSIST_DELAY_MS);
  }
}

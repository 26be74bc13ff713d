import { DurableObject } from "cloudflare:workers";
import { EMPTY_METER, take, type MeterState, type MeterVerdict } from "./meter-state.ts";
import type { Limits } from "./policy.ts";

const STATE_KEY = "meter";

/**
 * One per metered key (idFromName(meter id)): the single point of truth for
 * its rate-limit window and monthly quota, whichever isolate asks. It decides
 * with its own clock, never the caller's: a request delayed in an isolate, or
 * sent from one whose clock is behind, cannot reopen a window (meter-state.ts).
 * A Durable Object runs one call at a time and `take` never awaits, so
 * concurrent requests are counted exactly against the in-memory state.
 *
 * Every change is written to the object's SQLite storage as it happens, with
 * `allowUnconfirmed`: the answer does not wait for the durable commit (which
 * would cap a key's request rate at one commit per request), and the commit
 * starts as soon as the call returns. A crash can forget only the changes
 * whose commit had not finished; an eviction or a deploy's restart forgets
 * nothing (docs/performance.md measures the cost).
 */
export class KeyMeter extends DurableObject {
  #state: MeterState | null = null;

  /** Decides one request (rate window and quota in one round-trip). */
  take(limits: Limits): MeterVerdict {
    const before = (this.#state ??= this.ctx.storage.kv.get<MeterState>(STATE_KEY) ?? EMPTY_METER);
    const { state, verdict } = take(before, { ...limits, now: Date.now() });
    if (state.window !== before.window || state.month !== before.month) {
      this.#state = state;
      void this.ctx.storage.put(STATE_KEY, state, { allowUnconfirmed: true });
    }
    return verdict;
  }
}

import { DurableObject } from "cloudflare:workers";
import { EMPTY_METER, take, type MeterRequest, type MeterState, type MeterVerdict } from "./meter-state.ts";

const STATE_KEY = "meter";

/**
 * One per metered key (idFromName(meter id)): the single point of truth for
 * its rate-limit window and monthly quota, whichever isolate asks. A Durable
 * Object runs one call at a time and `take` never awaits, so concurrent
 * requests are counted exactly; the state is written through to the object's
 * SQLite storage, and the output gate holds the answer until it is durable.
 */
export class KeyMeter extends DurableObject {
  #state: MeterState | null = null;

  /** Decides one request (rate window and quota in one round-trip); `now` is the caller's clock. */
  take(req: MeterRequest): MeterVerdict {
    const before = (this.#state ??= this.ctx.storage.kv.get<MeterState>(STATE_KEY) ?? EMPTY_METER);
    const { state, verdict } = take(before, req);
    if (state.window !== before.window || state.month !== before.month) {
      this.ctx.storage.kv.put(STATE_KEY, state);
      this.#state = state;
    }
    return verdict;
  }
}

import { GatewayError } from "../errors.ts";
import { errorText, logLine } from "../log.ts";
import type { BlockList } from "./blocks.ts";
import { blockedUntil } from "./blocks.ts";
import { limitHeaders, retryAfterSeconds } from "./ratelimit-headers.ts";
import type { MeterVerdict } from "./meter-state.ts";
import type { Limits } from "./policy.ts";

/** The slice of the KEY_METER namespace the gateway uses (a real binding satisfies it). */
export interface MeterNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): { take(limits: Limits): Promise<MeterVerdict> };
}

export interface Metered {
  /** RateLimit-Policy and RateLimit, for every response to this request. */
  headers: [string, string][];
  /** The 429 to answer with, or null: admitted. */
  refusal: GatewayError | null;
}

/**
 * Meters one request of a limited key: the local pre-check first (a meter the
 * Durable Object refused stays refused here until it would admit again), else
 * one round-trip to the key's KeyMeter, which decides by its own clock;
 * `now` (this isolate's) only dates the pre-check and the headers. Over the limit, the 429 to answer
 * with; a meter that cannot be reached fails closed (throws 503), as key storage does.
 */
export async function meter(blocks: BlockList, ns: MeterNamespace, meterId: string, limits: Limits, now: number): Promise<Metered> {
  const blocked = blocks.get(meterId, now);
  const verdict = blocked ? refreshed(blocked, now) : await ask(ns, meterId, limits);
  // Seconds to a reset are counted on the clock that set it: the object's for its answer, this isolate's for the pre-check.
  const clock = blocked ? now : verdict.decidedAt;
  const headers = limitHeaders(verdict, clock);
  if (verdict.allowed) return { headers, refusal: null };
  if (!blocked) blocks.set(meterId, verdict);
  const retry = { "retry-after": String(retryAfterSeconds(blockedUntil(verdict), clock)) };
  const refusal =
    verdict.refusedBy === "quota_exceeded"
      ? new GatewayError(
          "quota_exceeded",
          "This API key has used its monthly request quota; it resets at the start of next month (UTC)",
          retry,
        )
      : new GatewayError("rate_limited", "Rate limit exceeded for this API key; retry later", retry);
  return { headers, refusal };
}

async function ask(ns: MeterNamespace, meterId: string, limits: Limits): Promise<MeterVerdict> {
  try {
    return await ns.get(ns.idFromName(meterId)).take({ rate: limits.rate, quota: limits.quota });
  } catch (err) {
    logLine({ level: "error", event: "meter_unavailable", message: errorText(err) });
    throw new GatewayError("service_unavailable", "Rate limiting is temporarily unavailable; retry shortly", { "retry-after": "1" });
  }
}

/** A cached refusal seen later: a rate window that has since closed would start afresh. */
function refreshed(v: MeterVerdict, now: number): MeterVerdict {
  if (!v.rate || now < v.rate.resetAt) return v;
  return { ...v, rate: { ...v.rate, remaining: v.rate.limit, resetAt: now + v.rate.period_s * 1000 } };
}

import type { AuthContext } from "./context.ts";
import { GatewayError } from "../errors.ts";
import { isWellFormedKey } from "../keys/format.ts";
import { hashKey } from "../keys/hash.ts";
import { keyState } from "../keys/key-state.ts";
import type { AuthRecord } from "../storage/records.ts";
import { readCredential } from "./bearer.ts";
import { invalidKey, missingKey } from "./challenges.ts";
import { findKey, type Stores, type Tier } from "./lookup.ts";
import { rehashAfterResponse } from "./rehash.ts";
import { reportFailure, type SharedFailureCounter } from "./shared-limit.ts";

export interface Authenticated {
  key: AuthRecord;
  tier: Tier;
}

/** Either the key, or the refusal; `tier` says which cache answered, for the log line. */
export type AuthOutcome =
  | ({ ok: true } & Authenticated)
  /** `key`: set when the key was identified (revoked, expired), so the refusal can be counted against it. */
  | { ok: false; error: GatewayError; tier: Tier | null; key?: AuthRecord };

/** Who is asking, for the failed-authentication limit (docs/design.md §7). */
export interface Client {
  /** `clientAddress(...).limiterKey`: the IPv4 address or IPv6 /64. */
  limiterKey: string;
  /** The Rate Limiting binding, when deployed with one (see shared-limit.ts). */
  shared?: SharedFailureCounter | undefined;
}

/**
 * docs/design.md §1 steps 3–6. Failures count against the client IP; past the limit
 * the IP gets 429 without any storage lookup, unless this isolate already
 * knows its key to be valid. Storage faults throw (503), they are not refusals.
 */
export async function authenticate(
  rt: AuthContext,
  stores: Stores,
  authorization: string | null,
  client: Client,
  now: number,
): Promise<AuthOutcome> {
  const credential = readCredential(authorization);
  const token = credential.kind === "token" && isWellFormedKey(credential.token) ? credential.token : null;
  const hash = token === null ? null : await hashKey(await rt.hashKey, token);

  // Only a well-formed key is worth knowing the latest revocations for: refusals cost no D1 read.
  if (hash !== null) await rt.revocations.ready(stores.db, stores.waitUntil, now);

  const retryAfter = rt.failures.retryAfter(client.limiterKey, now);
  if (retryAfter > 0) {
    const cached = hash === null ? undefined : rt.keys.get(hash, now);
    const known = cached && rt.revocations.recent.apply(cached, now);
    if (known && keyState(known, now) === "active") return { ok: true, key: known, tier: "memory" };
    const error = new GatewayError("rate_limited", "Too many failed authentication attempts; retry later", {
      "retry-after": String(retryAfter),
    });
    return { ok: false, error, tier: null };
  }

  const fail = (error: GatewayError, tier: Tier | null, key?: AuthRecord): AuthOutcome => {
    rt.failures.recordFailure(client.limiterKey, now);
    if (client.shared) stores.waitUntil(reportFailure(client.shared, rt.failures, client.limiterKey));
    return key ? { ok: false, error, tier, key } : { ok: false, error, tier };
  };
  if (credential.kind === "missing") return fail(missingKey(), null);
  if (hash === null) return fail(invalidKey(), null);

  const previous = rt.previousHashKey;
  const found = await findKey(rt, stores, hash, () => (previous && token ? previous.then((k) => hashKey(k, token)) : null), now);
  const tier = found.tier;
  if (!found.record) return fail(invalidKey(), tier);
  const record = rt.revocations.recent.apply(found.record, now);
  const state = keyState(record, now);
  if (state === "revoked") return fail(invalidKey("API key has been revoked"), tier, record);
  if (state === "expired") return fail(invalidKey("API key has expired"), tier, record);
  if (found.viaPrevious) {
    rehashAfterResponse(rt, stores, { keyId: record.id, from: found.hash, to: hash, version: rt.config.KEY_HASH_SECRET_VERSION }, now);
  }
  return { ok: true, key: record, tier };
}

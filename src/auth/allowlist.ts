import { GatewayError } from "../errors.ts";
import type { AuthRecord } from "../storage/records.ts";
import { allowlistAllows, compileAllowlist, type CompiledAllowlist } from "./cidr.ts";

/**
 * Compiled once per loaded record and kept as long as the record is (the
 * memory tier holds the same object across requests), so the blocks are
 * parsed at key load, not per request.
 */
const compiled = new WeakMap<AuthRecord, CompiledAllowlist>();

/** Says neither the client's address nor the blocks: a refused caller learns nothing to aim at. */
export const NOT_FROM_HERE = "This API key may not be used from this network";

/**
 * The key's IP allowlist against the client address (`CF-Connecting-IP`).
 * A key without one returns at the first comparison; an unknown client
 * address never matches an allowlist.
 */
export function assertClientAllowed(record: AuthRecord, clientIp: string): void {
  if (record.allowed_cidrs === null) return;
  let list = compiled.get(record);
  if (!list) {
    list = compileAllowlist(record.allowed_cidrs);
    compiled.set(record, list);
  }
  if (!allowlistAllows(list, clientIp)) throw new GatewayError("forbidden", NOT_FROM_HERE);
}

import type { RateLimit } from "../limits/policy.ts";
import { actorFromColumns, type Actor } from "../storage/actors.ts";
import { allowedCidrsOf, rateLimitOf, scopesOf, type KeyRow } from "../storage/records.ts";
import type { KeyMode } from "../keys/format.ts";
import { keyState, type KeyState } from "../keys/key-state.ts";

/** The key object of every API response and `--json` output (docs/design.md §8): no secret, no hash. */
export interface KeyObject {
  id: string;
  name: string;
  organization_id: string;
  display: string;
  scopes: string[];
  state: KeyState;
  created_at: string;
  /** The key id that created it, "cli", or the person (docs/sign-in.md). */
  created_by: Actor;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
  /** The key's own limit; null: the organization default applies, if any (docs/keys-and-scopes.md "Rate limits and quotas"). */
  rate_limit: RateLimit | null;
  monthly_quota: number | null;
  /** CIDR blocks the key works from (canonical form); null: any address. */
  allowed_cidrs: string[] | null;
  mode: KeyMode;
}

export function toKeyObject(row: KeyRow, nowMs: number): KeyObject {
  return {
    id: row.id,
    name: row.name,
    organization_id: row.organization_id,
    display: row.display,
    scopes: scopesOf(row),
    state: keyState(row, nowMs),
    created_at: row.created_at,
    created_by: actorFromColumns(row.created_by, row.created_by_user),
    last_used_at: row.last_used_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    rotated_from: row.rotated_from,
    rate_limit: rateLimitOf(row),
    monthly_quota: row.monthly_quota,
    allowed_cidrs: allowedCidrsOf(row),
    mode: row.mode,
  };
}

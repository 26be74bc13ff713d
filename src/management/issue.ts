import type { RateLimit } from "../limits/policy.ts";
import { actorColumns, type Actor } from "../storage/actors.ts";
import type { KeyRow } from "../storage/records.ts";
import { displayKey, generateKey, type KeyMode } from "../keys/format.ts";
import { hashKey } from "../keys/hash.ts";
import { generateKeyId } from "../keys/ids.ts";

export interface NewKey {
  organizationId: string;
  name: string;
  scopes: readonly string[];
  expiresAt: string | null;
  actor: Actor;
  rotatedFrom?: string | null;
  rateLimit?: RateLimit | null;
  monthlyQuota?: number | null;
  /** Whose meter counts this key (a rotation's predecessor's); absent: its own. */
  meterId?: string | null;
  /** Canonical CIDR blocks (checkAllowlist); null or absent: any address. */
  allowedCidrs?: readonly string[] | null;
  /** Default `live`. */
  mode?: KeyMode;
}

/**
 * A fresh key and the row that stores it: the plaintext is returned once,
 * never stored. `secretVersion` names the KEY_HASH_SECRET that `secret` is.
 */
export async function mintKey(secret: CryptoKey, input: NewKey, now: Date, secretVersion = 1): Promise<{ row: KeyRow; plaintext: string }> {
  const mode = input.mode ?? "live";
  const plaintext = generateKey(mode);
  const creator = actorColumns(input.actor);
  const row: KeyRow = {
    id: generateKeyId(),
    organization_id: input.organizationId,
    name: input.name,
    hash: await hashKey(secret, plaintext),
    display: displayKey(plaintext),
    scopes: JSON.stringify(input.scopes),
    created_at: now.toISOString(),
    created_by: creator.text,
    created_by_user: creator.user,
    expires_at: input.expiresAt,
    revoked_at: null,
    last_used_at: null,
    rotated_from: input.rotatedFrom ?? null,
    rate_limit_limit: input.rateLimit?.limit ?? null,
    rate_limit_period_s: input.rateLimit?.period_s ?? null,
    monthly_quota: input.monthlyQuota ?? null,
    meter_id: input.meterId ?? null,
    secret_version: secretVersion,
    allowed_cidrs: input.allowedCidrs ? JSON.stringify(input.allowedCidrs) : null,
    mode,
  };
  return { row, plaintext };
}

import type { KeyRow } from "../storage/records.ts";
import { displayKey, generateKey, type KeyMode } from "./format.ts";
import { hashKey } from "./hash.ts";
import { generateKeyId } from "./ids.ts";

export interface NewKey {
  organizationId: string;
  name: string;
  scopes: readonly string[];
  expiresAt: string | null;
  actor: string;
  rotatedFrom?: string | null;
  /** Default `live`. */
  mode?: KeyMode;
}

/** A fresh key and the row that stores it: the plaintext is returned once, never stored. */
export async function mintKey(secret: CryptoKey, input: NewKey, now: Date): Promise<{ row: KeyRow; plaintext: string }> {
  const mode = input.mode ?? "live";
  const plaintext = generateKey(mode);
  const row: KeyRow = {
    id: generateKeyId(),
    organization_id: input.organizationId,
    name: input.name,
    hash: await hashKey(secret, plaintext),
    display: displayKey(plaintext),
    scopes: JSON.stringify(input.scopes),
    created_at: now.toISOString(),
    created_by: input.actor,
    expires_at: input.expiresAt,
    revoked_at: null,
    last_used_at: null,
    rotated_from: input.rotatedFrom ?? null,
    mode,
  };
  return { row, plaintext };
}

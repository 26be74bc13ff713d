import { hex } from "../crypto/encoding.ts";

/**
 * Only HMAC-SHA-256(KEY_HASH_SECRET, key) is stored (docs/design.md §2): a leaked
 * table or KV dump cannot be replayed, nor brute-forced without the secret.
 */
const encoder = new TextEncoder();

export function importHashKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

export async function hashKey(secretKey: CryptoKey, key: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.sign("HMAC", secretKey, encoder.encode(key))));
}

/**
 * Only HMAC-SHA-256(KEY_HASH_SECRET, key) is stored (docs/design.md §2): a leaked
 * table or KV dump cannot be replayed, nor brute-forced without the secret.
 */
const encoder = new TextEncoder();

export function importHashKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export async function hashKey(secretKey: CryptoKey, key: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", secretKey, encoder.encode(key)));
  let hex = "";
  for (const b of mac) hex += HEX[b];
  return hex;
}

/** Constant-time equality for two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

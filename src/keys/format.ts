import { encodeBase64Url, decodeBase64Url } from "./base64url.ts";
import { crc32 } from "./crc32.ts";

/**
 * Key format (DESIGN §2): `pk_live_` + 48 base64url characters encoding 36
 * bytes, 32 random then the big-endian CRC-32 of those 32. The checksum lets
 * the gateway refuse typos and random guesses without touching storage.
 */
export const KEY_PREFIX = "pk_live_";
const RANDOM_BYTES = 32;
const ENCODED_LENGTH = 48;

/** For secret scanners and docs; `parseKey` is the authority. */
export const KEY_PATTERN = /^pk_live_[A-Za-z0-9_-]{48}$/;
export const KEY_PATTERN_SOURCE = "pk_live_[A-Za-z0-9_-]{48}";

export function generateKey(): string {
  const bytes = new Uint8Array(RANDOM_BYTES + 4);
  crypto.getRandomValues(bytes.subarray(0, RANDOM_BYTES));
  new DataView(bytes.buffer).setUint32(RANDOM_BYTES, crc32(bytes.subarray(0, RANDOM_BYTES)), false);
  return KEY_PREFIX + encodeBase64Url(bytes);
}

/** True when prefix, length, alphabet and checksum are all right. */
export function isWellFormedKey(key: string): boolean {
  if (key.length !== KEY_PREFIX.length + ENCODED_LENGTH || !key.startsWith(KEY_PREFIX)) return false;
  const bytes = decodeBase64Url(key.slice(KEY_PREFIX.length));
  if (!bytes) return false;
  const view = new DataView(bytes.buffer);
  return view.getUint32(RANDOM_BYTES, false) === crc32(bytes.subarray(0, RANDOM_BYTES));
}

/** `pk_live_abcd…wxyz`: enough to recognise a key, useless to an attacker. */
export function displayKey(key: string): string {
  const body = key.slice(KEY_PREFIX.length);
  return `${KEY_PREFIX}${body.slice(0, 4)}…${body.slice(-4)}`;
}

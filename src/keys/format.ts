import { decodeBase64Url, encodeBase64Url } from "../crypto/encoding.ts";
import { crc32 } from "./crc32.ts";

/**
 * Key format (docs/design.md §2): `pk_live_` (or `pk_test_` for a test-mode key) + 48
 * base64url characters encoding 36 bytes, 32 random then the big-endian
 * CRC-32 of those 32. The checksum lets the gateway refuse typos and random
 * guesses without touching storage. The prefix is part of what is hashed, so
 * a key's mode cannot be changed by editing it.
 */
export const KEY_MODES = ["live", "test"] as const;
export type KeyMode = (typeof KEY_MODES)[number];

export const KEY_PREFIX_OF: Readonly<Record<KeyMode, string>> = { live: "pk_live_", test: "pk_test_" };
/** The live prefix: what every key had before test mode. */
export const KEY_PREFIX = KEY_PREFIX_OF.live;
const PREFIX_LENGTH = 8;
const RANDOM_BYTES = 32;
const ENCODED_LENGTH = 48;

/** For secret scanners and docs; `isWellFormedKey` is the authority. */
export const KEY_PATTERN = /^pk_(live|test)_[A-Za-z0-9_-]{48}$/;
export const KEY_PATTERN_SOURCE = "pk_(live|test)_[A-Za-z0-9_-]{48}";

export function generateKey(mode: KeyMode = "live"): string {
  const bytes = new Uint8Array(RANDOM_BYTES + 4);
  crypto.getRandomValues(bytes.subarray(0, RANDOM_BYTES));
  new DataView(bytes.buffer).setUint32(RANDOM_BYTES, crc32(bytes.subarray(0, RANDOM_BYTES)), false);
  return KEY_PREFIX_OF[mode] + encodeBase64Url(bytes);
}

/** The mode a key's prefix names, or null for any other prefix. */
export function keyModeOf(key: string): KeyMode | null {
  if (key.startsWith(KEY_PREFIX_OF.live)) return "live";
  if (key.startsWith(KEY_PREFIX_OF.test)) return "test";
  return null;
}

/** True when prefix, length, alphabet and checksum are all right. */
export function isWellFormedKey(key: string): boolean {
  if (key.length !== PREFIX_LENGTH + ENCODED_LENGTH || keyModeOf(key) === null) return false;
  const bytes = decodeBase64Url(key.slice(PREFIX_LENGTH));
  if (!bytes) return false;
  const view = new DataView(bytes.buffer);
  return view.getUint32(RANDOM_BYTES, false) === crc32(bytes.subarray(0, RANDOM_BYTES));
}

/** `pk_live_abcd…wxyz` (or `pk_test_…`): enough to recognise a key, useless to an attacker. */
export function displayKey(key: string): string {
  const body = key.slice(PREFIX_LENGTH);
  return `${key.slice(0, PREFIX_LENGTH)}${body.slice(0, 4)}…${body.slice(-4)}`;
}

/**
 * Walks a request-target part (path or query) as the bytes an origin would
 * decode: raw ASCII characters and `%XX` escapes, checking that escaped bytes
 * form valid UTF-8 (no overlong forms such as `%c0%ae`, no surrogates) and
 * watching for an API key in the decoded stream. One pass, no allocation.
 */

/** What a scan found wrong, if anything; the caller maps it to a message. */
export type EscapeProblem = "malformed_escape" | "invalid_utf8";

/** Both key prefixes (keys/format.ts), live and test. */
const KEY_PREFIXES = ["pk_live_", "pk_test_"] as const;

/** Hex digit value, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The byte `%XX` at `i` encodes, or -1 when it is not two hex digits. */
export function escapedByte(s: string, i: number): number {
  if (i + 2 >= s.length) return -1;
  const hi = hexValue(s.charCodeAt(i + 1));
  const lo = hexValue(s.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/**
 * UTF-8 decoding state for escaped bytes (RFC 3629 table 3-7): how many
 * continuation bytes are still due, and the range the next one must fall in.
 */
export class Utf8State {
  pending = 0;
  #lo = 0x80;
  #hi = 0xbf;

  /** Feeds one decoded byte ≥ 0x80; false when the sequence is not valid UTF-8. */
  push(b: number): boolean {
    if (this.pending > 0) {
      if (b < this.#lo || b > this.#hi) return false;
      this.pending--;
      this.#lo = 0x80;
      this.#hi = 0xbf;
      return true;
    }
    if (b >= 0xc2 && b <= 0xdf) return this.#lead(1, 0x80, 0xbf);
    if (b === 0xe0) return this.#lead(2, 0xa0, 0xbf);
    if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return this.#lead(2, 0x80, 0xbf);
    if (b === 0xed) return this.#lead(2, 0x80, 0x9f); // no UTF-16 surrogates
    if (b === 0xf0) return this.#lead(3, 0x90, 0xbf);
    if (b >= 0xf1 && b <= 0xf3) return this.#lead(3, 0x80, 0xbf);
    if (b === 0xf4) return this.#lead(3, 0x80, 0x8f);
    return false; // 0x80–0xC1 (stray continuation, overlong lead) and 0xF5–0xFF
  }

  #lead(count: number, lo: number, hi: number): true {
    this.pending = count;
    this.#lo = lo;
    this.#hi = hi;
    return true;
  }
}

/**
 * Finds `pk_live_` or `pk_test_` in a decoded byte stream fed one byte at a
 * time, one match counter per prefix. Neither prefix has a border (no proper
 * prefix that is also a suffix), so a mismatch only ever restarts at its
 * first character.
 */
export class KeyPrefixWatch {
  #live = 0;
  #test = 0;
  found = false;

  push(b: number): void {
    this.#live = step(KEY_PREFIXES[0], this.#live, b);
    this.#test = step(KEY_PREFIXES[1], this.#test, b);
    if (this.#live === KEY_PREFIXES[0].length || this.#test === KEY_PREFIXES[1].length) this.found = true;
  }
}

function step(prefix: string, matched: number, b: number): number {
  if (matched < prefix.length && b === prefix.charCodeAt(matched)) return matched + 1;
  return b === prefix.charCodeAt(0) ? 1 : 0;
}

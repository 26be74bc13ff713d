import { IPV4, ipv6Hextets } from "./client-ip.ts";

/**
 * Per-key IP allowlists: CIDR blocks parsed once into 32-bit words and masks,
 * so a request costs a few integer comparisons. IPv4 and IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`) are one family: a mapped client matches IPv4 blocks, and
 * a mapped block (`::ffff:10.0.0.0/104`) is stored as the IPv4 block it means.
 */
export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** One word for IPv4, four for IPv6, host bits zero. */
  words: number[];
  prefix: number;
  /** The one spelling stored and shown: dotted IPv4, RFC 5952 IPv6, always with a prefix. */
  canonical: string;
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; reason: string };

/** Longer than any IPv6 literal with an embedded IPv4 address and a prefix. */
const MAX_CIDR_LENGTH = 49;
const PREFIX = /^(0|[1-9]\d{0,2})$/;
const MAX_PREFIX: Record<Family, number> = { 4: 32, 6: 128 };

interface Address {
  family: Family;
  words: number[];
}

function v4Word(text: string): number {
  return text.split(".").reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}

function wordsOfHextets(h: number[]): number[] {
  return [0, 2, 4, 6].map((i) => ((h[i]! << 16) | h[i + 1]!) >>> 0);
}

/** An IP literal as words; IPv4-mapped IPv6 folds to IPv4. Null when not a literal. */
export function parseAddress(text: string): Address | null {
  if (IPV4.test(text)) return { family: 4, words: [v4Word(text)] };
  if (!text.includes(":")) return null;
  const hextets = ipv6Hextets(text);
  if (!hextets) return null;
  const words = wordsOfHextets(hextets);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return { family: 4, words: [words[3]!] };
  return { family: 6, words };
}

/** Mask word `i` of a prefix, e.g. prefix 40 → [0xffffffff, 0xff000000, 0, 0]. */
function maskWord(prefix: number, i: number): number {
  const bits = Math.max(0, Math.min(32, prefix - 32 * i));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function applyMask(words: number[], prefix: number): number[] {
  return words.map((w, i) => (w & maskWord(prefix, i)) >>> 0);
}

function v4Text(word: number): string {
  return [24, 16, 8, 0].map((s) => (word >>> s) & 255).join(".");
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥ 2) of zero hextets as `::`. */
function v6Text(words: number[]): string {
  const h = words.flatMap((w) => [w >>> 16, w & 0xffff]);
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    if (h[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && h[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (best.at < 0) return hex(h);
  return `${hex(h.slice(0, best.at))}::${hex(h.slice(best.at + best.len))}`;
}

function canonical(family: Family, words: number[], prefix: number): string {
  return `${family === 4 ? v4Text(words[0]!) : v6Text(words)}/${prefix}`;
}

/**
 * One allowlist entry. A bare address means that one host (/32 or /128).
 * Refused rather than guessed: host bits set (the intended block is named in
 * the reason), IPv4 octets with leading zeros (octal in some parsers), zone
 * ids (meaningless for a remote client), prefixes out of range.
 */
export function parseCidr(input: string): CidrParse {
  if (input.length > MAX_CIDR_LENGTH) return { ok: false, reason: "is too long to be a CIDR block" };
  if (input.includes("%")) return { ok: false, reason: "must not have a zone id (%…)" };
  const slash = input.indexOf("/");
  const addrText = slash < 0 ? input : input.slice(0, slash);
  const prefixText = slash < 0 ? null : input.slice(slash + 1);
  if (/(^|\.)0\d/.test(addrText) && !addrText.includes(":")) {
    return { ok: false, reason: "IPv4 octets must not have leading zeros" };
  }
  const addr = parseAddress(addrText);
  if (!addr) return { ok: false, reason: 'must be an IPv4 or IPv6 CIDR block, e.g. "203.0.113.0/24" or "2001:db8::/32"' };

  const mapped = addr.family === 4 && addrText.includes(":");
  const statedMax = mapped ? 128 : MAX_PREFIX[addr.family];
  let prefix = statedMax;
  if (prefixText !== null) {
    if (!PREFIX.test(prefixText) || Number(prefixText) > statedMax) {
      return { ok: false, reason: `prefix must be a whole number from 0 to ${statedMax}` };
    }
    prefix = Number(prefixText);
  }
  if (mapped && prefix < 96) return { ok: false, reason: "an IPv4-mapped block (::ffff:…) needs a prefix of at least 96" };
  if (mapped) prefix -= 96;

  const masked = applyMask(addr.words, prefix);
  const cidr = { family: addr.family, words: masked, prefix, canonical: canonical(addr.family, masked, prefix) };
  if (masked.some((w, i) => w !== addr.words[i])) {
    return { ok: false, reason: `has host bits set; the block is ${cidr.canonical}` };
  }
  return { ok: true, cidr };
}

/** Blocks of one family as flat words: [net…, mask…] per block. */
export interface CompiledAllowlist {
  v4: Uint32Array;
  v6: Uint32Array;
}

/** Canonical entries (as stored) → the compact form kept beside the cached key record. */
export function compileAllowlist(entries: readonly string[]): CompiledAllowlist {
  const v4: number[] = [];
  const v6: number[] = [];
  for (const entry of entries) {
    const parsed = parseCidr(entry);
    if (!parsed.ok) throw new Error("stored allowlist entry is not a CIDR block");
    const { family, words, prefix } = parsed.cidr;
    const masks = words.map((_, i) => maskWord(prefix, i));
    (family === 4 ? v4 : v6).push(...words, ...masks);
  }
  return { v4: Uint32Array.from(v4), v6: Uint32Array.from(v6) };
}

/** Does the client address (as `CF-Connecting-IP` gave it) fall in any block? Unknown addresses never do. */
export function allowlistAllows(list: CompiledAllowlist, clientIp: string): boolean {
  const addr = parseAddress(clientIp);
  if (!addr) return false;
  const table = addr.family === 4 ? list.v4 : list.v6;
  const n = addr.words.length;
  const stride = 2 * n;
  for (let at = 0; at < table.length; at += stride) {
    let hit = true;
    for (let i = 0; i < n; i++) {
      if ((addr.words[i]! & table[at + n + i]!) >>> 0 !== table[at + i]) {
        hit = false;
        break;
      }
    }
    if (hit) return true;
  }
  return false;
}

/** How many blocks one key may list: enough for any office or egress fleet, small enough to scan per request. */
export const MAX_ALLOWED_CIDRS = 100;

export interface AllowlistIssue {
  index: number;
  message: string;
}

/**
 * A whole allowlist as given by a user: each entry a block, no two the same
 * block (compared canonically, so `10.0.0.0/8` and `::ffff:10.0.0.0/104`
 * collide), between 1 and MAX_ALLOWED_CIDRS entries. `null` means no allowlist.
 */
export function checkAllowlist(entries: readonly string[]): { ok: true; canonical: string[] } | { ok: false; issues: AllowlistIssue[] } {
  const issues: AllowlistIssue[] = [];
  if (entries.length === 0) issues.push({ index: -1, message: "must list at least one block; omit it (or null) to allow every address" });
  if (entries.length > MAX_ALLOWED_CIDRS) issues.push({ index: -1, message: `must list at most ${MAX_ALLOWED_CIDRS} blocks` });
  if (issues.length > 0) return { ok: false, issues };
  const seen = new Map<string, number>();
  const canonical: string[] = [];
  entries.forEach((entry, index) => {
    const parsed = parseCidr(entry);
    if (!parsed.ok) {
      issues.push({ index, message: `"${entry.slice(0, MAX_CIDR_LENGTH)}" ${parsed.reason}` });
      return;
    }
    const first = seen.get(parsed.cidr.canonical);
    if (first !== undefined) {
      issues.push({ index, message: `repeats entry ${first} (${parsed.cidr.canonical})` });
      return;
    }
    seen.set(parsed.cidr.canonical, index);
    canonical.push(parsed.cidr.canonical);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, canonical };
}

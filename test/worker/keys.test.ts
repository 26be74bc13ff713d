import { describe, expect, it } from "vitest";
import { digestsEqual } from "../../src/crypto/constant-time.ts";
import { decodeBase64Url, encodeBase64Url } from "../../src/crypto/encoding.ts";
import { crc32 } from "../../src/keys/crc32.ts";
import { displayKey, generateKey, isWellFormedKey, KEY_PATTERN, KEY_PATTERN_SOURCE, keyModeOf } from "../../src/keys/format.ts";
import { hashKey, importHashKey } from "../../src/keys/hash.ts";
import { generateKeyId, KEY_ID_PATTERN } from "../../src/keys/ids.ts";

describe("key format", () => {
  it("is pk_live_ + 48 base64url characters and passes its own checksum", () => {
    for (let i = 0; i < 200; i++) {
      const key = generateKey();
      expect(key).toMatch(KEY_PATTERN);
      expect(isWellFormedKey(key)).toBe(true);
    }
  });

  it("ends with the big-endian CRC-32 (zlib) of the 32 random bytes", () => {
    const bytes = decodeBase64Url(generateKey().slice(8))!;
    expect(bytes.length).toBe(36);
    expect(new DataView(bytes.buffer).getUint32(32, false)).toBe(crc32(bytes.subarray(0, 32)));
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926); // the standard check value
  });

  it("rejects a wrong prefix, length, alphabet or checksum without any lookup", () => {
    const key = generateKey();
    const flip = (k: string, i: number) => k.slice(0, i) + (k[i] === "A" ? "B" : "A") + k.slice(i + 1);
    for (const bad of [
      // pk_test_ is the test-mode prefix (well-formed, but a different key: its hash differs); any other is refused.
      key.replace("pk_live_", "pk_prod_"),
      key.replace("pk_live_", "PK_LIVE_"),
      key.replace("pk_live_", "pk_Test_"),
      key.replace("pk_live_", "sk_live_"),
      key.slice(0, -1),
      `${key}A`,
      `${key.slice(0, 20)}!${key.slice(21)}`,
      flip(key, 10),
      flip(key, key.length - 1),
      "",
      "pk_live_",
      "pk_test_",
      flip(generateKey("test"), 20),
    ]) {
      expect(isWellFormedKey(bad), bad).toBe(false);
    }
  });

  it("test-mode keys: pk_test_ + 48 base64url characters, the same checksum, their own mode", () => {
    for (let i = 0; i < 200; i++) {
      const key = generateKey("test");
      expect(key).toMatch(/^pk_test_[A-Za-z0-9_-]{48}$/);
      expect(key).toMatch(KEY_PATTERN);
      expect(isWellFormedKey(key)).toBe(true);
      expect(keyModeOf(key)).toBe("test");
    }
    const bytes = decodeBase64Url(generateKey("test").slice(8))!;
    expect(new DataView(bytes.buffer).getUint32(32, false)).toBe(crc32(bytes.subarray(0, 32)));
    expect(keyModeOf(generateKey())).toBe("live");
    expect(keyModeOf("pk_prod_x")).toBeNull();
    expect(displayKey(generateKey("test"))).toMatch(/^pk_test_[A-Za-z0-9_-]{4}…[A-Za-z0-9_-]{4}$/);
    // The scanner pattern docs/keys-and-scopes.md gives matches both, and nothing else.
    const scanner = new RegExp(KEY_PATTERN_SOURCE);
    expect(KEY_PATTERN_SOURCE).toBe("pk_(live|test)_[A-Za-z0-9_-]{48}");
    expect(scanner.test(`token=${generateKey("test")};`)).toBe(true);
    expect(scanner.test(`token=${generateKey()};`)).toBe(true);
    expect(scanner.test(`pk_prod_${"A".repeat(48)}`)).toBe(false);
  });

  it("display form shows 4 + 4 characters", () => {
    const key = generateKey();
    expect(displayKey(key)).toBe(`pk_live_${key.slice(8, 12)}…${key.slice(-4)}`);
  });

  it("base64url round-trips and refuses foreign characters", () => {
    const bytes = crypto.getRandomValues(new Uint8Array(36));
    expect(decodeBase64Url(encodeBase64Url(bytes))).toEqual(bytes);
    expect(decodeBase64Url("ab+/")).toBeNull();
    expect(decodeBase64Url("abc")).toBeNull();
  });
});

describe("hashing and ids", () => {
  it("HMAC-SHA-256 with the secret: stable, secret-dependent, hex", async () => {
    const key = generateKey();
    const a = await hashKey(await importHashKey("a".repeat(32)), key);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashKey(await importHashKey("a".repeat(32)), key)).toBe(a);
    expect(await hashKey(await importHashKey("b".repeat(32)), key)).not.toBe(a);
    expect(digestsEqual(a, a)).toBe(true);
    expect(digestsEqual(a, `${a.slice(0, -1)}0`)).toBe(a.endsWith("0"));
  });

  it("public ids are key_ + 20 base62 characters", () => {
    const ids = new Set(Array.from({ length: 500 }, generateKeyId));
    expect(ids.size).toBe(500);
    for (const id of ids) expect(id).toMatch(KEY_ID_PATTERN);
  });
});

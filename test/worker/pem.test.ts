import { describe, expect, it } from "vitest";
import { isP256PublicKeyPem, p1363FromDerBase64 } from "../../src/crypto/pem.ts";
import { derFromP1363, makeScanner } from "../support/scanner-signing.ts";

/** The signature and key forms secret scanners send (src/crypto/pem.ts): strict DER, P-256 SPKI only. */

const b64 = (bytes: number[] | Uint8Array) => btoa(String.fromCharCode(...bytes));

describe("ECDSA signatures in DER", () => {
  it("round-trips r‖s, with and without high bits and leading zeros", () => {
    for (const [r0, s0] of [
      [0x80, 0x01],
      [0x00, 0x7f],
      [0x00, 0x00],
    ] as const) {
      const raw = new Uint8Array(64).map((_, i) => (i % 7) + 1);
      raw[0] = r0;
      raw[32] = s0;
      expect([...p1363FromDerBase64(b64(derFromP1363(raw)))!]).toEqual([...raw]);
    }
  });

  it("refuses trailing bytes, a wrong length, non-minimal integers, negative integers and junk", () => {
    const good = [...derFromP1363(new Uint8Array(64).fill(0x11))];
    expect(p1363FromDerBase64(b64(good))).not.toBeNull();
    const trailing = [...good, 0];
    expect(p1363FromDerBase64(b64(trailing))).toBeNull();
    expect(p1363FromDerBase64(b64([0x30, good[1]! + 1, ...good.slice(2)]))).toBeNull();
    expect(p1363FromDerBase64(b64([0x30, 0x08, 0x02, 0x02, 0x00, 0x01, 0x02, 0x02, 0x00, 0x01]))).toBeNull(); // 0x00 before a low byte
    expect(p1363FromDerBase64(b64([0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]))).toBeNull(); // negative r
    expect(p1363FromDerBase64("not base64!")).toBeNull();
    expect(p1363FromDerBase64("")).toBeNull();
    expect(p1363FromDerBase64("A".repeat(400))).toBeNull();
  });
});

describe("public keys in PEM", () => {
  it("accepts a P-256 SPKI and nothing else", async () => {
    const { pem } = await makeScanner();
    expect(isP256PublicKeyPem(pem)).toBe(true);
    const rsa = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as { publicKey: CryptoKey };
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", rsa.publicKey)) as ArrayBuffer);
    expect(isP256PublicKeyPem(`-----BEGIN PUBLIC KEY-----\n${b64(spki)}\n-----END PUBLIC KEY-----`)).toBe(false);
    expect(isP256PublicKeyPem(pem.replace("PUBLIC KEY", "PRIVATE KEY"))).toBe(false);
    expect(isP256PublicKeyPem("")).toBe(false);
  });
});

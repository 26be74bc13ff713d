/**
 * ECDSA P-256 public keys in PEM, and signatures in DER: the forms secret
 * scanners (GitHub's partner program) publish and send. WebCrypto wants the
 * key's DER bytes and the signature as raw r‖s, so both are converted here.
 */

/**
 * Everything of a P-256 SubjectPublicKeyInfo before the 65-byte uncompressed
 * point: SEQUENCE, AlgorithmIdentifier (id-ecPublicKey, prime256v1), BIT STRING.
 */
const P256_SPKI_PREFIX = [
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
  0x03, 0x42, 0x00, 0x04,
];
const P256_SPKI_LENGTH = 91;
const PEM = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*$/;

function base64Bytes(text: string): Uint8Array | null {
  const clean = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) return null;
  try {
    return Uint8Array.from(atob(clean), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** The SPKI bytes of a P-256 public key in PEM, or null for anything else. */
export function p256SpkiFromPem(pem: string): Uint8Array | null {
  const m = PEM.exec(pem.trim());
  const der = m ? base64Bytes(m[1]!) : null;
  if (!der || der.length !== P256_SPKI_LENGTH) return null;
  return P256_SPKI_PREFIX.every((b, i) => der[i] === b) ? der : null;
}

export const isP256PublicKeyPem = (pem: string) => p256SpkiFromPem(pem) !== null;

/** One DER INTEGER at `at` as a 32-byte big-endian number, or null. */
function readInteger(der: Uint8Array, at: number): { value: Uint8Array; next: number } | null {
  if (der[at] !== 0x02) return null;
  const len = der[at + 1];
  if (len === undefined || len < 1 || len > 33 || at + 2 + len > der.length) return null;
  let bytes = der.subarray(at + 2, at + 2 + len);
  // A leading zero only where the next byte has its high bit set (DER minimal encoding).
  if (bytes.length > 1 && bytes[0] === 0 && (bytes[1]! & 0x80) === 0) return null;
  if ((bytes[0]! & 0x80) !== 0) return null; // negative
  if (bytes[0] === 0 && bytes.length > 1) bytes = bytes.subarray(1);
  if (bytes.length > 32) return null;
  const value = new Uint8Array(32);
  value.set(bytes, 32 - bytes.length);
  return { value, next: at + 2 + len };
}

/** A base64 DER ECDSA-Sig-Value (SEQUENCE { r INTEGER, s INTEGER }) as WebCrypto's raw r‖s, or null. */
export function p1363FromDerBase64(signature: string): Uint8Array | null {
  if (signature.length > 200) return null;
  const der = base64Bytes(signature);
  if (!der || der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const r = readInteger(der, 2);
  const s = r && readInteger(der, r.next);
  if (!r || !s || s.next !== der.length) return null;
  const raw = new Uint8Array(64);
  raw.set(r.value, 0);
  raw.set(s.value, 32);
  return raw;
}

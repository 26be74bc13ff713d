/**
 * A secret scanner's side of a leaked-key report, for tests: an ECDSA P-256
 * key pair made in the test, its public key as PEM (what the gateway is
 * configured with), and signatures as base64 DER (what GitHub sends).
 * Plain WebCrypto, so it runs in workerd and in Node alike.
 */
export interface Scanner {
  keyId: string;
  pem: string;
  sign(body: string | Uint8Array): Promise<string>;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** One DER INTEGER from a 32-byte big-endian number. */
function derInteger(n: Uint8Array): number[] {
  let i = 0;
  while (i < n.length - 1 && n[i] === 0) i++;
  const bytes = [...n.subarray(i)];
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return [0x02, bytes.length, ...bytes];
}

export function derFromP1363(raw: Uint8Array): Uint8Array {
  const body = [...derInteger(raw.subarray(0, 32)), ...derInteger(raw.subarray(32))];
  return Uint8Array.from([0x30, body.length, ...body]);
}

export async function makeScanner(keyId = "test-scanner-key"): Promise<Scanner> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as {
    publicKey: CryptoKey;
    privateKey: CryptoKey;
  };
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  const pem = `-----BEGIN PUBLIC KEY-----\n${b64(spki).replace(/.{64}/g, "$&\n")}\n-----END PUBLIC KEY-----\n`;
  return {
    keyId,
    pem,
    async sign(body) {
      const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, bytes));
      return b64(derFromP1363(raw));
    },
  };
}

/** SECRET_SCANNING_PUBLIC_KEYS for these scanners. */
export const publicKeysConfig = (...scanners: Scanner[]) => JSON.stringify(Object.fromEntries(scanners.map((s) => [s.keyId, s.pem])));

import { EncryptJWT, jwtDecrypt, type JWTPayload } from "jose";

/**
 * The session and sign-in cookies' content: a JWT encrypted and authenticated
 * (JWE, dir + A256GCM) under a key derived from SESSION_SECRET, one key per
 * purpose so a sign-in cookie can never be read as a session. The browser
 * holds it but can neither read nor change it; anything that fails to decrypt,
 * has expired or was made under another secret is simply no cookie.
 */
export type Purpose = "session" | "signin";

export class Sealer {
  private readonly keys = new Map<Purpose, Promise<Uint8Array>>();

  constructor(private readonly secret: string) {}

  private key(purpose: Purpose): Promise<Uint8Array> {
    let key = this.keys.get(purpose);
    if (!key) this.keys.set(purpose, (key = deriveKey(this.secret, purpose)));
    return key;
  }

  async seal(purpose: Purpose, payload: JWTPayload, expiresAt: number): Promise<string> {
    return new EncryptJWT(payload)
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", typ: purpose })
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .encrypt(await this.key(purpose));
  }

  /** The payload, or null for anything not sealed by this secret for this purpose, or expired. */
  async open(purpose: Purpose, token: string, now: number): Promise<JWTPayload | null> {
    try {
      const { payload } = await jwtDecrypt(token, await this.key(purpose), {
        keyManagementAlgorithms: ["dir"],
        contentEncryptionAlgorithms: ["A256GCM"],
        typ: purpose,
        currentDate: new Date(now),
      });
      return payload;
    } catch {
      return null;
    }
  }
}

/** HKDF-SHA-256 of the secret, with the purpose as info: independent keys from one setting. */
async function deriveKey(secret: string, purpose: Purpose): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(`ats-edge-gateway ${purpose} cookie v1`) },
    material,
    256,
  );
  return new Uint8Array(bits);
}

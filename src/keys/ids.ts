const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Public key id: `key_` + 20 base62 characters (~119 bits), safe to log and show. */
export const KEY_ID_PATTERN = /^key_[0-9A-Za-z]{20}$/;

export function generateKeyId(): string {
  // 248 is the largest multiple of 62 below 256: rejecting the rest keeps the alphabet unbiased.
  let id = "key_";
  while (id.length < 24) {
    for (const b of crypto.getRandomValues(new Uint8Array(32))) {
      if (b < 248 && id.length < 24) id += BASE62[b % 62];
    }
  }
  return id;
}

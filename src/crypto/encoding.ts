/**
 * The byte ↔ text encodings the gateway uses, in one place: unpadded base64url
 * (keys, the identity token, JWK thumbprints, page cursors) and lower-case hex
 * (key hashes, digests). Encoding goes through the runtime's native btoa,
 * which is far cheaper than a byte loop and runs on every proxied request
 * (docs/performance.md).
 */
const utf8 = new TextEncoder();
const ASCII = /^[\x00-\x7f]*$/;

function binaryString(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

const toUrlAlphabet = (base64: string): string => base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Unpadded base64url of bytes. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return toUrlAlphabet(btoa(binaryString(bytes)));
}

/** UTF-8, then unpadded base64url; ASCII text (the usual claims) skips the encoder. */
export function base64UrlOfText(text: string): string {
  return toUrlAlphabet(btoa(ASCII.test(text) ? text : binaryString(utf8.encode(text))));
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUE_OF = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE_OF[ALPHABET.charCodeAt(i)] = i;

/** Decodes a length-multiple-of-4 base64url string, or returns null on any other length or character. */
export function decodeBase64Url(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const out = new Uint8Array((text.length / 4) * 3);
  for (let i = 0, o = 0; i < text.length; i += 4, o += 3) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j);
      const v = code < 128 ? VALUE_OF[code]! : -1;
      if (v < 0) return null;
      n = (n << 6) | v;
    }
    out[o] = (n >> 16) & 255;
    out[o + 1] = (n >> 8) & 255;
    out[o + 2] = n & 255;
  }
  return out;
}

/** The UTF-8 text of a base64url string (padded or not); throws when it is not base64url. */
export function textOfBase64Url(text: string): string {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

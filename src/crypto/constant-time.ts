/**
 * Equality of two secrets' digests (hex strings of equal length) in time that
 * does not depend on where they differ: wherever a stored hash meets one
 * computed from a request.
 */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** One JSON object per line (DESIGN §10); callers never pass key material or hashes. */
export function logLine(fields: Record<string, unknown>): void {
  console.log(JSON.stringify(fields));
}

/** An error for a log line: its type and message, never a stack (which may hold request data). */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : "unknown error";
}

/** One JSON object per line (DESIGN §10); callers never pass key material or hashes. */
export function logLine(fields: Record<string, unknown>): void {
  console.log(JSON.stringify(fields));
}

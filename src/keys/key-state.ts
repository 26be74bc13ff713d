export type KeyState = "active" | "expired" | "revoked";

/**
 * Checked against the clock on every request, whatever tier answered
 * (docs/design.md §7). A future `revoked_at` is a rotation grace period still running.
 */
export function keyState(record: { expires_at: string | null; revoked_at: string | null }, nowMs: number): KeyState {
  if (record.revoked_at !== null && Date.parse(record.revoked_at) <= nowMs) return "revoked";
  if (record.expires_at !== null && Date.parse(record.expires_at) <= nowMs) return "expired";
  return "active";
}

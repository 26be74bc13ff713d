import type { FieldProblem } from "./field-errors.ts";

/**
 * The API's validation errors (src/api/validation.ts: "path: message" parts
 * joined by "; ") mapped back to the "Generate new key" dialog's fields, in
 * the words of their labels. Array indexes of allowed_cidrs are 0-based
 * positions in the body: `lineOf` turns them into the textarea's 1-based
 * lines (blank lines are not sent).
 */
interface FieldOfPath {
  field: string;
  label: string;
}

const FIELDS: Record<string, FieldOfPath> = {
  name: { field: "generate-name", label: "Name" },
  scopes: { field: "scope-picker", label: "Scopes" },
  expires_at: { field: "expiry-group", label: "Expiry" },
  mode: { field: "mode-group", label: "Mode" },
  rate_limit: { field: "rate-limit", label: "Rate limit" },
  monthly_quota: { field: "monthly-quota", label: "Monthly quota" },
  allowed_cidrs: { field: "allowed-cidrs", label: "IP allowlist" },
};

/** "rate_limit.limit must be …" → "must be …": the label says which field. */
const withoutPath = (message: string): string => message.replace(/^[a-z_]+(\.[a-z_0-9]+)* (?=must|is|should)/, "");

/** The problems the dialog can place; null when some part names no field (the message is shown whole). */
export function apiProblems(message: string, lineOf: (index: number) => number): FieldProblem[] | null {
  const problems: FieldProblem[] = [];
  // A message may hold "; " itself ("… has host bits set; the block is …"): parts start with a path.
  for (const part of message.split(/; (?=[a-z_]+(?:\.[A-Za-z0-9_]+)*: )/)) {
    const m = /^([a-z_]+)((?:\.[A-Za-z0-9_]+)*): (.+)$/s.exec(part);
    const target = m ? FIELDS[m[1]!] : undefined;
    if (!m || !target) return null;
    const index = /^\.(\d+)/.exec(m[2]!)?.[1];
    const where = m[1] === "allowed_cidrs" && index !== undefined ? `${target.label}, line ${lineOf(Number(index))}` : target.label;
    problems.push({ field: target.field, message: `${where}: ${withoutPath(m[3]!)}` });
  }
  return problems.length > 0 ? problems : null;
}

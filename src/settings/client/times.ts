import { el } from "./dom.ts";

/**
 * Times as the page states them: relative in lists ("2 hours ago"), exact in
 * UTC on hover and in the detail view ("2026-12-04 14:18 UTC"). UTC is the
 * zone the API speaks (timestamps, usage buckets, monthly quotas), so the page
 * says it rather than converting silently into the reader's zone.
 */
const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

const relativeFormat = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "2 hours ago", "in 3 days", "just now". */
export function relative(iso: string, nowMs = Date.now()): string {
  const seconds = (Date.parse(iso) - nowMs) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return seconds > 0 ? "in under a minute" : "just now";
}

/** "2026-12-04 14:18 UTC": unambiguous in every locale and zone. */
export function exactUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A relative time with the exact UTC time in its title, or `never` when absent. */
export function when(iso: string | null, never: string): Node {
  if (!iso) return document.createTextNode(never);
  return el("time", { datetime: iso, title: exactUtc(iso), text: relative(iso) });
}

/** Both at once, for the detail view: "2 hours ago (2026-12-04 14:18 UTC)". */
export function whenExact(iso: string | null, never: string): Node {
  if (!iso) return document.createTextNode(never);
  return el("time", { datetime: iso, title: exactUtc(iso) }, [
    `${relative(iso)} `,
    el("span", { className: "exact", text: `(${exactUtc(iso)})` }),
  ]);
}

const DAY_MS = 86400 * 1000;
/** Expiring within this: the page warns. */
export const EXPIRY_WARNING_MS = 7 * DAY_MS;

export const expiresSoon = (iso: string | null, nowMs = Date.now()): boolean =>
  iso !== null && Date.parse(iso) > nowMs && Date.parse(iso) - nowMs <= EXPIRY_WARNING_MS;

/** The reader's own zone, named where the page uses it (the expiry date picker). */
export const readerZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";

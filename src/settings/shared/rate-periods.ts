/**
 * The rate limit's period as the "Generate new key" dialog offers it: named
 * units rather than a number of seconds (src/limits/policy.ts allows 1 s to a
 * day; these are the ones people mean). Shared by the page and its client.
 */
export const RATE_PERIODS = [
  { seconds: 1, label: "second" },
  { seconds: 60, label: "minute" },
  { seconds: 3600, label: "hour" },
  { seconds: 86400, label: "day" },
] as const;

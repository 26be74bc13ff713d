/**
 * The client address, from `CF-Connecting-IP` only: Cloudflare's edge sets it
 * and replaces any client value, whereas `X-Forwarded-For` is whatever the
 * client wrote. Outside Cloudflare (local development) the header is
 * client-controlled, which tests use to play several clients.
 */
export interface ClientAddress {
  /** The address as sent, when it is a valid IPv4 or IPv6 literal; else "unknown". */
  ip: string;
  /** What failed authentications are counted under (docs/design.md §7). */
  limiterKey: string;
}

export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9A-Fa-f]{1,4}$/;
/** Longest IPv6 literal with an embedded IPv4 address (45 characters). */
const MAX_IP_LENGTH = 45;

/** The eight hextets of an IPv6 literal (IPv4-mapped tails folded in), or null. */
export function ipv6Hextets(s: string): number[] | null {
  let text = s;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  const v4 = s.slice(lastColon + 1);
  if (v4.includes(".")) {
    if (!IPV4.test(v4)) return null;
    const [a, b, c, d] = v4.split(".").map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    // Keep a `::` that ends right before the IPv4 part ("::1.2.3.4"), drop a lone separator ("::ffff:1.2.3.4").
    text = s[lastColon - 1] === ":" ? s.slice(0, lastColon + 1) : s.slice(0, lastColon);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (![...head, ...rest].every((h) => HEXTET.test(h))) return null;
  const want = 8 - tail.length;
  const given = head.length + rest.length;
  if (halves.length === 2 ? given >= want : given !== want) return null;
  const zeros = new Array<string>(want - given).fill("0");
  return [...head, ...zeros, ...rest].map((h) => parseInt(h, 16)).concat(tail);
}

/**
 * IPv4 addresses count one by one; IPv6 clients by their /64, the smallest
 * block an ISP hands out, so rotating through one's own subnet gains nothing.
 */
export function clientAddress(header: string | null): ClientAddress {
  if (header === null || header.length > MAX_IP_LENGTH) return { ip: "unknown", limiterKey: "unknown" };
  if (IPV4.test(header)) return { ip: header, limiterKey: header };
  if (!header.includes(":")) return { ip: "unknown", limiterKey: "unknown" };
  const hextets = ipv6Hextets(header);
  if (!hextets) return { ip: "unknown", limiterKey: "unknown" };
  const mapped = hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
  if (mapped) {
    const v4 = `${hextets[6]! >> 8}.${hextets[6]! & 255}.${hextets[7]! >> 8}.${hextets[7]! & 255}`;
    return { ip: header, limiterKey: v4 };
  }
  return {
    ip: header,
    limiterKey: `${hextets
      .slice(0, 4)
      .map((h) => h.toString(16))
      .join(":")}::/64`,
  };
}

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { NOT_FROM_HERE } from "../../src/auth/allowlist.ts";
import { allowlistAllows, checkAllowlist, compileAllowlist, MAX_ALLOWED_CIDRS, parseCidr } from "../../src/auth/cidr.ts";
import type { KeyObject } from "../../src/management/object.ts";
import { call, createKey, keysApi, originReceived, unique } from "./helpers.ts";

/** Issue 10: per-key IP allowlists, parsed at key load, checked after the key and before its scopes. */
type KeyObj = KeyObject & { key?: string };

const api = keysApi;

async function admin() {
  const org = unique("org");
  return { ...(await createKey(["*"], { org })), org };
}

async function createWith(adminKey: string, allowed: unknown) {
  const { res, body } = await api(adminKey, "POST", "", {
    name: "fenced",
    scopes: ["candidates:read", "api_keys:read"],
    allowed_cidrs: allowed,
  });
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.data as KeyObj & { key: string };
}

describe("CIDR parsing", () => {
  const CANONICAL: [string, string][] = [
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["203.0.113.7", "203.0.113.7/32"],
    ["203.0.113.7/32", "203.0.113.7/32"],
    ["::/0", "::/0"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001/128", "2001:db8::1/128"],
    ["2001:db8:0:0:1:0:0:0/80", "2001:db8:0:0:1::/80"],
    ["2001:db8:1:2::/64", "2001:db8:1:2::/64"],
    ["::1", "::1/128"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:192.0.2.1", "192.0.2.1/32"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
  ];
  it.each(CANONICAL)("%s is stored as %s", (input, canonical) => {
    const parsed = parseCidr(input);
    expect(parsed.ok && parsed.cidr.canonical).toBe(canonical);
  });

  const REFUSED: [string, string, RegExp][] = [
    ["host bits set (IPv4), naming the block", "10.1.2.3/8", /host bits set; the block is 10\.0\.0\.0\/8/],
    ["host bits set (IPv6)", "2001:db8::1/64", /host bits set; the block is 2001:db8::\/64/],
    ["a leading zero in an octet", "010.0.0.0/8", /leading zeros/],
    ["a zone id", "fe80::1%eth0/64", /zone id/],
    ["an IPv4 prefix over 32", "10.0.0.0/33", /0 to 32/],
    ["an IPv6 prefix over 128", "::/129", /0 to 128/],
    ["a prefix with a leading zero", "10.0.0.0/08", /prefix/],
    ["a negative prefix", "10.0.0.0/-1", /prefix/],
    ["an empty prefix", "10.0.0.0/", /prefix/],
    ["a mapped block under /96", "::ffff:0:0/95", /at least 96/],
    ["a host name", "example.com/24", /IPv4 or IPv6 CIDR/],
    ["an octet over 255", "256.0.0.0/8", /IPv4 or IPv6 CIDR/],
    ["three octets", "10.0.0/24", /IPv4 or IPv6 CIDR/],
    ["two ::", "2001::db8::/32", /IPv4 or IPv6 CIDR/],
    ["an empty string", "", /IPv4 or IPv6 CIDR/],
    ["a very long string", "1".repeat(200), /too long/],
  ];
  it.each(REFUSED)("refuses %s", (_, input, reason) => {
    const parsed = parseCidr(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it("matches at the edges of each block, IPv4-mapped clients as IPv4", () => {
    const list = compileAllowlist(["10.0.0.0/8", "203.0.113.7/32", "2001:db8:1:2::/64", "2001:db8::1/128"]);
    const yes = [
      "10.0.0.0",
      "10.255.255.255",
      "203.0.113.7",
      "::ffff:10.1.2.3",
      "::FFFF:203.0.113.7",
      "2001:db8:1:2::",
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:db8::1",
      "2001:0db8:0:0:0:0:0:1",
    ];
    const no = [
      "9.255.255.255",
      "11.0.0.0",
      "203.0.113.6",
      "203.0.113.8",
      "2001:db8:1:3::",
      "2001:db8:1:1:ffff:ffff:ffff:ffff",
      "2001:db8::2",
      "::a00:1",
      "unknown",
      "",
      "fe80::1%eth0",
    ];
    for (const ip of yes) expect(allowlistAllows(list, ip), ip).toBe(true);
    for (const ip of no) expect(allowlistAllows(list, ip), ip).toBe(false);
  });

  it("/0 allows its whole family and only that family", () => {
    const v4 = compileAllowlist(["0.0.0.0/0"]);
    expect(allowlistAllows(v4, "255.255.255.255")).toBe(true);
    expect(allowlistAllows(v4, "::ffff:1.2.3.4")).toBe(true);
    expect(allowlistAllows(v4, "2001:db8::1")).toBe(false);
    const v6 = compileAllowlist(["::/0"]);
    expect(allowlistAllows(v6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).toBe(true);
    expect(allowlistAllows(v6, "1.2.3.4")).toBe(false);
  });

  it("bounds the list and refuses empty lists and duplicates (compared canonically)", () => {
    const many = Array.from({ length: MAX_ALLOWED_CIDRS }, (_, i) => `10.${i}.0.0/16`);
    expect(checkAllowlist(many).ok).toBe(true);
    const tooMany = checkAllowlist([...many, "192.0.2.0/24"]);
    expect(!tooMany.ok && tooMany.issues[0]!.message).toMatch(`at most ${MAX_ALLOWED_CIDRS}`);
    const empty = checkAllowlist([]);
    expect(!empty.ok && empty.issues[0]!.message).toMatch(/at least one/);
    const dup = checkAllowlist(["10.0.0.0/8", "192.0.2.0/24", "::ffff:10.0.0.0/104"]);
    expect(!dup.ok && dup.issues).toEqual([{ index: 2, message: "repeats entry 0 (10.0.0.0/8)" }]);
    const dup6 = checkAllowlist(["2001:DB8::/32", "2001:0db8:0::/32"]);
    expect(!dup6.ok && dup6.issues[0]!.index).toBe(1);
  });
});

describe("a key with an allowlist, through the gateway", () => {
  it("is created with canonical blocks, shown in the key object, and works only from inside them", async () => {
    const { key: adminKey } = await admin();
    const created = await createWith(adminKey, ["198.51.100.0/24", "2001:DB8:a::/48"]);
    expect(created.allowed_cidrs).toEqual(["198.51.100.0/24", "2001:db8:a::/48"]);
    const shown = await api(adminKey, "GET", `/${created.id}`);
    expect((shown.body.data as KeyObj).allowed_cidrs).toEqual(["198.51.100.0/24", "2001:db8:a::/48"]);

    for (const ip of ["198.51.100.0", "198.51.100.255", "::ffff:198.51.100.9", "2001:db8:a::1", "2001:db8:a:ffff:ffff:ffff:ffff:ffff"]) {
      expect((await call("/api/v1/candidates", { key: created.key, ip })).status, ip).toBe(200);
    }
    for (const ip of ["198.51.101.0", "198.51.99.255", "2001:db8:b::", "2001:db8:9:ffff::1", "::ffff:198.51.101.1", "not-an-ip"]) {
      const res = await call("/api/v1/candidates", { key: created.key, ip });
      expect(res.status, ip).toBe(403);
    }
  });

  it("refuses from elsewhere with a 403 envelope naming no address or block, before the scope check, forwarding nothing", async () => {
    const { key: adminKey } = await admin();
    const created = await createWith(adminKey, ["192.0.2.0/28"]);
    const requestId = unique("req");
    // jobs:write is a scope the key lacks: the allowlist answers first.
    const res = await call("/api/v1/jobs", {
      key: created.key,
      ip: "203.0.113.50",
      method: "POST",
      headers: { "x-request-id": requestId },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ success: false, data: null, errors: [{ code: "forbidden", message: NOT_FROM_HERE }] });
    expect(text).not.toContain("203.0.113");
    expect(text).not.toContain("192.0.2");
    expect(res.headers.get("www-authenticate")).toBeNull();
    const get = await call("/api/v1/candidates", { key: created.key, ip: "203.0.113.50", headers: { "x-request-id": requestId } });
    expect(get.status).toBe(403);
    expect(await originReceived(requestId)).toEqual([]);
  });

  it("applies to the management API too, and a key without an allowlist works from anywhere", async () => {
    const { key: adminKey } = await admin();
    const fenced = await createWith(adminKey, ["192.0.2.1"]);
    expect((await api(fenced.key, "GET", "/self", undefined, "192.0.2.1")).res.status).toBe(200);
    expect((await api(fenced.key, "GET", "/self", undefined, "192.0.2.2")).res.status).toBe(403);
    const open = (await api(adminKey, "POST", "", { name: "open", scopes: ["candidates:read"] })).body.data as KeyObj & { key: string };
    expect(open.allowed_cidrs).toBeNull();
    expect((await call("/api/v1/candidates", { key: open.key, ip: "2001:db8::99" })).status).toBe(200);
    expect((await api(adminKey, "POST", "", { name: "null", scopes: ["jobs:read"], allowed_cidrs: null })).res.status).toBe(201);
  });

  it("is enforced whichever tier answered (memory, KV, D1)", async () => {
    const { key, row } = await createKey(["candidates:read"], { allowedCidrs: ["192.0.2.0/24"] });
    expect((await call("/api/v1/candidates", { key, ip: "192.0.2.4" })).status).toBe(200); // D1, then memory
    expect((await call("/api/v1/candidates", { key, ip: "192.0.3.4" })).status).toBe(403);
    const kv = (await env.KEYS_CACHE.get(`key:${row.hash}`, "json")) as { allowed_cidrs: unknown } | null;
    if (kv) expect(kv.allowed_cidrs).toEqual(["192.0.2.0/24"]);
  });

  const BAD: [string, unknown, RegExp][] = [
    ["a malformed block", ["10.0.0.0/33"], /^allowed_cidrs\.0: "10\.0\.0\.0\/33" prefix must be/],
    ["host bits set", ["192.0.2.0/24", "10.1.0.0/8"], /^allowed_cidrs\.1: .*host bits set; the block is 10\.0\.0\.0\/8/],
    ["a zone id", ["fe80::1%25eth0/64"], /allowed_cidrs\.0: .*zone id/],
    ["leading zeros", ["010.0.0.0/8"], /allowed_cidrs\.0: .*leading zeros/],
    ["a duplicate", ["10.0.0.0/8", "::ffff:10.0.0.0/104"], /allowed_cidrs\.1: repeats entry 0/],
    ["an empty list", [], /allowed_cidrs: must list at least one block/],
    ["too many blocks", Array.from({ length: MAX_ALLOWED_CIDRS + 1 }, (_, i) => `10.${i}.0.0/16`), /allowed_cidrs: must list at most 100/],
    ["a string instead of a list", "10.0.0.0/8", /allowed_cidrs/],
    ["a number in the list", [10], /allowed_cidrs\.0/],
  ];
  it.each(BAD)("refuses %s with 400 naming the field, and stores nothing", async (_, allowed, message) => {
    const { key: adminKey, org } = await admin();
    const { res, body } = await api(adminKey, "POST", "", { name: "x", scopes: ["jobs:read"], allowed_cidrs: allowed });
    expect(res.status).toBe(400);
    expect(body.errors[0]!.code).toBe("invalid_request");
    expect(body.errors[0]!.message).toMatch(message);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE organization_id = ?").bind(org).first<{ n: number }>();
    expect(count!.n).toBe(1);
  });

  it("is immutable: PATCH with allowed_cidrs is 400 and changes nothing", async () => {
    const { key: adminKey } = await admin();
    const created = await createWith(adminKey, ["192.0.2.0/24"]);
    for (const patch of [
      { name: "renamed", allowed_cidrs: ["0.0.0.0/0"] },
      { name: "renamed", allowed_cidrs: null },
    ]) {
      const { res, body } = await api(adminKey, "PATCH", `/${created.id}`, patch);
      expect(res.status).toBe(400);
      expect(body.errors[0]!.message).toMatch(/^allowed_cidrs: allowed_cidrs is immutable/);
    }
    const after = (await api(adminKey, "GET", `/${created.id}`)).body.data as KeyObj;
    expect(after).toMatchObject({ name: "fenced", allowed_cidrs: ["192.0.2.0/24"] });
    expect((await call("/api/v1/candidates", { key: created.key, ip: "198.51.100.1" })).status).toBe(403);
  });

  it("is copied on rotation", async () => {
    const { key: adminKey } = await admin();
    const created = await createWith(adminKey, ["192.0.2.0/24", "2001:db8::/32"]);
    const { res, body } = await api(adminKey, "POST", `/${created.id}/rotate`, {});
    expect(res.status).toBe(201);
    const next = body.data as KeyObj & { key: string };
    expect(next.allowed_cidrs).toEqual(["192.0.2.0/24", "2001:db8::/32"]);
    expect((await call("/api/v1/candidates", { key: next.key, ip: "2001:db8::5" })).status).toBe(200);
    expect((await call("/api/v1/candidates", { key: next.key, ip: "2001:db9::5" })).status).toBe(403);
  });
});

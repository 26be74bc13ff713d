import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KEY_PATTERN } from "../../src/keys/format.ts";
import type { KeyObject } from "../../src/management/object.ts";
import { kvKeyOf } from "../../src/storage/kv-cache.ts";
import { call, captureLogs, createKey, envelope, gatewayWith, keysApi, unique, withOutage } from "./helpers.ts";

/** docs/design.md §8: the management API, over HTTP through the Worker. */
type KeyObj = KeyObject & { key?: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const api = keysApi;

async function admin(org = unique("org")) {
  return { ...(await createKey(["*"], { org })), org };
}

async function create(adminKey: string, input: Record<string, unknown>) {
  const { res, body } = await api(adminKey, "POST", "", input);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.data as KeyObj & { key: string };
}

describe("POST /api/v1/api-keys", () => {
  it("creates a key, shown once, that works through the gateway", async () => {
    const { key: adminKey, row: adminRow, org } = await admin();
    const { result, raw } = await captureLogs(() => create(adminKey, { name: "ci", scopes: ["candidates:read"] }));
    const created = result;
    expect(created.key).toMatch(KEY_PATTERN);
    expect(created).toMatchObject({
      name: "ci",
      organization_id: org,
      scopes: ["candidates:read"],
      state: "active",
      created_by: adminRow.id,
      expires_at: null,
      revoked_at: null,
      last_used_at: null,
      rotated_from: null,
      display: `pk_live_${created.key.slice(8, 12)}…${created.key.slice(-4)}`,
      mode: "live",
    });
    expect(raw).not.toContain(created.key);
    expect((await call("/api/v1/candidates", { key: created.key })).status).toBe(200);
    expect((await call("/api/v1/jobs", { key: created.key })).status).toBe(403);

    // Nowhere else: not in list, show, D1 or KV.
    const listed = await api(adminKey, "GET", "");
    const shown = await api(adminKey, "GET", `/${created.id}`);
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
    expect(JSON.stringify(shown.body)).not.toContain(created.key);
    expect(shown.body.data).not.toHaveProperty("key");
    expect(shown.body.data).not.toHaveProperty("hash");
    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(created.id).first();
    expect(JSON.stringify(row)).not.toContain(created.key.slice(8));
    const kv = await env.KEYS_CACHE.list();
    for (const k of kv.keys) expect(JSON.stringify(await env.KEYS_CACHE.get(k.name))).not.toContain(created.key.slice(8));
  });

  it("an expiring key works until expires_at, then says it expired", async () => {
    const { key: adminKey } = await admin();
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const created = await create(adminKey, { name: "short", scopes: ["jobs:read"], expires_at: expiresAt });
    expect(created.expires_at).toBe(expiresAt);
    expect((await call("/api/v1/jobs", { key: created.key })).status).toBe(200);
    await sleep(1600);
    const res = await call("/api/v1/jobs", { key: created.key });
    expect(res.status).toBe(401);
    expect((await envelope(res)).errors[0]!.message).toBe("API key has expired");
    expect(((await api(adminKey, "GET", `/${created.id}`)).body.data as KeyObj).state).toBe("expired");
  });

  const BAD: [string, unknown, RegExp][] = [
    [
      "an unknown scope, listing the valid ones",
      { name: "x", scopes: ["candidates:delete"] },
      /unknown scope "candidates:delete".*candidates:read/,
    ],
    ["no scopes", { name: "x", scopes: [] }, /at least one scope/],
    ["repeated scopes", { name: "x", scopes: ["jobs:read", "jobs:read"] }, /must not repeat/],
    ["no name", { scopes: ["jobs:read"] }, /name/],
    ["an empty name", { name: "  ", scopes: ["jobs:read"] }, /name must not be empty/],
    ["a past expiry", { name: "x", scopes: ["jobs:read"], expires_at: "2020-01-01T00:00:00Z" }, /expires_at: must be in the future/],
    ["a malformed expiry", { name: "x", scopes: ["jobs:read"], expires_at: "tomorrow" }, /expires_at/],
    ["an unknown field", { name: "x", scopes: ["jobs:read"], admin: true }, /admin/],
  ];
  it.each(BAD)("refuses %s with 400 and creates nothing", async (_, input, message) => {
    const { key: adminKey, org } = await admin();
    const { res, body } = await api(adminKey, "POST", "", input);
    expect(res.status).toBe(400);
    expect(body.errors[0]!.code).toBe("invalid_request");
    expect(body.errors[0]!.message).toMatch(message);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE organization_id = ?").bind(org).first<{ n: number }>();
    expect(count!.n).toBe(1);
  });

  it("refuses malformed JSON and a missing content type", async () => {
    const { key: adminKey } = await admin();
    const bad = await call("/api/v1/api-keys", {
      key: adminKey,
      method: "POST",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect((await envelope(bad)).errors[0]!.code).toBe("invalid_request");
    const untyped = await call("/api/v1/api-keys", { key: adminKey, method: "POST", body: '{"name":"x","scopes":["jobs:read"]}' });
    expect(untyped.status).toBe(400);
    expect((await envelope(untyped)).errors[0]!.message).toMatch(/Content-Type/);
  });

  it("refuses scopes the caller does not hold (403), including legacy read/write and *", async () => {
    const { key } = await createKey(["api_keys:write", "candidates:read"]);
    for (const scopes of [["jobs:read"], ["*"], ["read"], ["candidates:read", "candidates:write"]]) {
      const { res, body } = await api(key, "POST", "", { name: "x", scopes });
      expect(res.status, JSON.stringify(scopes)).toBe(403);
      expect(body.errors[0]!.message).toMatch(/scopes you do not hold/);
    }
    expect((await api(key, "POST", "", { name: "ok", scopes: ["candidates:read"] })).res.status).toBe(201);
  });

  it("needs api_keys:write, which legacy write does not grant", async () => {
    const { key } = await createKey(["write", "read"]);
    const { res, body } = await api(key, "POST", "", { name: "x", scopes: ["jobs:read"] });
    expect(res.status).toBe(403);
    expect(body.errors[0]!.message).toBe("Insufficient permissions: requires api_keys:write");
  });
});

describe("GET /api/v1/api-keys", () => {
  it("lists the organization's keys newest first, paged by cursor, without secrets", async () => {
    const { key: adminKey, row: adminRow } = await admin();
    const made: string[] = [adminRow.id];
    for (let i = 0; i < 4; i++) {
      made.push((await create(adminKey, { name: `k${i}`, scopes: ["jobs:read"] })).id);
      await sleep(2);
    }
    await createKey(["*"], { org: unique("other") });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const { res, body } = await api(adminKey, "GET", `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const page = body.data as { items: (KeyObj & { hash?: string })[]; next_cursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) {
        expect(item).not.toHaveProperty("hash");
        expect(item).not.toHaveProperty("key");
        seen.push(item.id);
      }
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());
  });

  it.each(["?limit=0", "?limit=101", "?limit=abc", "?cursor=bm90LWpzb24"])("refuses %s with 400", async (query) => {
    const { key: adminKey } = await admin();
    const { res, body } = await api(adminKey, "GET", query);
    expect(res.status).toBe(400);
    expect(body.errors[0]!.code).toBe("invalid_request");
  });

  it("needs api_keys:read", async () => {
    const { key } = await createKey(["api_keys:write"]);
    expect((await api(key, "GET", "")).res.status).toBe(403);
  });
});

describe("one key: show, rename, self", () => {
  it("shows and renames; scopes cannot change", async () => {
    const { key: adminKey } = await admin();
    const created = await create(adminKey, { name: "before", scopes: ["jobs:read"] });
    const renamed = await api(adminKey, "PATCH", `/${created.id}`, { name: "after" });
    expect(renamed.res.status).toBe(200);
    expect((renamed.body.data as KeyObj).name).toBe("after");
    expect(((await api(adminKey, "GET", `/${created.id}`)).body.data as KeyObj).name).toBe("after");

    const scopeChange = await api(adminKey, "PATCH", `/${created.id}`, { name: "x", scopes: ["*"] });
    expect(scopeChange.res.status).toBe(400);
    expect(scopeChange.body.errors[0]!.message).toMatch(/scopes are immutable: create a new key/);
    expect((await api(adminKey, "GET", `/${created.id}`)).body.data as KeyObj).toMatchObject({ name: "after", scopes: ["jobs:read"] });
  });

  it("self needs no scope", async () => {
    const { key, row } = await createKey(["candidates:read"], { org: "self-org" });
    const { res, body } = await api(key, "GET", "/self");
    expect(res.status).toBe(200);
    expect(body.data).toMatchObject({ id: row.id, organization_id: "self-org", scopes: ["candidates:read"], state: "active" });
  });
});

describe("organizations are isolated", () => {
  it("another organization's key is 404 for every operation, and stays untouched", async () => {
    const { key: adminA } = await admin();
    const { key: victimKey, row: victim } = await createKey(["candidates:read"]);
    for (const [method, path, body] of [
      ["GET", `/${victim.id}`],
      ["PATCH", `/${victim.id}`, { name: "pwned" }],
      ["DELETE", `/${victim.id}`],
      ["POST", `/${victim.id}/rotate`, {}],
      ["GET", `/${victim.id}/events`],
      ["GET", "/key_doesnotexist000000"],
      ["GET", "/not-a-key-id"],
    ] as [string, string, unknown?][]) {
      const { res, body: b } = await api(adminA, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(b.errors[0]!.code).toBe("not_found");
    }
    expect((await call("/api/v1/candidates", { key: victimKey })).status).toBe(200);
    const row = await env.DB.prepare("SELECT name, revoked_at FROM api_keys WHERE id = ?").bind(victim.id).first();
    expect(row).toEqual({ name: "test key", revoked_at: null });
  });
});

describe("revocation propagates", () => {
  it("refused on the very next request after a memory-cached hit, and idempotent", async () => {
    const { key: adminKey } = await admin();
    const created = await create(adminKey, { name: "doomed", scopes: ["candidates:read"] });
    expect((await call("/api/v1/candidates", { key: created.key })).status).toBe(200);
    expect((await call("/api/v1/candidates", { key: created.key })).status).toBe(200); // now in memory

    const first = await api(adminKey, "DELETE", `/${created.id}`);
    expect(first.res.status).toBe(200);
    const revoked = first.body.data as KeyObj;
    expect(revoked.state).toBe("revoked");
    const res = await call("/api/v1/candidates", { key: created.key });
    expect(res.status).toBe(401);
    expect((await envelope(res)).errors[0]!.message).toBe("API key has been revoked");

    const again = await api(adminKey, "DELETE", `/${created.id}`);
    expect(again.res.status).toBe(200);
    expect((again.body.data as KeyObj).revoked_at).toBe(revoked.revoked_at);
    const listed = (await api(adminKey, "GET", "")).body.data as { items: KeyObj[] };
    expect(listed.items.find((k) => k.id === created.id)?.state).toBe("revoked");
  });

  it("replaces the KV entry with a tombstone, so an isolate that only has KV refuses it", async () => {
    const { key: adminKey } = await admin();
    const created = await create(adminKey, { name: "kv-cached", scopes: ["candidates:read"] });
    const other = gatewayWith({});
    expect((await other.fetch("/api/v1/candidates", { key: created.key })).status).toBe(200);
    await other.settle(); // the read-through has put the record in KV
    await api(adminKey, "DELETE", `/${created.id}`);
    const cold = gatewayWith({});
    expect((await cold.fetch("/api/v1/candidates", { key: created.key })).status).toBe(401);
    const hash = (await env.DB.prepare("SELECT hash FROM api_keys WHERE id = ?").bind(created.id).first<{ hash: string }>())!.hash;
    expect(await env.KEYS_CACHE.get(kvKeyOf(hash), "json")).toMatchObject({ id: created.id, revoked_at: expect.any(String) });
  });

  it("a key can revoke itself", async () => {
    const { key, row } = await createKey(["api_keys:write"]);
    expect((await api(key, "DELETE", `/${row.id}`)).res.status).toBe(200);
    expect((await api(key, "GET", "/self")).res.status).toBe(401);
  });
});

describe("rotation", () => {
  it("without grace: a successor with the same name, scopes and expiry; the old key stops at once", async () => {
    const { key: adminKey } = await admin();
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const old = await create(adminKey, { name: "rotating", scopes: ["jobs:read", "jobs:write"], expires_at: expiresAt });
    expect((await call("/api/v1/jobs", { key: old.key })).status).toBe(200);
    const { res, body } = await api(adminKey, "POST", `/${old.id}/rotate`);
    expect(res.status).toBe(201);
    const next = body.data as KeyObj & { key: string };
    expect(next).toMatchObject({
      name: "rotating",
      scopes: ["jobs:read", "jobs:write"],
      expires_at: expiresAt,
      rotated_from: old.id,
      state: "active",
    });
    expect(next.key).toMatch(KEY_PATTERN);
    expect(next.key).not.toBe(old.key);
    expect((await call("/api/v1/jobs", { key: old.key })).status).toBe(401);
    expect((await call("/api/v1/jobs", { key: next.key })).status).toBe(200);
  });

  it("with grace: the old key works during the grace period and fails after", async () => {
    const { key: adminKey } = await admin();
    const old = await create(adminKey, { name: "graceful", scopes: ["jobs:read"] });
    const { res, body } = await api(adminKey, "POST", `/${old.id}/rotate`, { grace_seconds: 1 });
    expect(res.status).toBe(201);
    const next = body.data as KeyObj & { key: string };
    expect((await call("/api/v1/jobs", { key: old.key })).status).toBe(200);
    expect((await call("/api/v1/jobs", { key: next.key })).status).toBe(200);
    const shown = (await api(adminKey, "GET", `/${old.id}`)).body.data as KeyObj;
    expect(shown.state).toBe("active");
    expect(Date.parse(shown.revoked_at!)).toBeGreaterThan(Date.now());
    await sleep(1100);
    expect((await call("/api/v1/jobs", { key: old.key })).status).toBe(401);
    expect((await call("/api/v1/jobs", { key: next.key })).status).toBe(200);
  });

  it.each([{ grace_seconds: -1 }, { grace_seconds: 604_801 }, { grace_seconds: 1.5 }, { grace_seconds: "60" }])(
    "refuses %j",
    async (input) => {
      const { key: adminKey } = await admin();
      const old = await create(adminKey, { name: "x", scopes: ["jobs:read"] });
      expect((await api(adminKey, "POST", `/${old.id}/rotate`, input)).res.status).toBe(400);
      expect((await call("/api/v1/jobs", { key: old.key })).status).toBe(200);
    },
  );

  it("needs every scope of the rotated key, and refuses revoked keys", async () => {
    const org = unique("org");
    const { key: adminKey } = await admin(org);
    const target = await create(adminKey, { name: "t", scopes: ["jobs:write"] });
    const { key: limited } = await createKey(["api_keys:write", "jobs:read"], { org });
    expect((await api(limited, "POST", `/${target.id}/rotate`)).res.status).toBe(403);
    await api(adminKey, "DELETE", `/${target.id}`);
    const { res, body } = await api(adminKey, "POST", `/${target.id}/rotate`);
    expect(res.status).toBe(400);
    expect(body.errors[0]!.message).toMatch(/already revoked/);
  });
});

describe("audit trail", () => {
  it("records created, renamed, rotated and revoked, with who and when", async () => {
    const { key: adminKey, row: adminRow } = await admin();
    const k = await create(adminKey, { name: "audited", scopes: ["jobs:read"] });
    await api(adminKey, "PATCH", `/${k.id}`, { name: "audited-2" });
    const next = (await api(adminKey, "POST", `/${k.id}/rotate`, { grace_seconds: 60 })).body.data as KeyObj;
    await api(adminKey, "DELETE", `/${k.id}`);
    const { res, body } = await api(adminKey, "GET", `/${k.id}/events`);
    expect(res.status).toBe(200);
    const items = (body.data as { items: { type: string; actor: string; at: string }[] }).items;
    expect(items.map((e) => e.type)).toEqual(["created", "renamed", "rotated", "revoked"]);
    for (const e of items) {
      expect(e.actor).toBe(adminRow.id);
      expect(Date.parse(e.at)).not.toBeNaN();
    }
    const successor = (await api(adminKey, "GET", `/${next.id}/events`)).body.data as { items: { type: string }[] };
    expect(successor.items.map((e) => e.type)).toEqual(["created"]);
  });
});

describe("the second tombstone write", () => {
  it("undoes a stale positive record that a racing read-through wrote after the revocation", async () => {
    const { key: adminKey, org } = await admin();
    const gw = gatewayWith({ TOMBSTONE_REWRITE_DELAY_MS: "200" });
    const created = (await (
      await gw.fetch("/api/v1/api-keys", {
        key: adminKey,
        method: "POST",
        body: JSON.stringify({ name: "raced", scopes: ["jobs:read"] }),
        headers: { "content-type": "application/json" },
      })
    ).json()) as { data: KeyObj & { key: string } };
    const { hash } = (await env.DB.prepare("SELECT hash FROM api_keys WHERE id = ?").bind(created.data.id).first<{ hash: string }>())!;
    expect((await gw.fetch(`/api/v1/api-keys/${created.data.id}`, { key: adminKey, method: "DELETE" })).status).toBe(200);

    // What an isolate that read D1 just before the revocation would write back into KV.
    const stale = { id: created.data.id, organization_id: org, hash, scopes: ["jobs:read"], expires_at: null, revoked_at: null };
    await env.KEYS_CACHE.put(kvKeyOf(hash), JSON.stringify(stale));
    // KV alone, as an isolate sees it while it cannot read the revocation feed (D1 down), would resurrect the key.
    const kvOnly = () => gatewayWith({ DB: withOutage(env.DB, { down: true }) });
    expect((await kvOnly().fetch("/api/v1/jobs", { key: created.data.key })).status).toBe(200);

    await gw.settle(); // includes the rewrite, TOMBSTONE_REWRITE_DELAY_MS later
    expect(await env.KEYS_CACHE.get(kvKeyOf(hash), "json")).toMatchObject({ revoked_at: expect.any(String) });
    expect((await kvOnly().fetch("/api/v1/jobs", { key: created.data.key })).status).toBe(401);
    // With the feed readable, the stale entry never mattered: a cold isolate refuses the key either way.
    expect((await gatewayWith({}).fetch("/api/v1/jobs", { key: created.data.key })).status).toBe(401);
  });
});

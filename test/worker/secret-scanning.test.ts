import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format.ts";
import { makeScanner, publicKeysConfig, type Scanner } from "../support/scanner-signing.ts";
import { createKey, envelope, gatewayWith, sha256Hex, unique } from "./helpers.ts";

/**
 * Leaked-key reports (docs/operations.md): POST /api/v1/secret-scanning/report, signed by a
 * configured scanner key; every reported key that exists is revoked at once
 * with a `revoked_leaked` event carrying the URL; bad signature 401, malformed
 * body 400, and in both cases nothing is revoked.
 */

const PATH = "/api/v1/secret-scanning/report";
let scanner: Scanner;
let stranger: Scanner;

beforeAll(async () => {
  scanner = await makeScanner("github-test-1");
  stranger = await makeScanner("github-test-1"); // same identifier, another private key
});

const gateway = (extra: Record<string, string> = {}) =>
  gatewayWith({ SECRET_SCANNING_PUBLIC_KEYS: publicKeysConfig(scanner), TOMBSTONE_REWRITE_DELAY_MS: "0", ...extra });

async function report(
  gw: ReturnType<typeof gatewayWith>,
  body: string,
  opts: { signer?: Scanner; keyId?: string; signature?: string; ip?: string } = {},
) {
  const signer = opts.signer ?? scanner;
  const headers: Record<string, string> = { "content-type": "application/json" };
  headers["github-public-key-identifier"] = opts.keyId ?? signer.keyId;
  headers["github-public-key-signature"] = opts.signature ?? (await signer.sign(body));
  const res = await gw.fetch(PATH, { method: "POST", body, headers, ...(opts.ip ? { ip: opts.ip } : {}) });
  await gw.settle();
  return res;
}

const item = (token: string, url = "https://github.com/octo/repo/blob/abc/config.js") => ({
  token,
  type: "ats_api_key",
  url,
  source: "content",
});

const revokedAt = async (id: string) =>
  (await env.DB.prepare("SELECT revoked_at FROM api_keys WHERE id = ?").bind(id).first<{ revoked_at: string | null }>())!.revoked_at;
const eventCount = async (id: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_key_events WHERE key_id = ?").bind(id).first<{ n: number }>())!.n;

describe("POST /api/v1/secret-scanning/report", () => {
  it("revokes each reported key that exists, records revoked_leaked with the URL, and says per token whether it was ours (never whose)", async () => {
    const org = unique("leak-org");
    const leaked = await createKey(["candidates:read"], { org });
    const admin = await createKey(["*"], { org });
    const unknown = generateKey();
    const body = JSON.stringify([item(leaked.key), item(unknown), item("not-a-key-at-all"), item(leaked.key, "https://gist.github.com/x")]);
    const res = await report(gateway(), body);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    expect(text).not.toContain(org);
    expect(text).not.toContain(leaked.row.id);
    expect(text).not.toContain(leaked.key);
    const hashOf = (t: string) => sha256Hex(new TextEncoder().encode(t));
    expect(JSON.parse(text)).toEqual([
      { token_hash: await hashOf(leaked.key), token_type: "ats_api_key", label: "true_positive" },
      { token_hash: await hashOf(unknown), token_type: "ats_api_key", label: "false_positive" },
      { token_hash: await hashOf("not-a-key-at-all"), token_type: "ats_api_key", label: "false_positive" },
      { token_hash: await hashOf(leaked.key), token_type: "ats_api_key", label: "true_positive" },
    ]);

    expect(await revokedAt(leaked.row.id)).not.toBeNull();
    const refused = await gatewayWith({}).fetch("/api/v1/candidates", { key: leaked.key });
    expect(refused.status).toBe(401);
    expect((await envelope(refused)).errors[0]!.message).toBe("API key has been revoked");

    const events = await gatewayWith({}).fetch(`/api/v1/api-keys/${leaked.row.id}/events`, { key: admin.key });
    const items = ((await envelope(events)).data as { items: { type: string; actor: string; url: string | null }[] }).items;
    expect(items.map((e) => [e.type, e.actor, e.url])).toEqual([
      ["created", "cli", null],
      ["revoked_leaked", "secret-scanning", "https://github.com/octo/repo/blob/abc/config.js"],
    ]);
    // The feed has it too: every isolate refuses the key within the revocation bound.
    const feed = await env.DB.prepare("SELECT COUNT(*) AS n FROM key_revocations WHERE key_id = ?")
      .bind(leaked.row.id)
      .first<{ n: number }>();
    expect(feed!.n).toBe(1);
  });

  it("an already revoked key is a true positive and gets no second event", async () => {
    const leaked = await createKey(["candidates:read"]);
    const body = JSON.stringify([item(leaked.key)]);
    expect((await report(gateway(), body)).status).toBe(200);
    const first = await revokedAt(leaked.row.id);
    const events = await eventCount(leaked.row.id);
    const again = await report(gateway(), body);
    expect(((await again.json()) as { label: string }[])[0]!.label).toBe("true_positive");
    expect(await revokedAt(leaked.row.id)).toBe(first);
    expect(await eventCount(leaked.row.id)).toBe(events);
  });

  it("finds a key still hashed under the previous KEY_HASH_SECRET", async () => {
    const leaked = await createKey(["candidates:read"]);
    const gw = gateway({
      KEY_HASH_SECRET: "another-secret-for-the-scanning-test-0123456789ab",
      KEY_HASH_SECRET_VERSION: "2",
      KEY_HASH_SECRET_PREVIOUS: env.KEY_HASH_SECRET,
      KEY_HASH_SECRET_PREVIOUS_VERSION: "1",
    });
    const res = await report(gw, JSON.stringify([item(leaked.key)]));
    expect(((await res.json()) as { label: string }[])[0]!.label).toBe("true_positive");
    expect(await revokedAt(leaked.row.id)).not.toBeNull();
  });

  describe("refused, with nothing revoked", () => {
    async function expectRefused(res: Response, status: number, code: string, id: string) {
      expect(res.status).toBe(status);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const env_ = await envelope(res);
      expect(env_).toMatchObject({ success: false, data: null, errors: [{ code }] });
      expect(await revokedAt(id)).toBeNull();
      expect(await eventCount(id)).toBe(1);
      return env_.errors[0]!.message;
    }

    it("401 for a signature by another private key, a tampered body, an unknown key id, or missing headers", async () => {
      const leaked = await createKey(["candidates:read"]);
      const body = JSON.stringify([item(leaked.key)]);
      expect(await expectRefused(await report(gateway(), body, { signer: stranger }), 401, "unauthorized", leaked.row.id)).toBe(
        "Invalid report signature",
      );
      const tampered = await scanner.sign(JSON.stringify([item(generateKey())]));
      await expectRefused(await report(gateway(), body, { signature: tampered }), 401, "unauthorized", leaked.row.id);
      await expectRefused(await report(gateway(), body, { keyId: "someone-else" }), 401, "unauthorized", leaked.row.id);
      await expectRefused(await report(gateway(), body, { signature: "bm90IGEgc2lnbmF0dXJl" }), 401, "unauthorized", leaked.row.id);
      const bare = await gateway().fetch(PATH, { method: "POST", body, headers: { "content-type": "application/json" } });
      expect(await expectRefused(bare, 401, "unauthorized", leaked.row.id)).toContain("github-public-key-signature");
    });

    it("401 when no scanner key is configured", async () => {
      const leaked = await createKey(["candidates:read"]);
      const res = await report(gatewayWith({}), JSON.stringify([item(leaked.key)]));
      expect(await expectRefused(res, 401, "unauthorized", leaked.row.id)).toContain("not configured");
    });

    it("400 for a body that is not JSON, not an array, empty, or has bad items, even when signed", async () => {
      const leaked = await createKey(["candidates:read"]);
      const bodies = [
        "not json",
        JSON.stringify({ token: leaked.key, type: "t", url: "" }),
        "[]",
        JSON.stringify([item(leaked.key), { type: "t", url: "" }]),
        JSON.stringify([item(leaked.key), { token: 5, type: "t", url: "" }]),
        JSON.stringify([item(leaked.key, "javascript:alert(1)")]),
      ];
      for (const body of bodies) await expectRefused(await report(gateway(), body), 400, "invalid_request", leaked.row.id);
    });

    it("400 past SECRET_SCANNING_MAX_TOKENS tokens", async () => {
      const leaked = await createKey(["candidates:read"]);
      const gw = gateway({ SECRET_SCANNING_MAX_TOKENS: "2" });
      const body = JSON.stringify([item(leaked.key), item(generateKey()), item(generateKey())]);
      expect(await expectRefused(await report(gw, body), 400, "invalid_request", leaked.row.id)).toContain("at most 2 tokens");
      expect((await report(gw, JSON.stringify([item(generateKey()), item(generateKey())]))).status).toBe(200);
    });

    it("400 past SECRET_SCANNING_MAX_BODY_BYTES", async () => {
      const leaked = await createKey(["candidates:read"]);
      const gw = gateway({ SECRET_SCANNING_MAX_BODY_BYTES: "1024" });
      const body = JSON.stringify([item(leaked.key, `https://example.com/${"x".repeat(1100)}`)]);
      expect(await expectRefused(await report(gw, body), 400, "invalid_request", leaked.row.id)).toContain("at most 1024 bytes");
    });

    it("429 after AUTH_FAIL_LIMIT bad signatures from one address", async () => {
      const leaked = await createKey(["candidates:read"]);
      const gw = gateway({ AUTH_FAIL_LIMIT: "2" });
      const body = JSON.stringify([item(leaked.key)]);
      const ip = "192.0.2.77";
      await report(gw, body, { signer: stranger, ip });
      await report(gw, body, { signer: stranger, ip });
      const limited = await report(gw, body, { ip });
      expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
      await expectRefused(limited, 429, "rate_limited", leaked.row.id);
    });
  });

  it("is in the OpenAPI document: public, with its signature headers, body and answer", async () => {
    const doc = (await (await gatewayWith({}).fetch("/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<string, { security: unknown[]; parameters: { name: string; in: string }[]; responses: Record<string, unknown> }>
      >;
    };
    const op = doc.paths[PATH]!.post!;
    expect(op.security).toEqual([]);
    expect(op.parameters.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      "header:github-public-key-identifier",
      "header:github-public-key-signature",
    ]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "429"]));
  });

  it("is public POST only: other methods are 405", async () => {
    expect((await gateway().fetch(PATH, { method: "GET" })).status).toBe(405);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashKey, importHashKey } from "../../src/keys/hash.ts";
import { generateKey } from "../../src/keys/format.ts";
import { kvKeyOf } from "../../src/storage/kv-cache.ts";
import { captureLogs, createKey, envelope, gatewayWith, requestLine, unique } from "./helpers.ts";

/**
 * Rotating KEY_HASH_SECRET (docs/operations.md): keys made under version 1 keep working
 * under version 2 with version 1 as the previous secret, are re-hashed on
 * first use after the response, then work without the previous secret; keys
 * never used stay on version 1.
 */

const NEW_SECRET = "rotated-test-secret-fedcba9876543210fedcba9876543210";
const ROTATING = {
  KEY_HASH_SECRET: NEW_SECRET,
  KEY_HASH_SECRET_VERSION: "2",
  KEY_HASH_SECRET_PREVIOUS: env.KEY_HASH_SECRET,
  KEY_HASH_SECRET_PREVIOUS_VERSION: "1",
};
const ROTATED = { KEY_HASH_SECRET: NEW_SECRET, KEY_HASH_SECRET_VERSION: "2" };

const stored = async (id: string) =>
  (await env.DB.prepare("SELECT hash, secret_version FROM api_keys WHERE id = ?")
    .bind(id)
    .first<{ hash: string; secret_version: number }>())!;
const hashUnder = async (secret: string, key: string) => hashKey(await importHashKey(secret), key);

async function use(gw: ReturnType<typeof gatewayWith>, key: string) {
  const { result, lines } = await captureLogs(() => gw.fetch("/api/v1/candidates", { key }));
  return { status: result.status, tier: requestLine(lines).cache_tier };
}

describe("KEY_HASH_SECRET rotation", () => {
  it("a version-1 key works during the rotation, is re-hashed after its first use, then works without the previous secret", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    expect(await stored(row.id)).toEqual({ hash: row.hash, secret_version: 1 });
    expect((await use(gatewayWith(ROTATED), key)).status).toBe(401); // the new secret alone does not know it yet

    const gw = gatewayWith(ROTATING);
    // Twice before the re-hash lands: the negative cache must not refuse what the previous secret finds,
    // and the second request needs no storage at all.
    expect((await use(gw, key)).status).toBe(200);
    expect(await use(gw, key)).toMatchObject({ status: 200, tier: "memory" });
    await gw.settle();

    const newHash = await hashUnder(NEW_SECRET, key);
    expect(await stored(row.id)).toEqual({ hash: newHash, secret_version: 2 });
    expect(await env.KEYS_CACHE.get(kvKeyOf(newHash), "json")).toMatchObject({ id: row.id, hash: newHash });
    expect(await env.KEYS_CACHE.get(kvKeyOf(row.hash))).toBeNull();
    expect((await use(gw, key)).status).toBe(200);

    // The previous secret dropped: the re-hashed key still works, from D1 and from KV.
    const after = gatewayWith(ROTATED);
    expect(await use(after, key)).toMatchObject({ status: 200, tier: "kv" });
  });

  it("a key never used stays on version 1 and keeps working while the previous secret is configured", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    const other = await createKey(["candidates:read"]);
    const gw = gatewayWith(ROTATING);
    expect((await use(gw, other.key)).status).toBe(200);
    await gw.settle();
    expect((await stored(row.id)).secret_version).toBe(1);
    expect((await stored(other.row.id)).secret_version).toBe(2);
    expect((await use(gatewayWith(ROTATING), key)).status).toBe(200);
  });

  it("keys created or rotated under version 2 are stored as version 2", async () => {
    const org = unique("org");
    const admin = await createKey(["*"], { org });
    const gw = gatewayWith(ROTATING);
    const res = await gw.fetch("/api/v1/api-keys", {
      method: "POST",
      key: admin.key,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "v2", scopes: ["candidates:read"] }),
    });
    expect(res.status).toBe(201);
    const created = (await envelope(res)).data as { id: string; key: string };
    expect(await stored(created.id)).toEqual({ hash: await hashUnder(NEW_SECRET, created.key), secret_version: 2 });
    expect((await use(gatewayWith(ROTATED), created.key)).status).toBe(200);
  });

  it("an unknown key is refused and cached negatively once both secrets missed", async () => {
    const gw = gatewayWith(ROTATING);
    const key = generateKey();
    expect(await use(gw, key)).toMatchObject({ status: 401, tier: "d1" });
    expect(await use(gw, key)).toMatchObject({ status: 401, tier: "memory" });
  });

  it("a revoked version-1 key is refused and not re-hashed", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(new Date().toISOString(), row.id).run();
    const gw = gatewayWith(ROTATING);
    expect((await use(gw, key)).status).toBe(401);
    await gw.settle();
    expect(await stored(row.id)).toEqual({ hash: row.hash, secret_version: 1 });
  });
});

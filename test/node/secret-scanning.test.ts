import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../support/gateway-server.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";
import { makeScanner, publicKeysConfig, type Scanner } from "../support/scanner-signing.ts";

/** Leaked-key reports through wrangler's dev runtime, over real HTTP, signed by a key made here. */

let origin: RecordingOrigin;
let gw: Gateway;
let scanner: Scanner;
let stranger: Scanner;

beforeAll(async () => {
  origin = await startRecordingOrigin();
  scanner = await makeScanner("gh-node-1");
  stranger = await makeScanner("gh-node-1");
  gw = await startGateway({
    originUrl: origin.url,
    vars: { SECRET_SCANNING_PUBLIC_KEYS: publicKeysConfig(scanner), TOMBSTONE_REWRITE_DELAY_MS: "0" },
  });
});

afterAll(async () => {
  await gw?.close();
  await origin?.close();
});

async function post(body: string, signer: Scanner) {
  return fetch(`${gw.url}/api/v1/secret-scanning/report`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "Github-Public-Key-Identifier": signer.keyId,
      "Github-Public-Key-Signature": await signer.sign(body),
    },
    body,
  });
}

const use = async (key: string) => (await fetch(`${gw.url}/api/v1/candidates`, { headers: { authorization: `Bearer ${key}` } })).status;
const revokedAt = async (id: string) =>
  (await gw.db.prepare("SELECT revoked_at FROM api_keys WHERE id = ?").bind(id).first<{ revoked_at: string | null }>())!.revoked_at;

describe("POST /api/v1/secret-scanning/report through wrangler dev", () => {
  it("bad signature 401 and malformed body 400 revoke nothing; a signed report revokes the key at once", async () => {
    const leaked = await gw.createKey(["candidates:read"], { org: "leaky" });
    const body = JSON.stringify([
      { token: leaked.key, type: "ats_api_key", url: "https://github.com/o/r/blob/1/a.env", source: "content" },
    ]);
    expect(await use(leaked.key)).toBe(200);

    const forged = await post(body, stranger);
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ success: false, errors: [{ code: "unauthorized" }] });
    const malformed = await post(JSON.stringify([{ token: leaked.key }]), scanner);
    expect(malformed.status).toBe(400);
    expect(await revokedAt(leaked.row.id)).toBeNull();
    expect(await use(leaked.key)).toBe(200);

    const res = await post(body, scanner);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      { token_hash: createHash("sha256").update(leaked.key).digest("hex"), token_type: "ats_api_key", label: "true_positive" },
    ]);
    expect(await revokedAt(leaked.row.id)).not.toBeNull();
    expect(await use(leaked.key)).toBe(401);
    const event = await gw.db
      .prepare("SELECT type, actor, url FROM api_key_events WHERE key_id = ? ORDER BY seq DESC")
      .bind(leaked.row.id)
      .first<{ type: string; actor: string; url: string }>();
    expect(event).toEqual({ type: "revoked_leaked", actor: "secret-scanning", url: "https://github.com/o/r/blob/1/a.env" });
  });
});

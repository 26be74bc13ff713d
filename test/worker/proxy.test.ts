import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createKey, gatewayWith, originReceived, sha256Hex, unique } from "./helpers.ts";

/** docs/design.md §6, asserted on what the real origin received. */
async function onlyRequest(id: string) {
  const got = await originReceived(id);
  expect(got).toHaveLength(1);
  return got[0]!;
}

describe("what the origin receives", () => {
  it("method, path, query and body unchanged", async () => {
    const { key } = await createKey(["candidates:write"]);
    const id = unique("req");
    const body = JSON.stringify({ name: "Ada Lovelace", note: "é ✓" });
    const path = "/api/v1/candidates/c_42/notes?sort=-created_at&q=a%20b&tag=x&tag=y&empty=&flag";
    const res = await call(path, { key, method: "PATCH", body, headers: { "x-request-id": id, "content-type": "application/json" } });
    expect(res.status).toBe(200);
    const got = await onlyRequest(id);
    expect(got.method).toBe("PATCH");
    expect(got.url).toBe(path);
    expect(got.bodySha256).toBe(await sha256Hex(new TextEncoder().encode(body)));
    expect(got.headers["content-type"]).toBe("application/json");
  });

  it("a single trailing slash is forwarded as sent", async () => {
    const { key } = await createKey(["jobs:read"]);
    const id = unique("req");
    expect((await call("/api/v1/jobs/", { key, headers: { "x-request-id": id } })).status).toBe(200);
    expect((await onlyRequest(id)).url).toBe("/api/v1/jobs/");
  });

  it("no Authorization, the gateway's identity headers, and no client-sent copies of them", async () => {
    const { key, row } = await createKey(["candidates:read", "jobs:write"], { org: "acme" });
    const id = unique("req");
    await call("/api/v1/candidates", {
      key,
      ip: "203.0.113.9",
      headers: {
        "x-request-id": id,
        "x-api-key-id": "key_spoofed",
        "x-organization-id": "other-org",
        "x-api-key-scopes": "*",
        "x-gateway-token": "spoofed-token",
        "x-forwarded-for": "1.2.3.4",
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "http",
        forwarded: "for=1.2.3.4",
        "x-original-url": "/api/v1/api-keys",
        "x-rewrite-url": "/api/v1/api-keys",
        "x-real-ip": "1.2.3.4",
        "x-custom": "kept",
        cookie: "session=abc; theme=dark",
      },
    });
    const h = (await onlyRequest(id)).headers;
    expect(h.authorization).toBeUndefined();
    expect(h["x-api-key-id"]).toBe(row.id);
    expect(h["x-organization-id"]).toBe("acme");
    expect(h["x-api-key-scopes"]).toBe("candidates:read jobs:write");
    expect(h["x-request-id"]).toBe(id);
    expect(h["x-forwarded-for"]).toBe("203.0.113.9");
    expect(h["x-forwarded-host"]).toBe("api.example.test");
    expect(h["x-forwarded-proto"]).toBe("https");
    expect(h["x-gateway-token"]).toBeUndefined();
    for (const gone of ["forwarded", "x-original-url", "x-rewrite-url", "x-real-ip", "cf-connecting-ip"]) {
      expect(h[gone], gone).toBeUndefined();
    }
    expect(h["x-custom"]).toBe("kept");
    expect(h.cookie).toBe("session=abc; theme=dark");
  });

  it("a path in ORIGIN_URL prefixes the forwarded path", async () => {
    const { key } = await createKey(["jobs:read"]);
    const gw = gatewayWith({ ORIGIN_URL: `${env.TEST_ORIGIN_URL}/upstream/v2/` });
    const id = unique("req");
    expect((await gw.fetch("/api/v1/jobs/j_1?x=1", { key, headers: { "x-request-id": id } })).status).toBe(200);
    expect((await onlyRequest(id)).url).toBe("/upstream/v2/api/v1/jobs/j_1?x=1");
  });

  it("Authorization is forwarded only when FORWARD_AUTHORIZATION=true", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ FORWARD_AUTHORIZATION: "true" });
    const id = unique("req");
    await gw.fetch("/api/v1/candidates", { key, headers: { "x-request-id": id } });
    expect((await onlyRequest(id)).headers.authorization).toBe(`Bearer ${key}`);
  });

  it("X-Gateway-Token carries ORIGIN_TOKEN when it is set", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ ORIGIN_TOKEN: "origin-shared-secret-123456" });
    const id = unique("req");
    await gw.fetch("/api/v1/candidates", { key, headers: { "x-request-id": id, "x-gateway-token": "client-guess" } });
    expect((await onlyRequest(id)).headers["x-gateway-token"]).toBe("origin-shared-secret-123456");
  });

  it("an unsafe client X-Request-Id is replaced by a generated one, sent both ways", async () => {
    const { key } = await createKey(["candidates:read"]);
    const res = await call("/api/v1/candidates", { key, headers: { "x-request-id": "has spaces; and=more" } });
    const id = res.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await onlyRequest(id)).headers["x-request-id"]).toBe(id);
  });

  it("refused requests never reach the origin", async () => {
    const { key } = await createKey(["candidates:read"]);
    const refused: [string, RequestInit & { key?: string }][] = [
      ["/api/v1/candidates", {}],
      ["/api/v1/candidates", { key: `${key.slice(0, -2)}xx` }],
      ["/api/v1/jobs", { key, method: "POST", body: "{}" }],
      ["/api/v1/candidates", { key, headers: { "x-http-method-override": "DELETE" } }],
      ["/api/v1/unknown", { key }],
    ];
    for (const [path, init] of refused) {
      const id = unique("req");
      const res = await call(path, { ...init, headers: { ...(init.headers as Record<string, string>), "x-request-id": id } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(await originReceived(id)).toEqual([]);
    }
  });
});

describe("streaming and redirects", () => {
  it("a large request body is streamed to the origin intact", async () => {
    const { key } = await createKey(["candidates:write"]);
    const id = unique("req");
    const body = new Uint8Array(8 * 1024 * 1024).map((_, i) => i % 251);
    const res = await call("/api/v1/candidates/import", { key, method: "POST", body, headers: { "x-request-id": id } });
    expect(res.status).toBe(200);
    const got = await onlyRequest(id);
    expect(got.bodyBytes).toBe(body.length);
    expect(got.bodySha256).toBe(await sha256Hex(body));
  });

  it("the request body is not buffered: the origin sees the first chunk before the client sends the rest", async () => {
    const { key } = await createKey(["candidates:write"]);
    const mark = unique("mark");
    const encoder = new TextEncoder();
    let firstChunkSeen = false;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode("first-chunk;"));
        // A buffering gateway would not forward anything until close(): this loop would time out.
        for (let i = 0; i < 100 && !firstChunkSeen; i++) {
          await new Promise((r) => setTimeout(r, 50));
          const seen = (await (await fetch(`${env.TEST_ORIGIN_URL}/__origin/seen/${mark}`)).json()) as { seen: boolean };
          firstChunkSeen = seen.seen;
        }
        controller.enqueue(encoder.encode("second-chunk"));
        controller.close();
      },
    });
    const res = await call("/api/v1/candidates", {
      key,
      method: "POST",
      body,
      headers: { "x-origin-behavior": `mark-first-chunk:${mark}` },
      // @ts-expect-error: duplex is required by the fetch spec for stream bodies but missing from these types
      duplex: "half",
    });
    expect(res.status).toBe(200);
    expect(firstChunkSeen).toBe(true);
  });

  it("the response body is not buffered: the client reads the first chunk while the origin still waits", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gate = unique("gate");
    const res = await call("/api/v1/candidates/export", { key, headers: { "x-origin-behavior": `gated-response:${gate}` } });
    const reader = res.body!.getReader();
    const first = await reader.read(); // a buffering gateway would block here until the origin's 10 s gate timeout
    expect(new TextDecoder().decode(first.value)).toBe("first-chunk;");
    await fetch(`${env.TEST_ORIGIN_URL}/__origin/gate/${gate}`);
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe("second-chunk");
  }, 5_000);

  it("a large response body comes back intact", async () => {
    const { key } = await createKey(["candidates:read"]);
    const res = await call("/api/v1/candidates/export", { key, headers: { "x-origin-behavior": "bytes:5000000" } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(5_000_000);
  });

  it("redirects are handed to the client, not followed", async () => {
    const { key } = await createKey(["candidates:read"]);
    const id = unique("req");
    const res = await call("/api/v1/candidates/moved", {
      key,
      redirect: "manual",
      headers: { "x-request-id": id, "x-origin-behavior": "redirect:http://127.0.0.1:9/elsewhere" },
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("http://127.0.0.1:9/elsewhere");
    expect(await originReceived(id)).toHaveLength(1);
  });
});

describe("origin by service binding", () => {
  it("forwards through the ORIGIN binding when the upstream is a Worker", async () => {
    const { key, row } = await createKey(["jobs:read"]);
    const gw = gatewayWith({ ORIGIN: env.TEST_ORIGIN_SERVICE });
    const res = await gw.fetch("/api/v1/jobs/j_1?x=1", { key });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { via: string; url: string; key_id: string; authorization: string | null };
    expect(body.via).toBe("service-binding");
    expect(new URL(body.url).pathname + new URL(body.url).search).toBe("/api/v1/jobs/j_1?x=1");
    expect(body.key_id).toBe(row.id);
    expect(body.authorization).toBeNull();
  });
});

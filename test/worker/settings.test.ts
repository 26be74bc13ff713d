import { describe, expect, it } from "vitest";
import { LEGACY_SCOPES, SCOPE_CATALOG } from "../../src/auth/scopes.ts";
import { MONTHLY_QUOTA_MAX, RATE_LIMIT_MAX, RATE_PERIOD_MAX_S, RATE_PERIOD_MIN_S } from "../../src/limits/policy.ts";
import { SCRIPT, STYLE } from "../../src/settings/generated/assets.js";
import { escapeHtml } from "../../src/settings/page.ts";
import { CONTENT_SECURITY_POLICY, SCRIPT_PATH, SETTINGS_PATH, STYLE_PATH } from "../../src/settings/serve.ts";
import { KEY_COLUMNS, scopeInputId } from "../../src/settings/shared/markup.ts";
import { call, createKey, envelope } from "./helpers.ts";

/** docs/design.md §8: the settings page, served by the Worker itself under a strict CSP. */

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get("content-security-policy")).toBe(CSP);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  expect(res.headers.get("set-cookie")).toBeNull();
}

interface Element {
  tag: string;
  attrs: Record<string, string>;
}

/** Every element of the page with its attributes, and the text inside each <script>, parsed by workerd's HTMLRewriter. */
async function parse(html: string): Promise<{ elements: Element[]; scriptText: string; keyHeaders: string[] }> {
  const elements: Element[] = [];
  let scriptText = "";
  const keyHeaders: string[] = [];
  const rewriter = new HTMLRewriter()
    .on("#keys-table thead th", {
      element() {
        keyHeaders.push("");
      },
      text(t) {
        keyHeaders[keyHeaders.length - 1] += t.text;
      },
    })
    .on("*", {
      element(e) {
        elements.push({ tag: e.tagName, attrs: Object.fromEntries(e.attributes) });
      },
    })
    .on("script", {
      text(t) {
        scriptText += t.text;
      },
    });
  await rewriter.transform(new Response(html)).text();
  return { elements, scriptText, keyHeaders };
}

async function page(): Promise<{ res: Response; html: string }> {
  const res = await call(SETTINGS_PATH);
  return { res, html: await res.text() };
}

describe("GET /settings/api-keys", () => {
  it("is public HTML with the security headers", async () => {
    expect(CONTENT_SECURITY_POLICY).toBe(CSP);
    const { res, html } = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-z]+"$/);
    expectSecurityHeaders(res);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it("needs no key, and ignores a bad one rather than refusing the page", async () => {
    expect((await call(SETTINGS_PATH, { key: "pk_live_nonsense" })).status).toBe(200);
    expect((await call(SETTINGS_PATH, { headers: { authorization: "Basic Zm9vOmJhcg==" } })).status).toBe(200);
  });

  it("answers HEAD, a trailing slash, and 405 to other methods", async () => {
    const head = await call(SETTINGS_PATH, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expectSecurityHeaders(head);
    expect((await call(`${SETTINGS_PATH}/`)).status).toBe(200);
    const post = await call(SETTINGS_PATH, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect((await envelope(post)).errors[0]!.code).toBe("method_not_allowed");
  });

  it("revalidates with its ETag", async () => {
    const { res } = await page();
    const again = await call(SETTINGS_PATH, { headers: { "if-none-match": res.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expectSecurityHeaders(again);
  });

  it("has no inline script, no inline style and no event-handler attribute; assets are same-origin files", async () => {
    const { html } = await page();
    const { elements, scriptText } = await parse(html);
    const scripts = elements.filter((e) => e.tag === "script");
    expect(scripts).toHaveLength(1);
    expect(scripts[0]!.attrs.src).toMatch(new RegExp(`^${SCRIPT_PATH}\\?v=[0-9a-z]+$`));
    expect(scriptText.trim()).toBe("");
    const styles = elements.filter((e) => e.tag === "link" && e.attrs.rel === "stylesheet");
    expect(styles.map((e) => e.attrs.href)).toEqual([expect.stringMatching(new RegExp(`^${STYLE_PATH}\\?v=[0-9a-z]+$`))]);
    expect(elements.filter((e) => e.tag === "style")).toEqual([]);
    for (const e of elements) {
      expect(
        Object.keys(e.attrs).filter((a) => a.startsWith("on") || a === "style"),
        `<${e.tag}>`,
      ).toEqual([]);
      for (const value of Object.values(e.attrs)) expect(value).not.toMatch(/^\s*javascript:/i);
      if (e.attrs.src || (e.attrs.href && e.tag !== "a")) {
        // Same origin, or a data: URL (the empty favicon, which img-src allows).
        expect(e.attrs.src ?? e.attrs.href).toMatch(/^(\/[^/]|data:)/);
      }
    }
  });

  it("embeds the scope catalog from src/auth/scopes.ts, so the form cannot drift", async () => {
    const { html } = await page();
    const { elements } = await parse(html);
    // Each resource's Read and Write radios and the broad scopes' checkboxes name the scope they stand for.
    const boxes = elements.filter((e) => e.tag === "input" && e.attrs["data-scope"]).map((e) => e.attrs["data-scope"]);
    expect(boxes.sort()).toEqual(SCOPE_CATALOG.map((s) => s.scope).sort());
    for (const legacy of Object.keys(LEGACY_SCOPES)) expect(boxes).toContain(legacy);
    for (const { description } of SCOPE_CATALOG) {
      expect(html).toContain(escapeHtml(description));
    }
    // Which held scopes let a key hand each scope out (docs/design.md §3), for disabling what the signed-in key lacks.
    const grantedBy = (scope: string) => elements.find((e) => e.attrs.value === scope)!.attrs["data-granted-by"]!.split(" ");
    expect(grantedBy("jobs:read").sort()).toEqual(["*", "jobs:read", "read"].sort());
    expect(grantedBy("api_keys:write").sort()).toEqual(["*", "api_keys:write"].sort());
    expect(grantedBy("*")).toEqual(["*"]);
    expect(grantedBy("read").sort()).toEqual(["*", "read"].sort());
  });

  it("renders the key table's header from the column list the client renders cells for", async () => {
    const { keyHeaders } = await parse((await page()).html);
    expect(keyHeaders).toEqual(KEY_COLUMNS.map((c) => c.label));
  });

  it("has a checkbox for every scope of the catalog, where the client looks for it (shared ids)", async () => {
    const { elements } = await parse((await page()).html);
    for (const { scope } of SCOPE_CATALOG) {
      const box = elements.find((e) => e.attrs.id === scopeInputId(scope));
      expect(box?.attrs.value, scope).toBe(scope);
      expect(
        elements.some((e) => e.attrs.id === `${scopeInputId(scope)}-desc`),
        scope,
      ).toBe(true);
    }
  });

  it("“Generate new key” has the mode, rate limit, quota and allowlist fields the client reads, and says they are fixed", async () => {
    const { html } = await page();
    const { elements } = await parse(html);
    const byId = (id: string) => elements.find((e) => e.attrs.id === id);
    const modes = elements.filter((e) => e.tag === "input" && e.attrs.name === "mode");
    expect(modes.map((e) => e.attrs.value)).toEqual(["live", "test"]);
    expect(byId("mode-live")?.attrs.checked).toBeDefined();
    expect(byId("rate-limit")?.attrs).toMatchObject({ type: "number", min: "1", max: String(RATE_LIMIT_MAX) });
    // The period is a named unit within the API's bounds, minute by default: no number that reads as a value.
    expect(byId("rate-period")?.tag).toBe("select");
    const periods = [...html.matchAll(/<option value="(\d+)"( selected)?>(second|minute|hour|day)<\/option>/g)];
    expect(periods.map((m) => Number(m[1]))).toEqual([1, 60, 3600, 86400]);
    for (const m of periods) expect(Number(m[1])).toBeGreaterThanOrEqual(RATE_PERIOD_MIN_S);
    for (const m of periods) expect(Number(m[1])).toBeLessThanOrEqual(RATE_PERIOD_MAX_S);
    expect(periods.find((m) => m[2])?.[3]).toBe("minute");
    expect(byId("monthly-quota")?.attrs).toMatchObject({ type: "number", min: "1", max: String(MONTHLY_QUOTA_MAX) });
    expect(byId("allowed-cidrs")?.tag).toBe("textarea");
    expect(html).toMatch(/id="limits-fixed"[^>]*>These are fixed for the key’s whole life/);
    // The usage dialog and its two ranges (the API's hour and day granularities).
    expect(byId("usage-dialog")?.tag).toBe("dialog");
    expect(elements.filter((e) => e.attrs["data-granularity"]).map((e) => e.attrs["data-granularity"])).toEqual(["hour", "day"]);
  });

  it("every form control has a label; every button is a real button with a type", async () => {
    const { elements } = await parse((await page()).html);
    const labelled = new Set(elements.filter((e) => e.tag === "label").map((e) => e.attrs.for));
    for (const e of elements.filter((x) => ["input", "select", "textarea"].includes(x.tag))) {
      expect(labelled.has(e.attrs.id), `control #${e.attrs.id} needs a <label for>`).toBe(true);
    }
    for (const b of elements.filter((x) => x.tag === "button")) expect(["button", "submit"]).toContain(b.attrs.type);
    for (const d of elements.filter((x) => x.tag === "dialog")) expect(d.attrs["aria-labelledby"]).toBeTruthy();
  });
});

describe("settings assets", () => {
  it("serves the script and the stylesheet with their content types and the same headers", async () => {
    for (const [path, type] of [
      [SCRIPT_PATH, "text/javascript; charset=utf-8"],
      [STYLE_PATH, "text/css; charset=utf-8"],
    ] as const) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expectSecurityHeaders(res);
      expect((await res.text()).length).toBeGreaterThan(1000);
    }
  });

  it("a versioned asset URL is cacheable for good; a stale or missing version is revalidated", async () => {
    const { elements } = await parse((await page()).html);
    const src = elements.find((e) => e.tag === "script")!.attrs.src!;
    const href = elements.find((e) => e.tag === "link" && e.attrs.rel === "stylesheet")!.attrs.href!;
    for (const url of [src, href]) {
      const res = await call(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      const stale = await call(url.replace(/v=.*/, "v=old"));
      expect(stale.headers.get("cache-control")).toBe("no-cache");
    }
  });

  it("the script talks only to its own origin and keeps the key out of cookies, URLs and localStorage", async () => {
    const js = await (await call(SCRIPT_PATH)).text();
    expect(js).not.toMatch(/https?:\/\//);
    expect(js).not.toContain("document.cookie");
    expect(js).not.toContain("localStorage");
    expect(js).not.toMatch(/console\.(log|info|debug|warn|error)/);
    expect(js).not.toContain("innerHTML");
    expect(js).toContain("sessionStorage");
    expect(js).toContain('"/api/v1/api-keys"');
  });

  it("serves the client bundled from src/settings/client/ (scripts/build-settings.ts), small and without the server's code", async () => {
    const js = await (await call(SCRIPT_PATH)).text();
    const css = await (await call(STYLE_PATH)).text();
    expect(js).toBe(SCRIPT);
    expect(css).toBe(STYLE);
    // A classic script (no import/export: the page loads it without type=module), no eval, no server code.
    expect(js.startsWith('"use strict";(()=>{')).toBe(true);
    expect(js).not.toMatch(/\bimport\s*[({"']|\bexport\s|\beval\(|new Function\(/);
    expect(js).not.toMatch(/zod|ZodError|HMAC|D1Database|\bhono\b/i);
    // The shared scope catalog is bundled in, descriptions and all.
    for (const { scope, description } of SCOPE_CATALOG) expect(js, scope).toContain(JSON.stringify(description).slice(1, -1));
    expect(new TextEncoder().encode(js).length).toBeLessThan(48 * 1024);
    expect(css).toContain(".menu-button");
    expect(css).not.toContain("@import");
  });

  it("unknown files under /settings are not routes", async () => {
    const res = await call(`${SETTINGS_PATH}/secret.txt`);
    expect(res.status).toBe(404);
    expect((await envelope(res)).errors[0]!.code).toBe("not_found");
  });
});

describe("what the page relies on", () => {
  it("GET /api/v1/api-keys/self tells any valid key its scopes, so the page can explain what is missing", async () => {
    const { key } = await createKey(["candidates:read"]);
    const res = await call("/api/v1/api-keys/self", { key });
    expect(res.status).toBe(200);
    expect(((await envelope(res)).data as { scopes: string[] }).scopes).toEqual(["candidates:read"]);
    const list = await call("/api/v1/api-keys", { key });
    expect(list.status).toBe(403);
    expect((await envelope(list)).errors[0]!.message).toBe("Insufficient permissions: requires api_keys:read");
  });
});

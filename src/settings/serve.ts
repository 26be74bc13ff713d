import type { Context } from "hono";
import type { AppEnv } from "../gateway/context.ts";
import { SCRIPT, STYLE } from "./generated/assets.js";
import { renderPage } from "./page.ts";
import { hasSessionCookie } from "../people/session.ts";
import type { PersonSignIn } from "./person-markup.ts";

/**
 * The settings page (docs/design.md §8): one HTML page, one script, one stylesheet,
 * all bundled with the Worker and served from its own origin under a strict
 * Content-Security-Policy. Public routes: the page asks for a key itself and
 * talks to /api/v1/api-keys with it. The script and stylesheet are
 * src/settings/client/, bundled by scripts/build-settings.ts into
 * ./generated/assets.js (rebuilt before every use, see docs/managing-keys.md, "How it is built").
 */
export const SETTINGS_PATH = "/settings/api-keys";
export const SCRIPT_PATH = `${SETTINGS_PATH}/app.js`;
export const STYLE_PATH = `${SETTINGS_PATH}/app.css`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** On the page and its assets alike. */
export const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
} as const;

/** The page may change with any deploy: revalidate it every time (cheap: it has an ETag). */
const PAGE_CACHE = "no-cache";
/** Assets requested with their current content hash never change under that URL. */
const VERSIONED_ASSET_CACHE = "public, max-age=31536000, immutable";

interface Served {
  body: string;
  type: string;
  etag: string;
  version: string;
}

/** FNV-1a, 32-bit: a cheap, stable content hash for ETags and asset URLs (not a security measure). */
function contentHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

function served(body: string, type: string): Served {
  const version = contentHash(body);
  return { body, type, version, etag: `"${version}"` };
}

// Built on first use, then kept for the isolate's life: one page per sign-in variant (none without OIDC_ISSUER).
let built: { script: Served; style: Served; pages: Map<string, Served> } | null = null;

function assets() {
  if (built) return built;
  built = { script: served(SCRIPT, "text/javascript; charset=utf-8"), style: served(STYLE, "text/css; charset=utf-8"), pages: new Map() };
  return built;
}

function pageFor(signIn: PersonSignIn | null): Served {
  const { script, style, pages } = assets();
  const variant = signIn === null ? "" : `${signIn.sessionCookie ? "1" : "0"}${signIn.displayName}`;
  let page = pages.get(variant);
  if (!page) {
    const urls = { script: `${SCRIPT_PATH}?v=${script.version}`, style: `${STYLE_PATH}?v=${style.version}` };
    page = served(renderPage(urls, signIn), "text/html; charset=utf-8");
    pages.set(variant, page);
  }
  return page;
}

function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === etag || t === "*");
}

function respond(c: Context<AppEnv>, item: Served, cacheControl: string): Response {
  const headers = {
    ...SECURITY_HEADERS,
    "content-type": item.type,
    "cache-control": cacheControl,
    etag: item.etag,
  };
  if (notModified(c.req.header("if-none-match"), item.etag)) return new Response(null, { status: 304, headers });
  return new Response(item.body, { status: 200, headers });
}

function assetCache(c: Context<AppEnv>, item: Served): string {
  return c.req.query("v") === item.version ? VERSIONED_ASSET_CACHE : PAGE_CACHE;
}

export const settingsPage = (c: Context<AppEnv>) => {
  const people = c.get("state").runtime.people;
  if (people === null) return respond(c, pageFor(null), PAGE_CACHE);
  const signIn = { displayName: people.config.OIDC_DISPLAY_NAME, sessionCookie: hasSessionCookie(c.req.raw) };
  const res = respond(c, pageFor(signIn), PAGE_CACHE);
  res.headers.set("vary", "cookie");
  return res;
};
export const settingsScript = (c: Context<AppEnv>) => {
  const item = assets().script;
  return respond(c, item, assetCache(c, item));
};
export const settingsStyle = (c: Context<AppEnv>) => {
  const item = assets().style;
  return respond(c, item, assetCache(c, item));
};

import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { clientAddress } from "../auth/client-ip.ts";
import { hex } from "../crypto/encoding.ts";
import { p1363FromDerBase64, p256SpkiFromPem } from "../crypto/pem.ts";
import { GatewayError } from "../errors.ts";
import type { AppEnv } from "../gateway/context.ts";
import type { Runtime } from "../gateway/runtime.ts";
import { isWellFormedKey } from "../keys/format.ts";
import { hashKey } from "../keys/hash.ts";
import { revokeKey } from "../management/lifecycle.ts";
import { logLine } from "../log.ts";
import { invalidRequest } from "./validation.ts";
import { findKeyByHash, type KeyRow } from "../storage/records.ts";
import { storeFor } from "./keys-api.ts";

/**
 * POST /api/v1/secret-scanning/report (docs/operations.md "Leaked-key reports"): a secret
 * scanner (GitHub's secret scanning partner program and its format) reports
 * keys it found in public places. The body is signed with ECDSA P-256 /
 * SHA-256 by a key whose public half is configured (SECRET_SCANNING_PUBLIC_KEYS);
 * every reported key that exists is revoked at once, with a `revoked_leaked`
 * event carrying the URL. The answer says, per token, whether it was ours,
 * never whose. Order: size, signature (401), body (400), then revocations,
 * so a refused report changes nothing.
 */
export const REPORT_PATH = "/api/v1/secret-scanning/report";
export const SIGNATURE_KEY_ID_HEADER = "github-public-key-identifier";
export const SIGNATURE_HEADER = "github-public-key-signature";
export const SCANNER_ACTOR = "secret-scanning";

export const ReportBody = z
  .array(
    z.object({
      token: z.string().min(1, "token must not be empty").max(1_024, "token must be at most 1024 characters"),
      type: z.string().min(1, "type must not be empty").max(200, "type must be at most 200 characters"),
      url: z
        .string()
        .max(2_048, "url must be at most 2048 characters")
        .refine((u) => u === "" || /^https?:\/\/\S+$/.test(u), "url must be an http(s) URL")
        .openapi({ description: "Where the token was found (may be empty)" }),
      source: z.string().max(100, "source must be at most 100 characters").optional().openapi({ example: "content" }),
    }),
  )
  .min(1, "a report holds at least one token")
  .openapi("LeakedKeyReport", {
    example: [{ token: "pk_live_…", type: "ats_api_key", url: "https://github.com/octo/repo/blob/abc/config.js", source: "content" }],
  });

export const ReportResult = z
  .array(
    z.object({
      token_hash: z.string().openapi({ description: "Hex SHA-256 of the reported token (the token itself is not echoed)" }),
      token_type: z.string(),
      label: z.enum(["true_positive", "false_positive"]).openapi({
        description: "true_positive: the token is one of our keys (now revoked); false_positive: it is not. Never says whose key it is.",
      }),
    }),
  )
  .openapi("LeakedKeyReportResult");

type Report = z.output<typeof ReportBody>;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The body, refused past `max` bytes without reading further. */
async function boundedBody(request: Request, max: number): Promise<Uint8Array> {
  const tooLarge = () => new GatewayError("invalid_request", `Report body must be at most ${max} bytes`);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > max) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}

// Imported once per isolate and public key.
const importedKeys = new Map<string, Promise<CryptoKey>>();

function verifierFor(pem: string): Promise<CryptoKey> | null {
  let key = importedKeys.get(pem);
  if (!key) {
    const spki = p256SpkiFromPem(pem);
    if (!spki) return null;
    key = crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    importedKeys.set(pem, key);
  }
  return key;
}

async function verifySignature(rt: Runtime, headers: Headers, body: Uint8Array): Promise<string> {
  const refuse = (why: string) => new GatewayError("unauthorized", why);
  const keys = rt.config.SECRET_SCANNING_PUBLIC_KEYS;
  if (!keys) throw refuse("Leaked-key reports are not configured on this gateway");
  const keyId = headers.get(SIGNATURE_KEY_ID_HEADER);
  const signature = headers.get(SIGNATURE_HEADER);
  if (!keyId || !signature) throw refuse(`Missing ${SIGNATURE_KEY_ID_HEADER} or ${SIGNATURE_HEADER} header`);
  const pem = Object.hasOwn(keys, keyId) ? keys[keyId] : undefined;
  const verifier = pem === undefined ? null : verifierFor(pem);
  const raw = p1363FromDerBase64(signature);
  if (!verifier || !raw) throw refuse("Invalid report signature");
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await verifier, raw, body);
  if (!ok) throw refuse("Invalid report signature");
  return keyId;
}

function parseReport(rt: Runtime, body: Uint8Array): Report {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch {
    throw new GatewayError("invalid_request", "Report body must be UTF-8 JSON: an array of {token, type, url, source}");
  }
  const max = rt.config.SECRET_SCANNING_MAX_TOKENS;
  const result = ReportBody.max(max, `a report holds at most ${max} tokens`).safeParse(json);
  if (!result.success) throw invalidRequest(result.error.issues);
  return result.data;
}

/** The stored key a token is, under the current secret or the previous one (D1: the truth, no cache). */
async function storedKey(c: Context<AppEnv>, rt: Runtime, token: string): Promise<KeyRow | null> {
  if (!isWellFormedKey(token)) return null;
  const current = await findKeyByHash(c.env.DB, await hashKey(await rt.hashKey, token));
  if (current || !rt.previousHashKey) return current;
  return findKeyByHash(c.env.DB, await hashKey(await rt.previousHashKey, token));
}

export async function reportHandler(c: Context<AppEnv>): Promise<Response> {
  const rt = c.get("state").runtime;
  const now = Date.now();
  // Failed signatures count against the client address like failed keys: no free guessing at ECDSA cost.
  const client = clientAddress(c.req.header("cf-connecting-ip") ?? null);
  const retryAfter = rt.failures.retryAfter(client.limiterKey, now);
  if (retryAfter > 0) {
    throw new GatewayError("rate_limited", "Too many failed attempts; retry later", { "retry-after": String(retryAfter) });
  }
  const body = await boundedBody(c.req.raw, rt.config.SECRET_SCANNING_MAX_BODY_BYTES);
  let signer: string;
  try {
    signer = await verifySignature(rt, c.req.raw.headers, body);
  } catch (err) {
    rt.failures.recordFailure(client.limiterKey, now);
    throw err;
  }
  const report = parseReport(rt, body);

  const store = await storeFor(c);
  const results: z.output<typeof ReportResult> = [];
  let revoked = 0;
  const seen = new Map<string, boolean>();
  for (const item of report) {
    let found = seen.get(item.token);
    if (found === undefined) {
      const row = await storedKey(c, rt, item.token);
      found = row !== null;
      seen.set(item.token, found);
      if (row && (row.revoked_at === null || Date.parse(row.revoked_at) > now)) {
        await revokeKey(store, row, SCANNER_ACTOR, { type: "revoked_leaked", url: item.url });
        revoked++;
      }
    }
    const digest = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(item.token))));
    results.push({ token_hash: digest, token_type: item.type, label: found ? "true_positive" : "false_positive" });
  }
  logLine({ level: "info", event: "leaked_key_report", signer, tokens: report.length, revoked });
  // The scanner's own format (a bare array), not the envelope: GitHub reads this response as is.
  return new Response(JSON.stringify(results), {
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

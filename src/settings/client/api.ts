import type { z } from "@hono/zod-openapi";
import type { CreateKeyBody, EventSchema, RenameKeyBody, RotateKeyBody, UsageSchema } from "../../api/schemas.ts";
import type { KeyObject } from "../../management/object.ts";

/**
 * The management API (docs/design.md §8), same origin only. Request and response
 * types are the server's own (type-only imports: nothing of the server, zod
 * included, ends up in the bundle).
 */
export const API_PATH = "/api/v1/api-keys";

export type CreateKeyRequest = z.input<typeof CreateKeyBody>;
type RenameKeyRequest = z.input<typeof RenameKeyBody>;
type RotateKeyRequest = z.input<typeof RotateKeyBody>;
export type Usage = z.output<typeof UsageSchema>;
export type Granularity = Usage["granularity"];
export type KeyEvent = z.output<typeof EventSchema>;

/** Create and rotate answer with the key object plus the plaintext, shown once. */
export type NewKey = KeyObject & { key: string };
export interface KeyPage {
  items: KeyObject[];
  next_cursor: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Envelope {
  success?: unknown;
  data?: unknown;
  errors?: unknown;
}

function firstError(envelope: Envelope | null): { code?: unknown; message?: unknown } | null {
  const errors = envelope?.errors;
  if (!Array.isArray(errors)) return null;
  const first: unknown = errors[0];
  return typeof first === "object" && first !== null ? first : null;
}

/**
 * One call; resolves with the envelope's `data`, or throws an ApiError carrying the envelope's message.
 * `key` null: a signed-in person's call, authorized by the session cookie (same origin only).
 */
export async function call<T>(key: string | null, method: string, path: string, body?: object, base = API_PATH): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const credentials: RequestCredentials = key === null ? "same-origin" : "omit";
  const init: RequestInit = { method, headers, cache: "no-store", credentials, referrerPolicy: "no-referrer", redirect: "error" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(base + path, init);
  } catch {
    throw new ApiError(0, "network", "Could not reach the API. Check your connection and try again.");
  }
  let envelope: Envelope | null;
  try {
    envelope = (await res.json()) as Envelope | null;
  } catch {
    envelope = null;
  }
  // The gateway's own answers are typed by the server code above; the page trusts its own origin.
  if (res.ok && envelope && envelope.success === true) return envelope.data as T;
  const first = firstError(envelope);
  const message = typeof first?.message === "string" && first.message ? first.message : `The API answered with status ${res.status}.`;
  throw new ApiError(res.status, typeof first?.code === "string" && first.code ? first.code : "unknown", message);
}

const one = (id: string) => `/${encodeURIComponent(id)}`;

/** The API as the signed-in key (`currentKey()`, null for a person), plus `self` for a key not yet signed in with. */
export function apiClient(currentKey: () => string | null) {
  return {
    self: (key: string) => call<KeyObject>(key, "GET", "/self"),
    list: (limit: number, cursor: string | null) =>
      call<KeyPage>(currentKey(), "GET", `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
    get: (id: string) => call<KeyObject>(currentKey(), "GET", one(id)),
    create: (body: CreateKeyRequest) => call<NewKey>(currentKey(), "POST", "", body),
    rename: (id: string, body: RenameKeyRequest) => call<KeyObject>(currentKey(), "PATCH", one(id), body),
    rotate: (id: string, body: RotateKeyRequest) => call<NewKey>(currentKey(), "POST", `${one(id)}/rotate`, body),
    revoke: (id: string) => call<KeyObject>(currentKey(), "DELETE", one(id)),
    /** The key's audit trail, oldest first. */
    events: (id: string) => call<{ items: KeyEvent[] }>(currentKey(), "GET", `${one(id)}/events`),
    /** The default range: 24 hourly or 30 daily buckets up to now. */
    usage: (id: string, granularity: Granularity) => call<Usage>(currentKey(), "GET", `${one(id)}/usage?granularity=${granularity}`),
  };
}

export type Api = ReturnType<typeof apiClient>;

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";

/**
 * A small fake ATS API for local development (docs/design.md §9): what `npm start`
 * puts behind the gateway. Stateless: reads come from the fixed records below,
 * writes answer a plausible echo and change nothing.
 *
 * Every answer carries `meta`, which shows what the gateway told the origin
 * about the caller (the `X-Organization-Id`, `X-Api-Key-Id`, `X-Api-Key-Scopes`
 * and `X-Request-Id` headers it adds), so a user can see the identity headers at work.
 *
 *   node scripts/demo-origin.ts          # ORIGIN_PORT, default 8788
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type DemoRecord = { id: string } & { [key: string]: Json };

const RECORDS: Readonly<Record<string, readonly DemoRecord[]>> = {
  candidates: [
    { id: "cand_001", name: "Ada Lovelace", email: "ada@example.com", stage: "interview", source: "referral" },
    { id: "cand_002", name: "Grace Hopper", email: "grace@example.com", stage: "offer", source: "linkedin" },
    { id: "cand_003", name: "Alan Turing", email: "alan@example.com", stage: "screening", source: "careers-page" },
  ],
  jobs: [
    { id: "job_001", title: "Backend Engineer", department: "Engineering", location: "Remote", status: "open" },
    { id: "job_002", title: "Product Designer", department: "Design", location: "Lisbon", status: "open" },
    { id: "job_003", title: "Recruiter", department: "People", location: "Berlin", status: "closed" },
  ],
  applications: [
    { id: "app_001", candidate_id: "cand_001", job_id: "job_001", status: "active", applied_at: "2026-10-02T09:00:00.000Z" },
    { id: "app_002", candidate_id: "cand_002", job_id: "job_001", status: "active", applied_at: "2026-10-05T14:30:00.000Z" },
    { id: "app_003", candidate_id: "cand_003", job_id: "job_002", status: "rejected", applied_at: "2026-09-21T11:15:00.000Z" },
  ],
  interviews: [
    { id: "int_001", application_id: "app_001", kind: "technical", scheduled_at: "2026-11-30T10:00:00.000Z", status: "scheduled" },
    { id: "int_002", application_id: "app_002", kind: "culture", scheduled_at: "2026-11-20T15:00:00.000Z", status: "completed" },
  ],
  campaigns: [
    { id: "camp_001", name: "Backend hiring Q4", job_id: "job_001", stages: ["stg_001", "stg_002", "stg_003", "stg_004"] },
    { id: "camp_002", name: "Design hiring Q4", job_id: "job_002", stages: ["stg_001", "stg_003", "stg_004"] },
  ],
  stages: [
    { id: "stg_001", name: "Screening", position: 1 },
    { id: "stg_002", name: "Technical test", position: 2 },
    { id: "stg_003", name: "Interview", position: 3 },
    { id: "stg_004", name: "Offer", position: 4 },
  ],
  tests: [
    { id: "test_001", title: "API design exercise", language: "typescript", duration_minutes: 90 },
    { id: "test_002", title: "SQL fundamentals", language: "sql", duration_minutes: 45 },
  ],
  agents: [
    { id: "agent_001", name: "Screening assistant", voice: "alloy", tone: "friendly", language: "en" },
    { id: "agent_002", name: "Scheduling assistant", voice: "verse", tone: "concise", language: "en" },
  ],
  webhooks: [{ id: "wh_001", url: "https://hooks.example.com/ats", events: ["application.created", "offer.accepted"], active: true }],
  offers: [
    { id: "offer_001", application_id: "app_002", salary: 98000, currency: "EUR", status: "sent" },
    { id: "offer_002", application_id: "app_001", salary: 105000, currency: "EUR", status: "draft" },
  ],
  reports: [
    { id: "rep_001", kind: "test_result", application_id: "app_001", test_id: "test_001", score: 87 },
    { id: "rep_002", kind: "interview_feedback", application_id: "app_002", interview_id: "int_002", recommendation: "hire" },
  ],
  analytics: [
    { id: "time-to-hire", metric: "time_to_hire_days", value: 23.5, period: "2026-Q3" },
    { id: "funnel", metric: "applications_per_stage", value: { screening: 120, interview: 34, offer: 6 }, period: "2026-Q3" },
  ],
};

export const DEMO_RESOURCES: readonly string[] = Object.keys(RECORDS);

const ID_PREFIX: Readonly<Record<string, string>> = {
  candidates: "cand",
  jobs: "job",
  applications: "app",
  interviews: "int",
  campaigns: "camp",
  stages: "stg",
  tests: "test",
  agents: "agent",
  webhooks: "wh",
  offers: "offer",
  reports: "rep",
  analytics: "metric",
};

const MAX_BODY_BYTES = 1024 * 1024;

export interface DemoOrigin {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface DemoOriginOptions {
  /** Called once per request with a one-line summary (for `npm start`'s console). */
  log?: (line: string) => void;
}

/** What the gateway says about the caller, as the origin received it. */
function callerOf(req: IncomingMessage) {
  const header = (name: string): string | null => {
    const v = req.headers[name];
    return typeof v === "string" ? v : null;
  };
  const scopes = header("x-api-key-scopes");
  return {
    served_by: "demo-origin",
    organization_id: header("x-organization-id"),
    api_key_id: header("x-api-key-id"),
    api_key_scopes: scopes === null ? null : scopes.split(" ").filter(Boolean),
    request_id: header("x-request-id"),
    api_key_mode: header("x-api-key-mode"),
  };
}

type Caller = ReturnType<typeof callerOf>;

function send(res: ServerResponse, status: number, body: Json | undefined, caller: Caller, error?: { code: string; message: string }) {
  const payload = error
    ? { success: false, data: null, errors: [error], meta: caller }
    : { success: true, data: body ?? null, errors: [], meta: caller };
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text); // Node drops the body of a HEAD response itself.
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: Json | undefined } | { ok: false; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) return { ok: false, message: "Body larger than 1 MiB" };
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch {
    return { ok: false, message: "Body is not valid JSON" };
  }
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

function newId(resource: string): string {
  return `${ID_PREFIX[resource] ?? "obj"}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const caller = callerOf(req);
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", "http://origin.invalid");
  // One trailing slash is allowed (the gateway forwards it as sent): `/api/v1/jobs/` is `/api/v1/jobs`.
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, "") : url.pathname;
  const parts = path.split("/").slice(1); // ["api", "v1", resource, id?]
  const notFound = () => send(res, 404, undefined, caller, { code: "not_found", message: `No such resource: ${url.pathname}` });
  const notAllowed = () =>
    send(res, 405, undefined, caller, { code: "method_not_allowed", message: `Method ${method} is not allowed here` });

  if (url.pathname === "/" || url.pathname === "/healthz") {
    if (method !== "GET" && method !== "HEAD") return notAllowed();
    return send(res, 200, { status: "ok", resources: [...DEMO_RESOURCES] }, caller);
  }
  if (parts[0] !== "api" || parts[1] !== "v1") return notFound();

  // POST /api/v1/bulk/<resource>: one result per item.
  if (parts[2] === "bulk") {
    const resource = parts[3];
    if (resource === undefined || !(resource in RECORDS) || parts.length > 4) return notFound();
    if (method !== "POST") return notAllowed();
    const body = await readJson(req);
    if (!body.ok) return send(res, 400, undefined, caller, { code: "invalid_request", message: body.message });
    const items = Array.isArray(body.value)
      ? body.value
      : isObject(body.value) && Array.isArray(body.value.items)
        ? body.value.items
        : null;
    if (items === null) {
      return send(res, 400, undefined, caller, { code: "invalid_request", message: 'Expected a JSON array or {"items": [...]}' });
    }
    const results: Json[] = items.map((item): Json => (isObject(item) ? { ...item, id: newId(resource) } : { error: "not an object" }));
    return send(res, 202, { resource, accepted: items.length, results }, caller);
  }

  const resource = parts[2];
  if (resource === undefined || !(resource in RECORDS) || parts.length > 4) return notFound();
  const records = RECORDS[resource] ?? [];
  const id = parts[3];

  if (id === undefined) {
    if (method === "GET" || method === "HEAD") return send(res, 200, [...records], caller);
    if (method === "POST") {
      const body = await readJson(req);
      if (!body.ok) return send(res, 400, undefined, caller, { code: "invalid_request", message: body.message });
      const fields = isObject(body.value) ? body.value : {};
      return send(res, 201, { ...fields, id: newId(resource), created_at: new Date().toISOString() }, caller);
    }
    return notAllowed();
  }

  const record = records.find((r) => r.id === id);
  if (!record) return notFound();
  switch (method) {
    case "GET":
    case "HEAD":
      return send(res, 200, record, caller);
    case "PUT":
    case "PATCH": {
      const body = await readJson(req);
      if (!body.ok) return send(res, 400, undefined, caller, { code: "invalid_request", message: body.message });
      const fields = isObject(body.value) ? body.value : {};
      const base: { [key: string]: Json } = method === "PATCH" ? { ...record } : {};
      return send(res, 200, { ...base, ...fields, id: record.id, updated_at: new Date().toISOString() }, caller);
    }
    case "DELETE":
      return send(res, 200, { id: record.id, deleted: true }, caller);
    default:
      return notAllowed();
  }
}

/** Starts the demo origin on 127.0.0.1 (port 0: any free port). */
export async function startDemoOrigin(
  port = Number(process.env.ORIGIN_PORT ?? 8788),
  options: DemoOriginOptions = {},
): Promise<DemoOrigin> {
  const server = createServer((req, res) => {
    const started = performance.now();
    res.on("finish", () => {
      if (!options.log || req.url === "/healthz") return;
      const caller = callerOf(req);
      const ms = (performance.now() - started).toFixed(1);
      options.log(
        `${req.method ?? "?"} ${req.url ?? "?"} ${res.statusCode} org=${caller.organization_id ?? "-"} key=${caller.api_key_id ?? "-"} ${ms}ms`,
      );
    });
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, undefined, callerOf(req), { code: "internal_error", message: "Demo origin failed" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const origin = await startDemoOrigin(undefined, { log: (line) => console.log(`[origin] ${line}`) });
  console.log(`Demo origin listening on ${origin.url} (try ${origin.url}/api/v1/candidates)`);
  const stop = () => void origin.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

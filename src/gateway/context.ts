import type { Authenticated } from "../auth/authenticate.ts";
import type { PersonAuth } from "../people/authenticate.ts";
import type { Tier } from "../auth/lookup.ts";
import type { AuthRecord } from "../storage/records.ts";
import type { Bindings } from "../env.ts";
import type { ErrorCode } from "../errors.ts";
import type { RequestLine } from "../request/line.ts";
import type { Route } from "../routes/table.ts";
import type { Runtime } from "./runtime.ts";

/** What the pipeline learns about one request, for the gateway's handlers and the log line. */
export interface RequestState {
  requestId: string;
  started: number;
  runtime?: Runtime;
  line?: RequestLine;
  route?: Route;
  routePattern?: string;
  auth?: Authenticated;
  /** A person, on a `key_or_person` route with sign-in configured (never on a proxied route). */
  person?: PersonAuth;
  /** The key the request was made with once identified, valid or not: what usage is counted against. */
  identified?: AuthRecord;
  cacheTier: Tier | null;
  outcome: ErrorCode | "proxied" | "ok";
  /** RateLimit-Policy / RateLimit for a limited key's response, whatever it is. */
  limitHeaders?: [string, string][];
}

/** A request the pipeline admitted to one of the gateway's own endpoints. */
export interface AdmittedState extends RequestState {
  runtime: Runtime;
  /** Absent on public routes (healthz, settings page, OpenAPI) and when a person is the caller. */
  auth?: Authenticated;
}

/** Hono's view, for the gateway's own endpoints (management API, settings page, healthz). */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    state: AdmittedState;
  };
}

import type { Authenticated } from "../auth/authenticate.ts";
import type { Tier } from "../auth/lookup.ts";
import type { Bindings } from "../env.ts";
import type { ErrorCode } from "../errors.ts";
import type { RequestLine } from "../request/line.ts";
import type { Route } from "../routes/table.ts";
import type { Runtime } from "./runtime.ts";

/** What the pipeline learns about a request, for handlers and the log line. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    runtime: Runtime;
    line: RequestLine;
    route: Route;
    routePattern: string;
    auth: Authenticated;
    cacheTier: Tier | null;
    outcome: ErrorCode | "proxied" | "ok";
  };
}

import type { AuthRecord } from "../storage/records.ts";

/** Identity headers only the gateway may set (DESIGN §6). */
export const IDENTITY_HEADERS = ["x-api-key-id", "x-organization-id", "x-api-key-scopes", "x-request-id", "x-gateway-token"];

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** Headers a client could use to make the origin see another URL or client. */
const ROUTING_OVERRIDES = ["host", "x-original-url", "x-rewrite-url", "forwarded", "x-real-ip", "true-client-ip"];

export interface ForwardIdentity {
  key: AuthRecord;
  requestId: string;
  clientIp: string;
  proto: string;
  host: string;
  forwardAuthorization: boolean;
  originToken: string | undefined;
}

function isStripped(name: string, connectionListed: ReadonlySet<string>): boolean {
  return (
    HOP_BY_HOP.includes(name) ||
    ROUTING_OVERRIDES.includes(name) ||
    IDENTITY_HEADERS.includes(name) ||
    name.startsWith("x-forwarded-") ||
    name.startsWith("cf-") ||
    connectionListed.has(name)
  );
}

/** The headers the origin receives: the client's, minus anything it could spoof, plus the gateway's. */
export function originRequestHeaders(incoming: Headers, id: ForwardIdentity): Headers {
  const connectionListed = new Set(
    (incoming.get("connection") ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (isStripped(name, connectionListed)) continue;
    if (name === "authorization" && !id.forwardAuthorization) continue;
    out.append(name, value);
  }
  out.set("x-api-key-id", id.key.id);
  out.set("x-organization-id", id.key.organization_id);
  out.set("x-api-key-scopes", id.key.scopes.join(" "));
  out.set("x-request-id", id.requestId);
  out.set("x-forwarded-for", id.clientIp);
  out.set("x-forwarded-proto", id.proto);
  out.set("x-forwarded-host", id.host);
  if (id.originToken !== undefined) out.set("x-gateway-token", id.originToken);
  return out;
}

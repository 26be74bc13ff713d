/**
 * Bench row 2LS: row 2L (pass-through + the gateway's log line) plus the
 * signed identity every proxied request must carry since the trust features
 * (docs/origin.md "Signed identity for the origin"): the same Ed25519 JWS, made by
 * the project's own signer with the same claims, sent to the origin as
 * X-Gateway-Identity on a copy of the client's headers. What that required
 * work costs any Worker here: the gateway's distance to this row is what its
 * own logic costs on top (informational target T1s).
 */
import { parseIdentityConfig } from "../../src/config.ts";
import { createSigner, type IdentitySigner } from "../../src/identity/signer.ts";
import { logFloorLine } from "./floor-log.ts";

interface SignEnv {
  ORIGIN_URL: string;
  IDENTITY_SIGNING_KEY: string;
}

let signer: Promise<IdentitySigner> | undefined;

export default {
  async fetch(request: Request, env: SignEnv): Promise<Response> {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const path = pathStart === -1 ? "/" : url.slice(pathStart);
    signer ??= createSigner(parseIdentityConfig(env));
    const token = await (await signer).sign(
      { key_id: "key_0123456789abcdefghij", org: "bench", scopes: ["candidates:read"], mode: "live", request_id: requestId, method: request.method, path },
      Date.now(),
    );
    const headers = new Headers(request.headers);
    headers.set("x-gateway-identity", token);
    const res = await fetch(env.ORIGIN_URL + path, { method: request.method, headers, body: request.body });
    logFloorLine("proxied", request.method, res.status, started, requestId);
    return res;
  },
} satisfies ExportedHandler<SignEnv>;

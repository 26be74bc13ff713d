import * as oauth from "oauth4webapi";
import type { OidcConfig } from "../config.ts";
import { GatewayError } from "../errors.ts";
import { logLine, errorText } from "../log.ts";
import { ProviderKeys } from "./jwks.ts";

/**
 * The identity provider as this isolate knows it: its discovery document
 * (/.well-known/openid-configuration, fetched once per isolate and kept), its
 * signing keys, and this gateway as its confidential client. OAuth is
 * oauth4webapi's (docs/sign-in.md says why): nothing here builds a token
 * request or parses a response by hand.
 */
export interface Provider {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  /** http is allowed for a loopback issuer only (src/config.ts refuses it elsewhere). */
  http: { [oauth.allowInsecureRequests]?: boolean };
  keys: ProviderKeys;
}

const TIMEOUT_MS = 10_000;

export class ProviderHandle {
  private provider: Promise<Provider> | null = null;

  constructor(private readonly config: OidcConfig) {}

  get(): Promise<Provider> {
    if (this.provider) return this.provider;
    const next = discover(this.config);
    // A provider that could not be reached is asked again by the next request, not cached as down.
    next.catch((err: unknown) => {
      logLine({ level: "error", event: "oidc_discovery_failed", message: errorText(err) });
      if (this.provider === next) this.provider = null;
    });
    this.provider = next;
    return next.catch(() => {
      throw new GatewayError("service_unavailable", "The identity provider could not be reached");
    });
  }
}

async function discover(config: OidcConfig): Promise<Provider> {
  const issuer = new URL(config.OIDC_ISSUER);
  const http = issuer.protocol === "http:" ? { [oauth.allowInsecureRequests]: true } : {};
  const options = { ...http, signal: AbortSignal.timeout(TIMEOUT_MS) };
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: "oidc" }));
  if (!as.jwks_uri || !as.authorization_endpoint || !as.token_endpoint) {
    throw new Error("the discovery document lacks jwks_uri, authorization_endpoint or token_endpoint");
  }
  const keys = new ProviderKeys(as.jwks_uri, async (url) => {
    const res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) throw new Error(`jwks_uri answered ${res.status}`);
    return res.json();
  });
  return {
    as,
    client: { client_id: config.OIDC_CLIENT_ID },
    clientAuth:
      config.OIDC_TOKEN_AUTH_METHOD === "client_secret_post"
        ? oauth.ClientSecretPost(config.OIDC_CLIENT_SECRET)
        : oauth.ClientSecretBasic(config.OIDC_CLIENT_SECRET),
    http,
    keys,
  };
}

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import Provider, { type Configuration, type KoaContextWithOIDC } from "oidc-provider";

/**
 * A real OpenID Provider for local runs and tests: the certified
 * `oidc-provider` package on 127.0.0.1 only, with demo people in organization
 * `demo`, a login form that checks their passwords, refresh tokens for the
 * gateway's client and JWT access tokens for the management API's audience
 * (RFC 8707 resource indicators). `npm start` runs it beside the demo origin
 * (scripts/start.ts); test/node/sign-in.e2e.test.ts and the browser test run
 * it too. docs/sign-in.md describes it.
 *
 *   node scripts/local-idp.ts    (env IDP_PORT, default 8789; GATEWAY_ORIGIN, default http://127.0.0.1:8787)
 */

export interface DemoPerson {
  sub: string;
  email: string;
  password: string;
  name: string;
  org_id: string | null;
  roles: string[];
}

export const DEMO_PEOPLE: readonly DemoPerson[] = [
  { sub: "demo-admin", email: "admin@demo.test", password: "demo-admin-password", name: "Ada Admin", org_id: "demo", roles: ["admin"] },
  {
    sub: "demo-viewer",
    email: "viewer@demo.test",
    password: "demo-viewer-password",
    name: "Victor Viewer",
    org_id: "demo",
    roles: ["viewer"],
  },
];

/** The local client the gateway signs in as; the secret is for loopback use only. */
export const LOCAL_CLIENT_ID = "ats-gateway-local";
/** The access tokens' audience: OIDC_AUDIENCE of a gateway using this IdP. */
export const LOCAL_AUDIENCE = "urn:ats-edge-gateway:management";
/** Role → scopes for the demo: the admin may hand out every scope, the viewer only looks. */
export const LOCAL_ROLE_SCOPES = { admin: ["*"], viewer: ["api_keys:read"] };

export interface LocalIdpOptions {
  /** 0: any free port. */
  port?: number;
  /** Gateway origins allowed as redirect targets (their /settings/callback and /settings/api-keys). */
  gatewayOrigins: string[];
  clientSecret?: string;
  /** The signing key (a private RSA JWK with kid and alg); default: a fresh one. Tests pass their own to forge tokens with it. */
  signingKey?: JWK;
  people?: readonly DemoPerson[];
  /** Access token and ID token lifetime, seconds. */
  tokenTtlS?: number;
}

export interface LocalIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  audience: string;
  people: readonly DemoPerson[];
  /** A disabled person cannot sign in, and their refresh tokens stop working. */
  setDisabled(email: string, disabled: boolean): void;
  close(): Promise<void>;
}

export async function freshSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `local-${randomBytes(6).toString("hex")}`, alg: "RS256", use: "sig" };
}

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c] ?? c);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}label,input,button{display:block;width:100%;margin:.4rem 0}input{padding:.5rem}button{padding:.6rem;font-weight:600}.error{color:#b00020}</style>
</head><body>${body}</body></html>`;
}

function loginForm(uid: string, error: string | null, email = ""): string {
  return page(
    "Sign in · local identity provider",
    `<h1>Local identity provider</h1>
<p>Sign in as a demo person (printed by <code>npm start</code>).</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ""}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" value="${esc(email)}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error("form too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startLocalIdp(options: LocalIdpOptions): Promise<LocalIdp> {
  const people = options.people ?? DEMO_PEOPLE;
  const disabled = new Set<string>();
  const bySub = new Map(people.map((p) => [p.sub, p]));
  const clientSecret = options.clientSecret ?? randomBytes(32).toString("base64url");
  const signingKey = options.signingKey ?? (await freshSigningKey());
  const ttl = options.tokenTtlS ?? 600;

  // The port first, so the issuer (which names it) is known before the provider is built.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port ?? 0, host: "127.0.0.1" }, () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const claimsOf = (p: DemoPerson) => ({
    sub: p.sub,
    email: p.email,
    email_verified: true,
    name: p.name,
    ...(p.org_id === null ? {} : { org_id: p.org_id }),
    roles: p.roles,
  });
  const active = (sub: string | undefined) => {
    const p = sub === undefined ? undefined : bySub.get(sub);
    return p && !disabled.has(p.sub) ? p : undefined;
  };

  const configuration: Configuration = {
    clients: [
      {
        client_id: LOCAL_CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: options.gatewayOrigins.map((o) => `${o}/settings/callback`),
        post_logout_redirect_uris: options.gatewayOrigins.map((o) => `${o}/settings/api-keys`),
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    scopes: ["openid", "offline_access", "email", "profile"],
    // The organization and roles ride with openid, so every ID token carries them (as Auth0 actions or Okta claims would).
    claims: { openid: ["sub", "org_id", "roles"], email: ["email", "email_verified"], profile: ["name"] },
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => {
      const p = active(sub);
      return p ? { accountId: p.sub, claims: async () => claimsOf(p) } : undefined;
    },
    // A first-party client: no consent screen. Every grant holds what the gateway asks for.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const client = ctx.oidc.client;
      const accountId = ctx.oidc.session?.accountId;
      if (!client || !accountId) return undefined;
      const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(client.clientId);
      if (existing) {
        const grant = await ctx.oidc.provider.Grant.find(existing);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
      grant.addOIDCScope("openid offline_access email profile");
      grant.addResourceScope(LOCAL_AUDIENCE, "api_keys");
      await grant.save();
      return grant;
    },
    // Refresh tokens for the gateway's client whether or not the prompt was consent (offline_access needs it otherwise).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    // Not rotated: two requests of one session refreshing at once must not look like a stolen token's reuse.
    rotateRefreshToken: false,
    extraTokenClaims: async (_ctx, token) => {
      const p = active((token as { accountId?: string }).accountId);
      return p ? { email: p.email, ...(p.org_id === null ? {} : { org_id: p.org_id }), roles: p.roles } : undefined;
    },
    ttl: { AccessToken: ttl, IdToken: ttl, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 86_400, RefreshToken: 86_400 },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Signs out of the IdP at once (no "are you sure" page): the gateway already asked.
        logoutSource: async (ctx, form) => {
          ctx.body = page(
            "Signing out",
            `${form}<button type="submit" form="op.logoutForm" value="yes" name="logout" id="logout-yes">Sign out of the local identity provider</button>
<script>document.getElementById("logout-yes").click()</script>`,
          );
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== LOCAL_AUDIENCE) throw new Error("unknown resource");
          return {
            scope: "api_keys",
            audience: LOCAL_AUDIENCE,
            accessTokenFormat: "jwt",
            accessTokenTTL: ttl,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const html = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-frame-options": "DENY" });
      res.end(body);
    };
    if (details.prompt.name === "consent") return consent(req, res, details);
    if (req.method === "GET") return html(200, loginForm(details.uid, null));
    if (req.method !== "POST" || !path.endsWith("/login")) return html(405, page("Not allowed", "<p>Not allowed.</p>"));
    const form = await formBody(req);
    const email = form.get("email") ?? "";
    const password = form.get("password") ?? "";
    const person = people.find((p) => p.email === email);
    // Compared whatever the email, so a wrong email takes as long as a wrong password.
    const ok = sameSecret(password, person?.password ?? randomBytes(16).toString("hex")) && person !== undefined;
    // 200, as login pages answer a wrong password: the form again, with the error.
    if (!ok) return html(200, loginForm(details.uid, "Wrong email or password", email));
    if (disabled.has(person.sub)) return html(200, loginForm(details.uid, "This account is disabled", email));
    await provider.interactionFinished(req, res, { login: { accountId: person.sub } }, { mergeWithLastSubmission: false });
  }

  /** A first-party client: whatever it asks for beyond the grant is granted without a screen. */
  async function consent(req: IncomingMessage, res: ServerResponse, details: Awaited<ReturnType<typeof provider.interactionDetails>>) {
    const accountId = details.session?.accountId;
    if (!accountId) throw new Error("consent without a session");
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(resource, scopes.join(" "));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", issuer).pathname;
    if (!path.startsWith("/interaction/")) return void callback(req, res);
    interaction(req, res, path).catch(() => {
      if (!res.headersSent) res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      res.end("This sign-in has expired or is invalid: start again from the settings page.");
    });
  });

  return {
    issuer,
    clientId: LOCAL_CLIENT_ID,
    clientSecret,
    audience: LOCAL_AUDIENCE,
    people,
    setDisabled(email, value) {
      const p = people.find((x) => x.email === email);
      if (!p) throw new Error(`no demo person ${email}`);
      if (value) disabled.add(p.sub);
      else disabled.delete(p.sub);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The gateway settings that point it at this IdP (as wrangler --var or .dev.vars lines). */
export function gatewayVars(idp: LocalIdp, sessionSecret: string): Record<string, string> {
  return {
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_AUDIENCE: idp.audience,
    OIDC_DISPLAY_NAME: "the local identity provider",
    OIDC_ROLE_SCOPES: JSON.stringify(LOCAL_ROLE_SCOPES),
    SESSION_SECRET: sessionSecret,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.IDP_PORT ?? 8789);
  const origin = process.env.GATEWAY_ORIGIN ?? "http://127.0.0.1:8787";
  const idp = await startLocalIdp({ port, gatewayOrigins: [origin] });
  console.log(`Local identity provider: ${idp.issuer} (client ${idp.clientId}, secret ${idp.clientSecret})`);
  for (const p of idp.people) console.log(`  ${p.email} / ${p.password} (${p.roles.join(", ")} of ${p.org_id})`);
}

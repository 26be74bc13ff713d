import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { constants } from "node:os";
import { ConfigError, ConfigSchema, IdentityConfigSchema } from "../src/config.ts";
import { closest } from "./lib/cli-args.ts";
import { createKey, revokeKey } from "../src/management/lifecycle.ts";
import { keyState } from "../src/keys/key-state.ts";
import { listKeysInOrg } from "../src/storage/records.ts";
import { startDemoOrigin, type DemoOrigin } from "./demo-origin.ts";
import { gatewayVars, startLocalIdp, type LocalIdp } from "./local-idp.ts";
import { localKeyStore } from "./lib/key-store.ts";
import {
  applyLocalMigrations,
  DEFAULT_DEV_VARS,
  ensureDevVars,
  LocalStateError,
  openLocalBindings,
  PROJECT_DIR,
  randomHashSecret,
  resolveDevVars,
  resolvePersistTo,
  WRANGLER_BIN,
  WRANGLER_CONFIG,
  type LocalBindings,
} from "./lib/local-state.ts";

/**
 * `npm start` (docs/design.md §9): local secrets, local D1 migrations, two fresh demo
 * keys, the demo origin (unless --origin names a real one) and `wrangler dev`;
 * prints the keys and a curl line once the servers answer.
 *
 *   node scripts/start.ts [--origin URL] [--persist-to DIR] [--dev-vars PATH]
 *   env: PORT (gateway, default 8787), ORIGIN_PORT (demo origin, default 8788),
 *        IDP_PORT (local identity provider, default 8789), ORIGIN_URL, TEST_ORIGIN_URL, DEV_VARS_PATH
 *
 * Unless the secrets file sets OIDC_ISSUER (a real identity provider), it also
 * starts the local identity provider (scripts/local-idp.ts) and points the
 * gateway at it, so people can sign in: their emails and passwords are printed
 * with the keys (docs/sign-in.md).
 */

const USAGE = `Usage: npm start -- [--origin URL] [--persist-to DIR] [--dev-vars PATH]

Starts the gateway (wrangler dev) on 127.0.0.1:$PORT (default 8787) in front of a
demo ATS origin on 127.0.0.1:$ORIGIN_PORT (default 8788), and a local identity
provider on 127.0.0.1:$IDP_PORT (default 8789) unless the secrets file sets
OIDC_ISSUER; prints two demo keys and the demo people's sign-in.

  --origin URL       send proxied requests to this origin instead (env ORIGIN_URL);
                     no demo origin starts. pk_test_ keys go to $TEST_ORIGIN_URL if set,
                     else to the same URL
  --persist-to DIR   local D1/KV state directory (default .wrangler/state)
  --dev-vars PATH    secrets file to use and create if missing (default .dev.vars;
                     env DEV_VARS_PATH); passed to wrangler dev as --env-file
`;

const DEMO_ORG = "demo";
const DEMO_KEYS = [
  { name: "demo-admin", scopes: ["*"], variable: "DEMO_ADMIN_KEY" },
  { name: "demo-read", scopes: ["candidates:read"], variable: "DEMO_READ_KEY" },
] as const;
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

class UsageError extends Error {}

interface Options {
  port: number;
  originPort: number;
  idpPort: number;
  /** A real origin to forward to (--origin or ORIGIN_URL), validated as the Worker would; null: the demo origin. */
  origin: { url: string; testUrl: string } | null;
  persistTo: string | undefined;
  devVarsPath: string;
}

function parsePort(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new UsageError(`${name} must be a port number (1-65535), got "${value}"`);
  return n;
}

const FLAGS = ["--origin", "--persist-to", "--dev-vars"] as const;

/** An origin URL by the Worker's own rule (ConfigSchema.ORIGIN_URL), or a usage error naming where it came from. */
function parseOrigin(what: string, value: string): string {
  const r = ConfigSchema.shape.ORIGIN_URL.safeParse(value);
  if (!r.success) throw new UsageError(`${what} must be http(s)://host[:port][/prefix], without query, fragment or credentials`);
  return r.data;
}

function parseArgs(argv: readonly string[]): Options | "help" {
  let persistTo: string | undefined;
  let devVars: string | undefined = process.env.DEV_VARS_PATH || undefined;
  let origin: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    const eq = arg.indexOf("=");
    const [flag, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (!(FLAGS as readonly string[]).includes(flag)) {
      const near = arg.startsWith("--")
        ? closest(
            flag.slice(2),
            FLAGS.map((f) => f.slice(2)),
          )
        : null;
      throw new UsageError(`Unknown argument: ${arg}${near === null ? "" : ` (did you mean --${near}?)`}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
    if (flag === "--persist-to") persistTo = value;
    else if (flag === "--origin") origin = parseOrigin("--origin", value);
    else devVars = value;
  }
  if (origin === undefined && process.env.ORIGIN_URL) origin = parseOrigin("ORIGIN_URL", process.env.ORIGIN_URL);
  const testOrigin = process.env.TEST_ORIGIN_URL ? parseOrigin("TEST_ORIGIN_URL", process.env.TEST_ORIGIN_URL) : origin;
  const port = parsePort("PORT", process.env.PORT, 8787);
  const originPort = parsePort("ORIGIN_PORT", process.env.ORIGIN_PORT, 8788);
  const idpPort = parsePort("IDP_PORT", process.env.IDP_PORT, 8789);
  if (origin === undefined && port === originPort) throw new UsageError(`PORT and ORIGIN_PORT must differ (both are ${port})`);
  if (idpPort === port || (origin === undefined && idpPort === originPort)) {
    throw new UsageError(`IDP_PORT must differ from PORT and ORIGIN_PORT (${idpPort})`);
  }
  return {
    port,
    originPort,
    idpPort,
    origin: origin === undefined ? null : { url: origin, testUrl: testOrigin ?? origin },
    persistTo,
    devVarsPath: resolveDevVars(devVars),
  };
}

/** Null when 127.0.0.1:port can be bound right now, else the error code (EADDRINUSE, EACCES, …). */
function probePort(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(null)));
  });
}

function portProblem(port: number, code: string, variable: string, what: string): string {
  const why = code === "EADDRINUSE" ? "is already in use" : `cannot be opened (${code})`;
  return (
    `Port ${port} on 127.0.0.1 ${why}: ${what} needs it. ` +
    `Stop whatever is listening there (another \`npm start\`?) or choose another port, e.g. ${variable}=${port + 10} npm start`
  );
}

/**
 * Revokes the earlier demo keys (so they do not pile up; with KV tombstones,
 * so a record a previous run cached cannot bring one back) and creates fresh
 * ones, through the same lifecycle the API and `npm run keys` use.
 */
async function issueDemoKeys(bindings: LocalBindings): Promise<{ keys: Map<string, string>; revoked: number }> {
  const store = await localKeyStore(bindings);
  const now = Date.now();
  const names: readonly string[] = DEMO_KEYS.map((k) => k.name);
  const earlier = (await listKeysInOrg(store.db, DEMO_ORG, 1_000, null)).filter(
    (row) => names.includes(row.name) && keyState(row, now) !== "revoked",
  );
  for (const row of earlier) await revokeKey(store, row, "cli");
  const keys = new Map<string, string>();
  for (const spec of DEMO_KEYS) {
    const created = await createKey(store, {
      organizationId: DEMO_ORG,
      name: spec.name,
      scopes: spec.scopes,
      expiresAt: null,
      actor: "cli",
    });
    keys.set(spec.variable, created.key);
  }
  return { keys, revoked: earlier.length };
}

async function answers(url: string, check: (res: Response) => boolean): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return check(res);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The running `wrangler dev`, once spawned: whatever way this process ends, it must not outlive it. */
let wrangler: ChildProcess | null = null;

const isRunning = (child: ChildProcess | null): child is ChildProcess =>
  child !== null && child.exitCode === null && child.signalCode === null;

async function main(): Promise<void> {
  let options: Options | "help";
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`npm start: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const { port, originPort, idpPort, devVarsPath } = options;
  const persistTo = resolvePersistTo(options.persistTo);

  let origin: DemoOrigin | null = null;
  let idp: LocalIdp | null = null;
  let stopping = false;

  const finish = async (code: number): Promise<never> => {
    await origin?.close().catch(() => {});
    await idp?.close().catch(() => {});
    process.exit(code);
  };
  const fail = async (message: string, code = 1): Promise<never> => {
    console.error(`\nnpm start: ${message}`);
    if (isRunning(wrangler)) wrangler.kill("SIGTERM");
    return finish(code);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl+C: stop waiting.
      if (isRunning(wrangler)) wrangler.kill("SIGKILL");
      void finish(130);
      return;
    }
    stopping = true;
    if (isRunning(wrangler)) {
      const child = wrangler;
      child.kill(signal);
      setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS).unref();
    } else {
      void finish(0);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // 1. Local secrets.
  const devVars = await ensureDevVars(devVarsPath);
  const shownDevVars = devVarsPath === DEFAULT_DEV_VARS ? ".dev.vars" : devVarsPath;
  const addedNames = devVars.added.join(" and ");
  if (devVars.action === "created") console.log(`Created ${shownDevVars} with a random ${addedNames}.`);
  if (devVars.action === "appended") console.log(`Added a random ${addedNames} to ${shownDevVars}.`);
  const secretCheck = ConfigSchema.shape.KEY_HASH_SECRET.safeParse(devVars.keyHashSecret);
  if (!secretCheck.success) {
    const why = secretCheck.error.issues[0]?.message ?? "must be at least 32 bytes";
    return fail(
      `KEY_HASH_SECRET in ${shownDevVars} ${why}. Replace it (every local key will stop working) or delete the line to get a random one.`,
    );
  }
  const signingCheck = IdentityConfigSchema.shape.IDENTITY_SIGNING_KEY.safeParse(devVars.vars.IDENTITY_SIGNING_KEY);
  if (!signingCheck.success) {
    const why = signingCheck.error.issues[0]?.message ?? "must be an Ed25519 private key as a JWK (JSON)";
    return fail(`IDENTITY_SIGNING_KEY in ${shownDevVars} ${why}. Delete the line to get a random one.`);
  }

  // 2. Both ports free, before anything slow happens.
  const problems: string[] = [];
  const gatewayBusy = await probePort(port);
  if (gatewayBusy) problems.push(portProblem(port, gatewayBusy, "PORT", "the gateway (wrangler dev)"));
  const originBusy = options.origin === null ? await probePort(originPort) : null;
  if (originBusy) problems.push(portProblem(originPort, originBusy, "ORIGIN_PORT", "the demo origin"));
  // A real identity provider configured in the secrets file replaces the local one.
  const withLocalIdp = !devVars.vars.OIDC_ISSUER;
  const idpBusy = withLocalIdp ? await probePort(idpPort) : null;
  if (idpBusy) problems.push(portProblem(idpPort, idpBusy, "IDP_PORT", "the local identity provider"));
  if (problems.length > 0) return fail(problems.join("\n"));

  // 3. The demo origin holds its port from now on (none when a real origin was named).
  if (options.origin === null) {
    try {
      origin = await startDemoOrigin(originPort, { log: (line) => console.log(`[origin] ${line}`) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return fail(portProblem(originPort, code, "ORIGIN_PORT", "the demo origin"));
    }
  }
  const originUrl = options.origin?.url ?? origin!.url;
  const testOriginUrl = options.origin?.testUrl ?? origin!.url;

  // 3b. The local identity provider, for the gateway's origin.
  const gatewayUrl = `http://127.0.0.1:${port}`;
  if (withLocalIdp) {
    try {
      idp = await startLocalIdp({ port: idpPort, gatewayOrigins: [gatewayUrl] });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return fail(portProblem(idpPort, code, "IDP_PORT", "the local identity provider"));
    }
  }

  // 4. Local D1 migrations.
  console.log("Applying local D1 migrations…");
  try {
    const { applied } = await applyLocalMigrations({ persistTo });
    console.log(applied.length > 0 ? `Applied ${applied.join(", ")}.` : "Local D1 is up to date.");
  } catch (err) {
    if (err instanceof LocalStateError) return fail(`${err.message}\n${err.output}`);
    throw err;
  }

  // 5. Fresh demo keys, through the same local D1 and KV wrangler dev reads.
  const bindings = await openLocalBindings({ persistTo, devVarsPath });
  let issued: Awaited<ReturnType<typeof issueDemoKeys>>;
  try {
    issued = await issueDemoKeys({ ...bindings, vars: { ...bindings.vars, ORIGIN_URL: originUrl, TEST_ORIGIN_URL: testOriginUrl } });
  } catch (err) {
    if (err instanceof ConfigError) return fail(`${err.message} (check wrangler.toml [vars] and ${shownDevVars})`);
    throw err;
  } finally {
    await bindings.dispose();
  }
  if (issued.revoked > 0) console.log(`Revoked ${issued.revoked} earlier demo key(s) in organization "${DEMO_ORG}".`);
  if (stopping) return finish(0);

  // 6. wrangler dev, output inherited so its logs (one JSON line per request) show as usual.
  const args = [
    WRANGLER_BIN,
    "dev",
    "--config",
    WRANGLER_CONFIG,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--var",
    `ORIGIN_URL:${originUrl}`,
    "--var",
    `TEST_ORIGIN_URL:${testOriginUrl}`,
    "--persist-to",
    persistTo,
  ];
  // Sessions are signed with a fresh secret per run: the local identity provider forgets everything on exit too.
  if (idp) for (const [name, value] of Object.entries(gatewayVars(idp, randomHashSecret()))) args.push("--var", `${name}:${value}`);
  // wrangler dev reads .dev.vars beside wrangler.toml by itself; any other file goes through --env-file.
  if (devVarsPath !== DEFAULT_DEV_VARS) args.push("--env-file", devVarsPath);
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_DIR,
    stdio: "inherit",
    // GATEWAY_LOCAL_SETUP: the secrets and migrations are done (with this --persist-to); the build step skips them.
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", GATEWAY_LOCAL_SETUP: "done" },
  });
  wrangler = child;
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + constants.signals[signal] : 1)));
  });
  child.once("error", (err) => void fail(`could not start wrangler dev: ${err.message}`));
  void exited.then((code) => {
    // Stopped by us (a signal we forwarded), or by its own hotkeys (`x`, Ctrl+C in its interactive session).
    if (stopping || code === 0) return finish(0);
    return fail(`wrangler dev exited with code ${code}`, code);
  });

  // 7. Wait until both answer.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (stopping || !isRunning(child)) return;
    const demo = origin;
    const [gatewayUp, originUp] = await Promise.all([
      answers(`${gatewayUrl}/healthz`, (res) => res.status === 200),
      // A real origin is the user's to run: the gateway answers 502 until it does.
      demo === null ? true : answers(`${demo.url}/healthz`, (res) => res.status === 200),
    ]);
    if (gatewayUp && originUp) break;
    if (Date.now() > deadline) return fail(`the gateway did not answer on ${gatewayUrl}/healthz within ${READY_TIMEOUT_MS / 1000} s`);
    await sleep(250);
  }

  // 8. The keys and a curl line that works when pasted.
  const adminKey = issued.keys.get("DEMO_ADMIN_KEY")!;
  const readKey = issued.keys.get("DEMO_READ_KEY")!;
  console.log(
    [
      "",
      `Gateway:     ${gatewayUrl} (wrangler dev; local state in ${persistTo})`,
      origin === null
        ? `Origin:      ${originUrl}${testOriginUrl === originUrl ? "" : ` (pk_test_ keys: ${testOriginUrl})`}; no demo origin started`
        : `Demo origin: ${origin.url} (a fake ATS; its answers show the organization and key the gateway forwarded)`,
      "",
      `DEMO_ADMIN_KEY=${adminKey}`,
      `DEMO_READ_KEY=${readKey}`,
      "",
      `curl -H "Authorization: Bearer ${readKey}" ${gatewayUrl}/api/v1/candidates`,
      "",
      `demo-admin holds "*"; demo-read holds "candidates:read" only (organization "${DEMO_ORG}"). Stop with Ctrl+C.`,
      "",
      ...signInLines(idp, gatewayUrl),
    ].join("\n"),
  );
}

/** How to sign in as a person: the local identity provider's demo people, or the configured provider. */
function signInLines(idp: LocalIdp | null, gatewayUrl: string): string[] {
  if (!idp) return [`Sign in at ${gatewayUrl}/settings/api-keys with the identity provider OIDC_ISSUER names.`, ""];
  return [
    `Sign in at ${gatewayUrl}/settings/api-keys through the local identity provider (${idp.issuer}):`,
    ...idp.people.map((p) => `DEMO_PERSON=${p.email} ${p.password} (${p.roles.join(", ")} of organization "${p.org_id}")`),
    "",
  ];
}

main().catch((err: unknown) => {
  console.error(`\nnpm start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (isRunning(wrangler)) wrangler.kill("SIGTERM");
  process.exit(1);
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readD1Migrations } from "@cloudflare/vitest-plugin";
import { unstable_startWorker } from "wrangler";
import type { KeyMode } from "../../src/keys/format.ts";
import { importHashKey } from "../../src/keys/hash.ts";
import { mintKey } from "../../src/management/issue.ts";
import type { KeyValueStore, SqlDatabase } from "../../src/storage/ports.ts";
import { insertKey, type KeyRow } from "../../src/storage/records.ts";

/**
 * The real gateway (wrangler.toml, src/index.ts, bundled by wrangler) served
 * by wrangler's own dev runtime on a free 127.0.0.1 port, with its own
 * temporary D1/KV state, for tests that talk to it over real sockets.
 */

const PROJECT_DIR = fileURLToPath(new URL("../../", import.meta.url));
export const SECURITY_TEST_HASH_SECRET = "security-suite-only-secret-0123456789abcdef";
/** An Ed25519 private JWK for X-Gateway-Identity, for these tests only. */
export const SECURITY_TEST_SIGNING_KEY =
  '{"crv":"Ed25519","d":"gqg7L70HRNNAUWngiG1TcXfi47tKjXmQoo_7xvB0Wgg","x":"7xKIMFMZlkgNV6CdrSDRscpAaxbbeH7miXZO05F7YcU","kty":"OKP"}';

/** One line the Worker logged (docs/design.md §10), parsed; the per-request line has a `status`. */
export type LogLine = Record<string, unknown>;

export interface GatewayOptions {
  originUrl: string;
  /** Overrides for wrangler.toml vars (strings, as wrangler passes them). */
  vars?: Record<string, string>;
  /**
   * Serve test/worker/storage-faults.ts instead of src/index.ts: the same
   * gateway, whose KV and D1 bindings throw while the request carries
   * `x-test-storage-fault: kv`, `d1` or `kv,d1`.
   */
  storageFaults?: boolean;
  /** Adds the Rate Limiting binding the production config declares. */
  rateLimitBinding?: { limit: number; period: 10 | 60 };
  /** Skip the D1 migrations: every D1 query then fails for real ("no such table"). */
  withoutMigrations?: boolean;
  /**
   * Local D1/KV state (a `--persist-to` directory: `v3` is appended) shared with other gateways (several processes on one state, as
   * several isolates on Cloudflare share D1 and KV); kept on close. Default: a fresh temporary one.
   */
  persistTo?: string;
  /** The port to listen on (127.0.0.1); default any free one. */
  port?: number;
}

export interface TestKey {
  key: string;
  row: KeyRow;
}

export interface Gateway {
  url: string;
  port: number;
  db: SqlDatabase;
  kv: KeyValueStore;
  /** A key stored straight in D1, as the management API or the CLI would. */
  createKey(scopes: string[], opts?: { org?: string; expiresAt?: string | null; mode?: KeyMode }): Promise<TestKey>;
  /** Every JSON line the Worker has logged so far. */
  logs(): LogLine[];
  /** Waits until the per-request log lines matching `pick` number at least `count`. */
  requestLogs(pick: (line: LogLine) => boolean, count: number, timeoutMs?: number): Promise<LogLine[]>;
  close(): Promise<void>;
}

interface MiniflareBindings {
  getD1Database(name: string): Promise<SqlDatabase>;
  getKVNamespace(name: string): Promise<KeyValueStore>;
}

/**
 * wrangler's startWorker runs a Miniflare instance; its public surface has no
 * binding accessor, so reach it where wrangler keeps it and fail loudly if
 * that ever moves (rather than silently testing against other storage).
 */
function miniflareOf(raw: unknown): MiniflareBindings {
  const runtime = (raw as { runtimes?: { mf?: unknown }[] }).runtimes?.[0];
  const mf = runtime?.mf as Partial<MiniflareBindings> | undefined;
  if (typeof mf?.getD1Database !== "function" || typeof mf.getKVNamespace !== "function") {
    throw new Error("wrangler's startWorker no longer exposes its Miniflare at raw.runtimes[0].mf; update test/support/gateway-server.ts");
  }
  return mf as MiniflareBindings;
}

let orgCounter = 0;

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const stateDir = await mkdtemp(join(tmpdir(), "gateway-security-"));
  // An empty env file stands in for the developer's .dev.vars, so local secrets never leak into a test.
  const envFile = join(stateDir, "test.env");
  await writeFile(envFile, "");
  const lines: LogLine[] = [];

  const bindings: Record<string, unknown> = {
    KEY_HASH_SECRET: { type: "secret_text", value: SECURITY_TEST_HASH_SECRET },
    IDENTITY_SIGNING_KEY: { type: "secret_text", value: SECURITY_TEST_SIGNING_KEY },
    ORIGIN_URL: { type: "plain_text", value: opts.originUrl },
  };
  for (const [name, value] of Object.entries(opts.vars ?? {})) bindings[name] = { type: "plain_text", value };
  if (opts.rateLimitBinding) {
    bindings.AUTH_FAIL_RATE_LIMITER = { type: "ratelimit", namespace_id: "1001", simple: opts.rateLimitBinding };
  }

  const worker = await unstable_startWorker({
    config: join(PROJECT_DIR, "wrangler.toml"),
    ...(opts.storageFaults ? { entrypoint: join(PROJECT_DIR, "test", "worker", "storage-faults.ts") } : {}),
    envFiles: [envFile],
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port: opts.port ?? 0 },
      persist: opts.persistTo ?? join(stateDir, "state"),
      inspector: false,
      watch: false,
      logLevel: "none",
      structuredLogsHandler: (log: { message: string }) => {
        for (const text of log.message.split("\n")) {
          try {
            const parsed: unknown = JSON.parse(text);
            if (parsed && typeof parsed === "object") lines.push(parsed as LogLine);
          } catch {
            // Not one of ours (runtime warnings): ignore.
          }
        }
      },
    },
  });
  try {
    await worker.ready;
    const url = await worker.url;
    // `ready` covers the proxy; the first answered request proves the runtime (and its Miniflare) is up.
    await (await worker.fetch(new URL("/healthz", url))).arrayBuffer();
    const mf = miniflareOf(worker.raw);
    const db = await mf.getD1Database("DB");
    const kv = await mf.getKVNamespace("KEYS_CACHE");
    if (!opts.withoutMigrations) {
      for (const migration of await readD1Migrations(join(PROJECT_DIR, "migrations"))) {
        await db.batch(migration.queries.map((q) => db.prepare(q)));
      }
    }
    const secret = await importHashKey(SECURITY_TEST_HASH_SECRET);

    return {
      url: url.origin,
      port: Number(url.port),
      db,
      kv,
      async createKey(scopes, keyOpts = {}) {
        const { row, plaintext } = await mintKey(
          secret,
          {
            organizationId: keyOpts.org ?? `org-${++orgCounter}`,
            name: "security test key",
            scopes,
            expiresAt: keyOpts.expiresAt ?? null,
            actor: "cli",
            mode: keyOpts.mode ?? "live",
          },
          new Date(),
        );
        await insertKey(db, row);
        return { key: plaintext, row };
      },
      logs: () => [...lines],
      async requestLogs(pick, count, timeoutMs = 5_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const found = lines.filter((l) => "status" in l && pick(l));
          if (found.length >= count) return found;
          if (Date.now() > deadline) throw new Error(`expected ${count} request log lines, got ${found.length}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      async close() {
        await worker.dispose();
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await worker.dispose();
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }
}

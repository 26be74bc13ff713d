import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { freePorts } from "../support/processes.ts";

/**
 * `npm run test:browser`: the settings page end to end, in Debian's Chromium
 * driven by playwright-core, against the real `wrangler dev` started by
 * `scripts/start.ts` (demo origin + gateway) on free ports with a temporary
 * state directory and secrets file.
 *
 *   sign in with DEMO_ADMIN_KEY → "Generate new key" (fits one screen; errors
 *   at their fields, focused, aria-invalid) → read the key once and copy it →
 *   it answers 200 through the gateway (fetch from Node) → revoke it from its
 *   row's "⋮" menu → the same request answers 401; the state filter and the
 *   search; rename and rotate (with a grace period) another key, Escape and
 *   the backdrop on the uncopied key ask first; the Revoke wording on both
 *   keys of the rotation; the detail view (#key=<id>) with its events;
 *   generate a test-mode key with limits (the API's 400 at the allowlist's
 *   line) and read its usage chart; long names at both widths; the chart's
 *   UTC labels in browsers in America/Los_Angeles and Asia/Tokyo against the
 *   API's buckets; phone width, reload (the session survives), sign out (the
 *   key is forgotten), page, sign in with a test key, and as a person.
 *
 * Screenshots of each step go to test/browser/screenshots/ (the main screens
 * at 1280×900 and 390×844, named …-desktop / …-phone). Exit code 0 on
 * success, 1 on failure. Never downloads a browser: CHROMIUM_PATH or
 * /usr/bin/chromium (`apt-get install -y chromium`).
 */

const PROJECT_DIR = fileURLToPath(new URL("../../", import.meta.url));
const START_SCRIPT = join(PROJECT_DIR, "scripts", "start.ts");
/** Screenshots of every step, the main screens at 1280×900 and 390×844 (gitignored; README names the folder). */
const SHOTS_DIR = join(PROJECT_DIR, "test", "browser", "screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const START_TIMEOUT_MS = 120_000;
/** wrangler.toml [vars] MEMORY_CACHE_TTL_MS: the longest a revoked key may still work in one local process (docs/design.md §7). */
const MEMORY_CACHE_TTL_MS = 2_000;
const KEY_PATTERN = /pk_live_[A-Za-z0-9_-]{48}/;
const TEST_KEY_PATTERN = /^pk_test_[A-Za-z0-9_-]{48}$/;
/** docs/managing-keys.md "Usage": counts are written at most once per USAGE_FLUSH_INTERVAL_MS (1 s) per isolate. */
const USAGE_WAIT_MS = 10_000;

// ---------------------------------------------------------------- helpers
// (Code run in the page is passed to page.evaluate as a string: this file is type-checked without DOM types.)

const started = Date.now();
const timings: { step: string; ms: number }[] = [];
const cleanups: (() => Promise<void>)[] = [];
let screenshotCount = 0;
/** The page under test, for a screenshot of whatever state a failure left. */
let currentPage: Page | null = null;

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    const result = await fn();
    const ms = Date.now() - t0;
    timings.push({ step: name, ms });
    log(`  ok  ${name} (${ms} ms)`);
    return result;
  } catch (err) {
    log(`  FAIL ${name} (${Date.now() - t0} ms)`);
    throw err;
  }
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  screenshotCount += 1;
  const file = join(SHOTS_DIR, `${String(screenshotCount).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage });
}

/** A main screen at both widths the page is made for: desktop (1280×900) and phone (390×844), each checked for sideways scrolling. */
async function screenshotBoth(page: Page, name: string, fullPage = true): Promise<void> {
  const before = page.viewportSize() ?? DESKTOP;
  for (const [label, size] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    await page.setViewportSize(size);
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    check(overflow <= 0, `${name} at ${size.width} px: the page is ${overflow} px wider than the screen`);
    await screenshot(page, `${name}-${label}`, fullPage);
  }
  await page.setViewportSize(before);
}

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

/** A resource's None / Read / Write choice in "Generate new key": its radio is visually hidden behind the label people click. */
async function chooseScope(page: Page, inputId: string): Promise<void> {
  await page.click(`label[for="${inputId}"]`);
  check(await page.locator(`#${inputId}`).isChecked(), `${inputId} is not chosen`);
}

/** Closes the reveal dialog without having copied the key: the page asks first; losing it is confirmed. */
async function discardRevealed(page: Page): Promise<void> {
  await page.click("#reveal-done");
  await page.locator("#reveal-confirm").waitFor({ state: "visible" });
  await page.click("#reveal-discard");
  await page.locator("#revealed-key").waitFor({ state: "detached", timeout: 1_000 });
}

/** The usage chart's bucket label, as the page must show it: UTC, as the API counts (src/settings/client/usage-chart.ts). */
function utcBucketLabel(start: string, granularity: string): string {
  const d = new Date(start);
  const day = `${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()]} ${d.getUTCDate()}`;
  return granularity === "hour" ? `${day}, ${String(d.getUTCHours()).padStart(2, "0")}:00 UTC` : day;
}

async function apiGet<T>(stack: Stack, path: string): Promise<T> {
  const res = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
  check(res.ok, `GET ${path} answered ${res.status}`);
  return ((await res.json()) as { data: T }).data;
}

async function createByApi(stack: Stack, body: object): Promise<{ id: string; key: string; name: string }> {
  const res = await fetch(`${stack.baseUrl}/api/v1/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  check(res.status === 201, `creating a key answered ${res.status}`);
  return ((await res.json()) as { data: { id: string; key: string; name: string } }).data;
}

/** Shows keys of every state, or back to the default (active). */
async function showState(page: Page, state: "active" | "revoked" | "all"): Promise<void> {
  await page.selectOption("#state-filter", state);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ends a detached child's whole process group (start.ts, wrangler dev, workerd): TERM, then KILL. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited =
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // the group is gone
    }
  };
  signal("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
  clearTimeout(timer);
  // Whatever is left of the group (wrangler's workerd, if it lingers).
  signal("SIGKILL");
}

// ---------------------------------------------------------------- the stack

interface Stack {
  baseUrl: string;
  adminKey: string;
  readKey: string;
  /** The local identity provider (scripts/local-idp.ts) and its demo people, as start.ts printed them. */
  idpUrl: string;
  people: { email: string; password: string }[];
  output(): string;
}

async function startStack(): Promise<Stack> {
  check(existsSync(START_SCRIPT), `scripts/start.ts is missing: the browser test starts the gateway with it`);
  const dir = await mkdtemp(join(tmpdir(), "browser-test-state-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const [port, originPort, idpPort] = await freePorts(3);
  const child = spawn(process.execPath, [START_SCRIPT, "--persist-to", join(dir, "state"), "--dev-vars", join(dir, ".dev.vars")], {
    cwd: PROJECT_DIR,
    // Its own process group, so wrangler dev and workerd are stopped with it.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      ORIGIN_PORT: String(originPort),
      IDP_PORT: String(idpPort),
      WRANGLER_SEND_METRICS: "false",
      CI: "1",
    },
  });
  cleanups.push(() => stopGroup(child));
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (output += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (output += s));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const admin = /DEMO_ADMIN_KEY=(pk_live_[A-Za-z0-9_-]{48})/.exec(output);
    const read = /DEMO_READ_KEY=(pk_live_[A-Za-z0-9_-]{48})/.exec(output);
    const people = [...output.matchAll(/^DEMO_PERSON=(\S+) (\S+) /gm)].map((m) => ({ email: m[1]!, password: m[2]! }));
    if (admin && read && people.length > 0) {
      const idpUrl = `http://127.0.0.1:${idpPort}`;
      return { baseUrl: `http://127.0.0.1:${port}`, adminKey: admin[1]!, readKey: read[1]!, idpUrl, people, output: () => output };
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`scripts/start.ts exited (${child.exitCode ?? child.signalCode}) before printing the demo keys:\n${output}`);
    }
    if (Date.now() > deadline) throw new Error(`scripts/start.ts printed no demo keys within ${START_TIMEOUT_MS / 1000} s:\n${output}`);
    await sleep(100);
  }
}

async function gatewayStatus(stack: Stack, key: string): Promise<{ status: number; message: string | null }> {
  const res = await fetch(`${stack.baseUrl}/api/v1/candidates`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json().catch(() => null)) as { errors?: { message: string }[] } | null;
  return { status: res.status, message: body?.errors?.[0]?.message ?? null };
}

// ---------------------------------------------------------------- the scenario

async function scenario(): Promise<void> {
  check(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); this test never downloads a browser`,
  );
  await mkdir(SHOTS_DIR, { recursive: true });
  for (const f of await readdir(SHOTS_DIR)) if (f.endsWith(".png")) await rm(join(SHOTS_DIR, f));

  const stack = await step("start the demo origin and wrangler dev (scripts/start.ts)", startStack);
  const { baseUrl } = stack;
  log(`      gateway ${baseUrl}`);

  const profile = await mkdtemp(join(tmpdir(), "browser-test-profile-"));
  cleanups.push(() => rm(profile, { recursive: true, force: true }));
  const context: BrowserContext = await step("launch Chromium with a fresh profile", () =>
    chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    }),
  );
  cleanups.unshift(() => context.close().catch(() => {}));
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  const page = context.pages()[0] ?? (await context.newPage());
  currentPage = page;
  page.setDefaultTimeout(15_000);

  // Anything the page does wrong is a failure: script errors, CSP violations, requests off its origin.
  const problems: string[] = [];
  let expected400s = 0;
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    // Chromium logs every 4xx fetch; the one the scenario provokes on purpose is not a problem.
    if (msg.type() === "error" && expected400s > 0 && msg.text().includes("status of 400")) expected400s -= 1;
    else if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("request", (req) => {
    const url = req.url();
    // The one other origin: the identity provider's sign-in and sign-out pages, reached by navigation.
    const toIdp = url.startsWith(`${stack.idpUrl}/`) && req.isNavigationRequest();
    if (!url.startsWith(`${baseUrl}/`) && !url.startsWith("data:") && !toIdp) problems.push(`request off the origin: ${url}`);
  });
  const noProblems = () => check(problems.length === 0, `the page misbehaved:\n  ${problems.join("\n  ")}`);

  await step("open /settings/api-keys", async () => {
    const res = await page.goto(`${baseUrl}/settings/api-keys`);
    check(res !== null && res.status() === 200, `page answered ${res?.status()}`);
    check((res.headers()["content-security-policy"] ?? "").includes("script-src 'self'"), "page has no strict CSP");
    await page.locator("#signin-view").waitFor({ state: "visible" });
    await screenshot(page, "sign-in");
  });

  await step("a key without api_keys:read gets a clear message", async () => {
    await page.fill("#signin-key", stack.readKey);
    await page.click("#signin-submit");
    const error = page.locator("#signin-error");
    await error.waitFor({ state: "visible" });
    const text = (await error.textContent()) ?? "";
    check(text.includes("api_keys:read"), `unexpected message: ${text}`);
    check(await page.locator("#keys-view").isHidden(), "keys shown to a key without api_keys:read");
    check((await page.evaluate<number>("sessionStorage.length")) === 0, "a refused key was stored");
    await screenshot(page, "sign-in-refused");
  });

  await step("sign in with the admin key", async () => {
    await page.fill("#signin-key", stack.adminKey);
    await page.click("#signin-submit");
    await page.locator("#keys-view").waitFor({ state: "visible" });
    await page.locator("#keys-body tr", { hasText: "demo-admin" }).waitFor();
    check((await page.inputValue("#signin-key")) === "", "the key stayed in the sign-in field");
    const stored = await page.evaluate<string[]>("Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k))");
    check(stored.includes(stack.adminKey), "the admin key is not in sessionStorage");
    check((await page.evaluate<number>("localStorage.length")) === 0, "something was put in localStorage");
    check((await context.cookies()).length === 0, "the page set a cookie");
    check(!page.url().includes(stack.adminKey.slice(8)), "the key is in the URL");
    check(!(await page.content()).includes(stack.adminKey), "the admin key is in the DOM");
    await screenshot(page, "signed-in");
  });

  const name = `browser-test ${new Date().toISOString().slice(11, 19)}`;
  let sandboxKey = "";
  await step("fill in “Generate new key”", async () => {
    await page.click("#generate-open");
    await page.locator("#generate-dialog").waitFor({ state: "visible" });
    check((await page.evaluate<string | undefined>("document.activeElement?.id")) === "generate-name", "focus is not on the name field");
    const fits = await page.evaluate<boolean>(
      '(() => { const d = document.getElementById("generate-dialog"); return d.scrollHeight <= d.clientHeight + 1; })()',
    );
    check(fits, "“Generate new key” does not fit one screen at 1280×900");
    // Nothing filled in: the errors are at their fields, the first one focused and marked invalid.
    await page.fill("#generate-name", "   ");
    await page.click("#generate-submit");
    await page.locator("#generate-name-error").waitFor({ state: "visible" });
    check(((await page.textContent("#generate-name-error")) ?? "").includes("Give the key a name"), "no error at the name");
    check((await page.getAttribute("#generate-name", "aria-invalid")) === "true", "the name is not marked aria-invalid");
    check(
      ((await page.getAttribute("#generate-name", "aria-describedby")) ?? "").includes("generate-name-error"),
      "the name does not point at its error",
    );
    check(
      (await page.evaluate<string | undefined>("document.activeElement?.id")) === "generate-name",
      "focus did not move to the first bad field",
    );
    check(await page.locator("#scope-picker-error").isVisible(), "no error at the scopes");
    check(await page.locator("#generate-error").isHidden(), "a field's error went to the bottom of the dialog");
    await screenshot(page, "generate-field-errors", false);
    await page.fill("#generate-name", name);
    check(await page.locator("#generate-name-error").isHidden(), "the name's error stayed once it was changed");
    check((await page.getAttribute("#generate-name", "aria-invalid")) === null, "the name stayed aria-invalid once it was changed");
    await chooseScope(page, "scope-candidates-read");
    await page.check("#expiry-30");
    await screenshotBoth(page, "generate-form", false);
  });

  const newKey = await step("generate it and read it once from the dialog", async () => {
    await page.click("#generate-submit");
    const shown = page.locator("#revealed-key");
    await shown.waitFor({ state: "visible" });
    const key = ((await shown.textContent()) ?? "").trim();
    check(KEY_PATTERN.test(key) && key.length === 56, `the dialog shows no key: ${key}`);
    const warning = (await page.textContent("#reveal-warning")) ?? "";
    check(/will not be shown again/.test(warning), `no warning: ${warning}`);
    await page.click("#copy-key");
    await page.locator("#copy-status", { hasText: "Copied" }).waitFor();
    const copied = await page.evaluate<string>("navigator.clipboard.readText()");
    check(copied === key, "the copy button did not copy the key");
    check(await page.locator("#generate-name-error").isHidden(), "a fixed field's error stayed");
    await screenshotBoth(page, "new-key-shown-once", false);
    return key;
  });

  await step("closing the dialog removes the key from the page", async () => {
    await page.click("#reveal-done");
    await page.locator("#reveal-dialog").waitFor({ state: "hidden" });
    await page.locator("#revealed-key").waitFor({ state: "detached", timeout: 1_000 });
    check(!(await page.content()).includes(newKey), "the key is still somewhere in the DOM");
    const row = page.locator("#keys-body tr", { hasText: name });
    await row.waitFor();
    const rowText = (await row.textContent()) ?? "";
    check(rowText.includes(`pk_live_${newKey.slice(8, 12)}…${newKey.slice(-4)}`), `row lacks the display form: ${rowText}`);
    check(rowText.includes("candidates:read") && rowText.includes("active"), `row: ${rowText}`);
    check((await row.locator('td[data-label="Expires"] time').count()) === 1, "the 30-day expiry is not shown");
    const focused = await page.evaluate<string>('document.activeElement?.closest("tr")?.textContent ?? ""');
    check(focused.includes(name), "focus did not return to the new key's row");
    await screenshot(page, "dialog-closed");
  });

  await step("the new key works through the gateway (fetch from Node): 200", async () => {
    const { status } = await gatewayStatus(stack, newKey);
    check(status === 200, `GET /api/v1/candidates answered ${status}`);
  });

  await step("revoke it from its row's “⋮” menu, with the keyboard", async () => {
    const row = page.locator("#keys-body tr", { hasText: name });
    await row.locator(".menu-button").focus();
    await page.keyboard.press("Enter");
    await row.locator("[role=menu]").waitFor({ state: "visible" });
    await page.keyboard.press("End");
    const item = (await page.evaluate<string | null | undefined>("document.activeElement?.textContent")) ?? "";
    check(item.startsWith("Revoke"), `End did not reach “Revoke…”: ${item}`);
    await screenshot(page, "row-menu", false);
    await page.keyboard.press("Enter");
    await page.locator("#revoke-dialog").waitFor({ state: "visible" });
    const title = (await page.textContent("#revoke-title")) ?? "";
    const text = (await page.textContent("#revoke-text")) ?? "";
    check(title.includes(name) && text.includes(newKey.slice(-4)), `the confirmation does not name the key: ${title} / ${text}`);
    check(
      (await page.evaluate<string | null | undefined>("document.activeElement?.textContent")) === "Cancel",
      "a destructive dialog must focus Cancel first",
    );
    await screenshot(page, "revoke-confirm", false);
    await page.click("#revoke-confirm");
    await page.locator("#revoke-dialog").waitFor({ state: "hidden" });
    // Revoked, it leaves the list of active keys (the default filter) but is still there.
    await row.locator(".state", { hasText: "revoked" }).waitFor({ state: "attached" });
    await row.waitFor({ state: "hidden" });
    check((await row.locator(".menu-button").count()) === 1, "row lost its menu");
    await screenshot(page, "revoked");
  });

  await step("the list shows active keys by default; the state filter and the search find the others", async () => {
    const row = page.locator("#keys-body tr", { hasText: name });
    await row.waitFor({ state: "hidden" });
    check((await page.inputValue("#state-filter")) === "active", "the filter does not default to active keys");
    await showState(page, "revoked");
    await row.waitFor({ state: "visible" });
    check(await page.locator("#keys-body tr", { hasText: "demo-admin" }).isHidden(), "an active key among the revoked ones");
    await showState(page, "all");
    await page.fill("#key-search", name.slice(-8));
    await row.waitFor({ state: "visible" });
    check((await page.locator("#keys-body tr:not([hidden])").count()) === 1, "the search by name shows other keys");
    const id = (await row.getAttribute("data-key-id")) ?? "";
    await page.fill("#key-search", id);
    check(
      (await page.locator("#keys-body tr:not([hidden])").count()) === 1 && (await row.isVisible()),
      "the search by key id does not find it",
    );
    await page.fill("#key-search", "no key is called this");
    await page.locator("#keys-empty", { hasText: "No keys match" }).waitFor();
    await screenshotBoth(page, "search-no-match", false);
    await page.fill("#key-search", "");
    await showState(page, "active");
    await row.waitFor({ state: "hidden" });
  });

  const refusedAfter = await step(`the same request answers 401 (within MEMORY_CACHE_TTL_MS = ${MEMORY_CACHE_TTL_MS} ms)`, async () => {
    const t0 = Date.now();
    for (;;) {
      const { status, message } = await gatewayStatus(stack, newKey);
      if (status === 401) {
        check(message === "API key has been revoked", `401 with message ${message}`);
        return Date.now() - t0;
      }
      check(status === 200, `unexpected status ${status}`);
      check(Date.now() - t0 <= MEMORY_CACHE_TTL_MS, `still ${status} after ${Date.now() - t0} ms`);
      await sleep(100);
    }
  });
  log(`      refused ${refusedAfter} ms after the revocation`);

  await step("rename a key from its menu", async () => {
    const row = page.locator("#keys-body tr", { hasText: "demo-read" });
    await row.locator(".menu-button").click();
    await row.getByRole("menuitem", { name: "Rename…" }).click();
    // (A revoked key offers no Rename: checked in its detail view below.)
    await page.locator("#rename-dialog").waitFor({ state: "visible" });
    await page.fill("#rename-name", "demo-read (renamed)");
    await page.locator("#rename-form button[type=submit]").click();
    await page.locator("#rename-dialog").waitFor({ state: "hidden" });
    await page.locator("#keys-body tr", { hasText: "demo-read (renamed)" }).waitFor();
  });

  await step("rotate it with a 1-hour grace period: the successor is shown once, both keys work", async () => {
    const row = page.locator("#keys-body tr", { hasText: "demo-read (renamed)" });
    const oldId = await row.getAttribute("data-key-id");
    check(oldId !== null, "row without a key id");
    await row.locator(".menu-button").click();
    await row.getByRole("menuitem", { name: "Rotate…" }).click();
    await page.locator("#rotate-dialog").waitFor({ state: "visible" });
    await page.selectOption("#rotate-grace", "3600");
    await page.locator("#rotate-form button[type=submit]").click();
    const shown = page.locator("#revealed-key");
    await shown.waitFor({ state: "visible" });
    const successor = ((await shown.textContent()) ?? "").trim();
    check(KEY_PATTERN.test(successor) && successor !== stack.readKey, "the dialog shows no new key");
    await screenshot(page, "rotated-key-shown-once", false);
    // Escape, not copied: the page asks, and the key stays.
    await page.keyboard.press("Escape");
    await page.locator("#reveal-confirm").waitFor({ state: "visible" });
    check(((await shown.textContent()) ?? "").trim() === successor, "Escape lost the key");
    check(
      (await page.evaluate<string | undefined>("document.activeElement?.id")) === "reveal-back",
      "the question does not take the focus",
    );
    await screenshotBoth(page, "reveal-escape-confirm", false);
    // Escape again (Chromium may close a dialog without a cancelable event now): still there.
    await page.keyboard.press("Escape");
    await sleep(200);
    check(await page.locator("#reveal-dialog").isVisible(), "a second Escape closed the dialog");
    check(((await shown.textContent()) ?? "").trim() === successor, "a second Escape lost the key");
    await page.click("#reveal-back");
    await page.locator("#reveal-confirm").waitFor({ state: "hidden" });
    // The backdrop asks too.
    await page.mouse.click(5, 5);
    await page.locator("#reveal-confirm").waitFor({ state: "visible" });
    await page.click("#reveal-discard");
    await shown.waitFor({ state: "detached", timeout: 1_000 });
    check(!(await page.content()).includes(successor), "the rotated key is still in the DOM");
    const oldRow = page.locator(`#keys-body tr[data-key-id="${oldId}"]`);
    await oldRow.locator(".state-note", { hasText: "stops in" }).waitFor();
    check((await page.locator("#keys-body tr", { hasText: "demo-read (renamed)" }).count()) === 2, "no successor row");
    check((await gatewayStatus(stack, successor)).status === 200, "the successor does not work");
    check((await gatewayStatus(stack, stack.readKey)).status === 200, "the old key stopped during its grace period");
    await screenshot(page, "rotated");
  });

  await step(
    "Revoke on the successor says the old key still works and offers to end both; on the old key, that it works until its grace ends",
    async () => {
      const rows = page.locator("#keys-body tr", { hasText: "demo-read (renamed)" });
      const newRow = rows.nth(0);
      await newRow.locator(".menu-button").click();
      await newRow.getByRole("menuitem", { name: "Revoke…" }).click();
      await page.locator("#revoke-dialog").waitFor({ state: "visible" });
      const about = (await page.textContent("#revoke-predecessor-text")) ?? "";
      check(/still works until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/.test(about), `the grace period is not stated: ${about}`);
      check(((await page.textContent("#revoke-both-label")) ?? "").includes("Also revoke the old key"), "no offer to end both");
      check(!(await page.isChecked("#revoke-both")), "ending both is chosen by default");
      await screenshotBoth(page, "revoke-successor", false);
      await page.click("#revoke-dialog .close-dialog");
      const oldRow = rows.nth(1);
      await oldRow.locator(".menu-button").click();
      await oldRow.getByRole("menuitem", { name: "Revoke…" }).click();
      const text = (await page.textContent("#revoke-text")) ?? "";
      check(text.includes("was rotated and works until") && text.includes("stops it now instead"), `the old key's revoke says: ${text}`);
      check(await page.locator("#revoke-predecessor").isHidden(), "the old key has no predecessor to offer");
      await page.click("#revoke-dialog .close-dialog");
    },
  );

  await step("the detail view (#key=<id>): id with copy, scopes, rotation links, events; a revoked key offers no Rename", async () => {
    const rows = page.locator("#keys-body tr", { hasText: "demo-read (renamed)" });
    const newId = (await rows.nth(0).getAttribute("data-key-id")) ?? "";
    const oldId = (await rows.nth(1).getAttribute("data-key-id")) ?? "";
    await rows.nth(0).locator("a.key-link").click();
    await page.locator("#key-detail").waitFor({ state: "visible" });
    check(page.url().endsWith(`#key=${newId}`), `the detail view has no URL of its own: ${page.url()}`);
    check((await page.textContent("#detail-title")) === "demo-read (renamed)", "the title is not the key's name");
    check((await page.textContent("#detail-id")) === newId, "the id is not shown");
    await page.click("#detail-copy-id");
    await page.locator("#key-detail [role=status]", { hasText: "Copied" }).waitFor();
    check((await page.evaluate<string>("navigator.clipboard.readText()")) === newId, "Copy id did not copy the id");
    const facts = ((await page.textContent("#detail-facts")) ?? "").replace(/\s+/g, " ");
    for (const part of ["Mode", "Scopes", "Rate limit", "IP allowlist", "Expires", "Created", "Last used", "Replaces"])
      check(facts.includes(part), `the detail view lacks ${part}: ${facts}`);
    check(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/.test(facts), "the detail view shows no exact UTC time");
    await page.locator("#detail-events li[data-type=created]").waitFor();
    await screenshotBoth(page, "key-detail", false);
    // Its predecessor, by the "Replaces" link: rotated, and names its successor.
    await page.click("#detail-facts a.key-ref");
    await page.waitForURL(`**#key=${oldId}`);
    await page.locator("#detail-events li[data-type=rotated]").waitFor();
    check(((await page.textContent("#detail-facts")) ?? "").includes("Replaced by"), "the old key does not name its successor");
    await page.keyboard.press("Escape");
    await page.locator("#key-detail").waitFor({ state: "hidden" });
    const left = await page.waitForFunction("!location.hash.startsWith('#key=')", undefined, { timeout: 2_000 }).then(
      () => true,
      () => false,
    );
    check(left, "closing the detail view left its URL");
    // A revoked key, opened by its URL: history, no Rename.
    await showState(page, "all");
    const revokedId = (await page.locator("#keys-body tr", { hasText: name }).getAttribute("data-key-id")) ?? "";
    await page.goto(`${baseUrl}/settings/api-keys#key=${revokedId}`);
    await page.locator("#key-detail").waitFor({ state: "visible" });
    await page.locator("#detail-events li[data-type=revoked]").waitFor();
    const offered = await page.locator("#detail-actions button").allTextContents();
    check(!offered.some((a) => a.startsWith("Rename")), `a revoked key offers ${JSON.stringify(offered)}`);
    await screenshot(page, "key-detail-revoked", false);
    await page.keyboard.press("Escape");
    await showState(page, "active");
  });

  await step("revoking the successor with “Also revoke the old key” ends both keys of the rotation", async () => {
    const rows = page.locator("#keys-body tr", { hasText: "demo-read (renamed)" });
    const ids = [(await rows.nth(0).getAttribute("data-key-id")) ?? "", (await rows.nth(1).getAttribute("data-key-id")) ?? ""];
    await rows.nth(0).locator(".menu-button").click();
    await rows.nth(0).getByRole("menuitem", { name: "Revoke…" }).click();
    await page.locator("#revoke-predecessor").waitFor({ state: "visible" });
    await page.check("#revoke-both");
    await page.click("#revoke-confirm");
    await page.locator("#revoke-dialog").waitFor({ state: "hidden" });
    await rows.first().waitFor({ state: "hidden" });
    for (const id of ids) {
      const k = await apiGet<{ state: string }>(stack, `/api/v1/api-keys/${id}`);
      check(k.state === "revoked", `${id} is ${k.state} after revoking both`);
    }
  });

  const sandboxName = "sandbox (test mode)";
  await step(
    "generate a test-mode key with a rate limit, quota and IP allowlist; a bad block is the API's 400, in the dialog",
    async () => {
      await page.click("#generate-open");
      await page.locator("#generate-dialog").waitFor({ state: "visible" });
      check(await page.locator("#mode-live").isChecked(), "a live key's dialog should default to Live");
      check(await page.locator("#mode-test").isEnabled(), "a live key may create test keys");
      check(((await page.textContent("#limits-fixed")) ?? "").includes("fixed"), "the dialog does not say limits are fixed");
      await page.fill("#generate-name", sandboxName);
      await chooseScope(page, "scope-candidates-read");
      await page.check("#mode-test");
      await page.click("#limits-details summary");
      await page.fill("#rate-limit", "100");
      await page.selectOption("#rate-period", "60");
      await page.fill("#monthly-quota", "5000");
      await page.fill("#allowed-cidrs", "203.0.113.0/24\n10.1.0.0/8\n");
      expected400s += 1;
      await page.click("#generate-submit");
      // The API's 400 names allowed_cidrs.1: the page says line 2 of the allowlist, next to it.
      const error = page.locator("#allowed-cidrs-error");
      await error.waitFor({ state: "visible" });
      const text = (await error.textContent()) ?? "";
      check(
        text.startsWith("IP allowlist, line 2:") && text.includes("10.0.0.0/8") && !text.includes("allowed_cidrs"),
        `the API's 400 is not placed: ${text}`,
      );
      check((await page.getAttribute("#allowed-cidrs", "aria-invalid")) === "true", "the allowlist is not marked aria-invalid");
      check((await page.evaluate<string | undefined>("document.activeElement?.id")) === "allowed-cidrs", "focus is not on the allowlist");
      check((await page.locator("#keys-body tr", { hasText: sandboxName }).count()) === 0, "a refused key appeared in the table");
      await screenshot(page, "generate-limits-refused", false);
      await page.fill("#allowed-cidrs", "203.0.113.0/24\n\n2001:db8::/32\n");
      await page.click("#generate-submit");
      const shown = page.locator("#revealed-key");
      await shown.waitFor({ state: "visible" });
      const key = ((await shown.textContent()) ?? "").trim();
      check(TEST_KEY_PATTERN.test(key), `not a test key: ${key}`);
      await discardRevealed(page);
      const row = page.locator("#keys-body tr", { hasText: sandboxName });
      await row.waitFor();
      check((await row.locator(".mode-badge", { hasText: "test" }).count()) === 1, "no test badge");
      const limits = ((await row.locator('td[data-label="Limits"]').textContent()) ?? "").replace(/\s+/g, " ");
      for (const part of ["100/minute", "5,000/month", "2 IP blocks"])
        check(limits.includes(part), `Limits cell lacks “${part}”: ${limits}`);
      const full = (await row.locator("ul.limits").getAttribute("title")) ?? "";
      for (const part of ["100 requests per minute", "5,000 requests a month (UTC)", "203.0.113.0/24, 2001:db8::/32"])
        check(full.includes(part), `the limits' title lacks “${part}”: ${full}`);
      const plain = (
        (await page.locator("#keys-body tr", { hasText: "demo-admin" }).locator('td[data-label="Limits"]').textContent()) ?? ""
      ).trim();
      check(plain === "\u2014", `a key without limits should show “—”: ${plain}`);
      check(
        (await page.locator("#keys-body tr", { hasText: "demo-admin" }).locator(".mode-badge").count()) === 0,
        "a live key has a test badge",
      );
      const api = (await (
        await fetch(`${baseUrl}/api/v1/api-keys/${await row.getAttribute("data-key-id")}`, {
          headers: { authorization: `Bearer ${stack.adminKey}` },
        })
      ).json()) as {
        data: { mode: string; rate_limit: unknown; monthly_quota: unknown; allowed_cidrs: unknown };
      };
      check(api.data.mode === "test", `mode ${api.data.mode}`);
      check(JSON.stringify(api.data.rate_limit) === '{"limit":100,"period_s":60}', `rate_limit ${JSON.stringify(api.data.rate_limit)}`);
      check(api.data.monthly_quota === 5000, `monthly_quota ${String(api.data.monthly_quota)}`);
      check(
        JSON.stringify(api.data.allowed_cidrs) === '["203.0.113.0/24","2001:db8::/32"]',
        `allowed_cidrs ${JSON.stringify(api.data.allowed_cidrs)}`,
      );
      await screenshot(page, "test-key-with-limits");
      sandboxKey = key;
    },
  );

  await step("its usage chart shows the requests it made (3 refused by its allowlist: 4xx)", async () => {
    for (let i = 0; i < 3; i++) {
      const { status } = await gatewayStatus(stack, sandboxKey);
      check(status === 403, `a request from outside the allowlist answered ${status}`);
    }
    const row = page.locator("#keys-body tr", { hasText: sandboxName });
    const id = await row.getAttribute("data-key-id");
    await row.locator(".menu-button").click();
    await row.getByRole("menuitem", { name: "Usage…" }).click();
    await page.locator("#usage-dialog").waitFor({ state: "visible" });
    check(((await page.textContent("#usage-title")) ?? "").includes(sandboxName), "the usage dialog does not name the key");
    const t0 = Date.now();
    let shown = "";
    for (;;) {
      await page.locator('#usage-chart[aria-busy="false"] #usage-total').waitFor();
      shown = (await page.textContent("#usage-total")) ?? "";
      if (shown === "3" || Date.now() - t0 > USAGE_WAIT_MS) break;
      await sleep(500);
      await page.click("#usage-hour");
    }
    check(shown === "3", `the chart shows ${shown} requests, expected 3`);
    const api = (await (
      await fetch(`${baseUrl}/api/v1/api-keys/${id}/usage`, { headers: { authorization: `Bearer ${stack.adminKey}` } })
    ).json()) as {
      data: { buckets: Record<string, number>[] };
    };
    for (const c of ["2xx", "3xx", "4xx", "5xx"]) {
      const expected = api.data.buckets.reduce((sum, b) => sum + (b[c] ?? 0), 0);
      const onPage = (await page.locator(`#usage-totals li[data-class="${c}"] .usage-count`).textContent()) ?? "";
      check(onPage === String(expected), `${c}: the page shows ${onPage}, the API ${expected}`);
    }
    check((await page.locator('#usage-totals li[data-class="4xx"] .usage-count').textContent()) === "3", "the 3 refusals are not 4xx");
    const label = (await page.locator("#usage-svg > title").textContent()) ?? "";
    check(label.startsWith("3 requests in the last 24 hours") && label.includes("3 4xx"), `the chart's accessible summary: ${label}`);
    check((await page.locator("#usage-svg rect.usage-4xx").count()) >= 1, "no 4xx bar drawn");
    check((await page.locator("#usage-svg rect.usage-2xx").count()) === 0, "a 2xx bar for a key that made no successful request");
    check((await page.locator("#usage-chart table.visually-hidden tbody tr").count()) === 24, "the hidden table lacks the 24 hours");
    await screenshot(page, "usage-hourly", false);
    await page.click("#usage-day");
    await page.locator('#usage-day[aria-pressed="true"]').waitFor();
    await page.locator('#usage-chart[aria-busy="false"] #usage-total').waitFor();
    check((await page.textContent("#usage-total")) === "3", "the 30-day view shows other totals");
    check((await page.locator("#usage-chart table.visually-hidden tbody tr").count()) === 30, "the daily view lacks 30 days");
    await screenshot(page, "usage-daily", false);
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "usage-phone", false);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.keyboard.press("Escape");
    await page.locator("#usage-dialog").waitFor({ state: "hidden" });
  });

  await step("a key with answers of two classes (200, then 401s once revoked) shows stacked 2xx and 4xx that match the API", async () => {
    await showState(page, "all");
    const row = page.locator("#keys-body tr", { hasText: name });
    const id = await row.getAttribute("data-key-id");
    await row.locator(".menu-button").click();
    await row.getByRole("menuitem", { name: "Usage…" }).click();
    await page.locator("#usage-dialog").waitFor({ state: "visible" });
    const t0 = Date.now();
    let mismatch = "";
    for (;;) {
      await page.locator('#usage-chart[aria-busy="false"] #usage-total').waitFor();
      const api = (await (
        await fetch(`${baseUrl}/api/v1/api-keys/${id}/usage`, { headers: { authorization: `Bearer ${stack.adminKey}` } })
      ).json()) as {
        data: { buckets: Record<string, number>[] };
      };
      const sum = (c: string) => api.data.buckets.reduce((total, b) => total + (b[c] ?? 0), 0);
      const onPage = async (c: string) => (await page.locator(`#usage-totals li[data-class="${c}"] .usage-count`).textContent()) ?? "";
      mismatch = "";
      for (const c of ["2xx", "4xx"])
        if ((await onPage(c)) !== String(sum(c))) mismatch += `${c}: page ${await onPage(c)}, API ${sum(c)}; `;
      if (sum("2xx") < 1 || sum("4xx") < 1) mismatch += "the API has not counted both classes yet; ";
      if (!mismatch || Date.now() - t0 > USAGE_WAIT_MS) break;
      await sleep(500);
      await page.click("#usage-hour");
    }
    check(mismatch === "", mismatch);
    check(
      (await page.locator("#usage-svg rect.usage-2xx").count()) >= 1 && (await page.locator("#usage-svg rect.usage-4xx").count()) >= 1,
      "the bar is not stacked",
    );
    await screenshot(page, "usage-two-classes", false);
    await page.keyboard.press("Escape");
    await page.locator("#usage-dialog").waitFor({ state: "hidden" });
    await showState(page, "active");
  });

  const limitedKey = await step("generate a key that may manage keys but holds only candidates:read besides", async () => {
    await page.click("#generate-open");
    await page.fill("#generate-name", "limited manager");
    // Write on api_keys grants its read scope too.
    await chooseScope(page, "scope-api_keys-write");
    await chooseScope(page, "scope-candidates-read");
    await page.click("#generate-submit");
    const shown = page.locator("#revealed-key");
    await shown.waitFor({ state: "visible" });
    const key = ((await shown.textContent()) ?? "").trim();
    check(KEY_PATTERN.test(key), "the dialog shows no key");
    const granted = ((await page.textContent("#reveal-about")) ?? "").split(" \u00b7 ").at(-1)?.split(" ").sort() ?? [];
    check(
      JSON.stringify(granted) === '["api_keys:read","api_keys:write","candidates:read"]',
      `Write did not grant Read too: ${granted.join(" ")}`,
    );
    await discardRevealed(page);
    return key;
  });

  const longNames = [
    `acme_prod_candidate_sync_${"x".repeat(75)}`,
    "\u00e9".repeat(100),
    `<img src=x id=injected>${"<b>bold</b>".repeat(5)}`,
  ];
  await step("any name the API accepts (100 characters without spaces, 100 × é, HTML) keeps the layout, at both widths", async () => {
    for (const long of longNames)
      await createByApi(stack, { name: long, scopes: ["candidates:read"], expires_at: new Date(Date.now() + 3 * 86400_000).toISOString() });
    await page.reload();
    for (const long of longNames) await page.locator(`#keys-body a.key-link[title="${long.replace(/"/g, '\\"')}"]`).waitFor();
    check((await page.locator("#keys-body #injected, #keys-body b").count()) === 0, "a name was rendered as HTML");
    const layout = await page.evaluate<{ overflow: number; wrap: number; tallest: number; line: number }>(`(() => {
      const wrap = document.querySelector(".table-wrap");
      const rows = [...document.querySelectorAll("#keys-body tr:not([hidden])")];
      return {
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        wrap: wrap.scrollWidth - wrap.clientWidth,
        tallest: Math.max(...rows.map((r) => r.getBoundingClientRect().height)),
        line: parseFloat(getComputedStyle(document.body).lineHeight) || 23,
      };
    })()`);
    check(
      layout.overflow <= 0 && layout.wrap <= 0,
      `at 1280 px the page overflows by ${layout.overflow} px, the table by ${layout.wrap} px`,
    );
    // Two lines of text, cell padding and a border: taller means a row wraps to a third line.
    check(
      layout.tallest <= 2 * layout.line + 24,
      `a row is ${layout.tallest} px tall at 1280 px (line ${layout.line} px): more than two lines`,
    );
    const stamp = (await page.locator("#keys-body tr:not([hidden]) time").first().getAttribute("title")) ?? "";
    check(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/.test(stamp), `a time's exact form does not say UTC: ${stamp}`);
    const soon = page.locator("#keys-body tr", { hasText: "acme_prod_candidate_sync_" });
    check((await soon.locator(".expires-soon").count()) === 1, "an expiry within 7 days is not marked");
    await screenshotBoth(page, "long-names");
    await soon.locator("a.key-link").click();
    await page.locator("#key-detail").waitFor({ state: "visible" });
    check((await page.textContent("#detail-title")) === longNames[0], "the detail view does not show the full name");
    check(((await page.textContent("#detail-warning")) ?? "").includes("expires in 3 days"), "the detail view does not warn of the expiry");
    await screenshotBoth(page, "long-name-detail", false);
    await page.keyboard.press("Escape");
    await page.locator("#key-detail").waitFor({ state: "hidden" });
  });

  await step("the usage chart labels the API's buckets in UTC, in browsers west and east of UTC", async () => {
    const sandbox = (await apiGet<{ items: { id: string; name: string }[] }>(stack, "/api/v1/api-keys?limit=100")).items.find(
      (k) => k.name === sandboxName,
    );
    check(sandbox !== undefined, "the test-mode key is not listed");
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: 60_000 });
    try {
      for (const timezoneId of ["America/Los_Angeles", "Asia/Tokyo"]) {
        const zoned = await browser.newContext({ timezoneId, viewport: DESKTOP });
        const p = await zoned.newPage();
        p.setDefaultTimeout(15_000);
        const offset = await p.evaluate<number>("new Date('2026-12-04T00:00:00Z').getTimezoneOffset()");
        check(offset !== 0, `${timezoneId}: the browser runs in UTC`);
        await p.goto(`${baseUrl}/settings/api-keys`);
        await p.fill("#signin-key", stack.adminKey);
        await p.click("#signin-submit");
        const row = p.locator("#keys-body tr", { hasText: sandboxName });
        await row.locator(".menu-button").click();
        await row.getByRole("menuitem", { name: "Usage…" }).click();
        for (const granularity of ["hour", "day"] as const) {
          await p.click(`#usage-${granularity}`);
          await p.locator(`#usage-${granularity}[aria-pressed="true"]`).waitFor();
          await p.locator('#usage-chart[aria-busy="false"] #usage-total').waitFor();
          const api = await apiGet<{ buckets: { start: string }[] }>(
            stack,
            `/api/v1/api-keys/${sandbox.id}/usage?granularity=${granularity}`,
          );
          const labels = await p.locator("#usage-chart table tbody th").allTextContents();
          const expected = api.buckets.map((b) => utcBucketLabel(b.start, granularity));
          // The range ends now: an hour may have turned between the two requests.
          const same =
            labels.length === expected.length &&
            (labels.join() === expected.join() || labels.slice(1).join() === expected.slice(0, -1).join());
          check(
            same,
            `${timezoneId}, ${granularity}: labels ${labels.slice(0, 3).join(" | ")}… but the API's buckets are ${expected.slice(0, 3).join(" | ")}…`,
          );
          const ticks = await p.locator("#usage-svg text.usage-tick").allTextContents();
          check(
            ticks.some((t) => t === labels[0] || t === expected[0]),
            `${timezoneId}: the axis does not start at the first bucket: ${ticks.join(" | ")}`,
          );
        }
        await screenshot(p, `usage-${timezoneId.replace("/", "-")}`, false);
        await zoned.close();
      }
    } finally {
      await browser.close();
    }
  });

  await step("readable at phone width (390 px), no sideways scrolling", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    check(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    await screenshot(page, "phone-width");
  });

  await step("reloading keeps the session (sessionStorage); signing out forgets the key", async () => {
    await page.reload();
    await page.locator("#keys-body tr", { hasText: "limited manager" }).waitFor();
    await page.click("#sign-out");
    await page.locator("#signin-view").waitFor({ state: "visible" });
    check((await page.evaluate<number>("sessionStorage.length")) === 0, "sign-out left the key in sessionStorage");
  });

  await step("signed in with the limited key, the scopes it lacks cannot be chosen", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.fill("#signin-key", limitedKey);
    await page.click("#signin-submit");
    await page.locator("#keys-view").waitFor({ state: "visible" });
    await page.click("#generate-open");
    await page.locator("#generate-dialog").waitFor({ state: "visible" });
    for (const id of ["#scope-candidates-read", "#scope-api_keys-read", "#scope-api_keys-write"]) {
      check(await page.locator(id).isEnabled(), `${id} should be enabled`);
    }
    for (const id of ["#scope-candidates-write", "#scope-jobs-read", "#scope-read", "#scope-write", "#scope-all"]) {
      check(await page.locator(id).isDisabled(), `${id} should be disabled`);
    }
    await screenshot(page, "limited-key-generate", false);
    await page.keyboard.press("Escape");
    await page.locator("#generate-dialog").waitFor({ state: "hidden" });
    await page.click("#sign-out");
  });

  await step("more keys than a page: “Load more” follows next_cursor", async () => {
    // 60 more keys through the API (from Node), then the page lists 50 and loads the rest on demand.
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${baseUrl}/api/v1/api-keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `bulk ${i}`, scopes: ["jobs:read"] }),
      });
      check(res.status === 201, `creating key ${i} answered ${res.status}`);
      await res.arrayBuffer();
    }
    await page.fill("#signin-key", stack.adminKey);
    await page.click("#signin-submit");
    await page.locator("#keys-body tr", { hasText: "bulk 59" }).waitFor();
    const rows = page.locator("#keys-body tr");
    check((await rows.count()) === 50, `first page has ${await rows.count()} rows`);
    await page.locator("#load-more").click();
    await page.locator("#keys-body tr", { hasText: "demo-admin" }).waitFor();
    let expected = 0;
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const url = `${baseUrl}/api/v1/api-keys?limit=100${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const listing = (await (await fetch(url, { headers: { authorization: `Bearer ${stack.adminKey}` } })).json()) as {
        data: { items: unknown[]; next_cursor: string | null };
      };
      expected += listing.data.items.length;
      cursor = listing.data.next_cursor;
    }
    const total = await rows.count();
    check(total === expected, `after “Load more”: ${total} rows, the API lists ${expected}`);
    check(await page.locator("#load-more").isHidden(), "“Load more” still shown on the last page");
    await page.click("#sign-out");
  });

  await step("sign in with a test key: the session shows it, and it can only generate test keys", async () => {
    const res = await fetch(`${baseUrl}/api/v1/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "test manager", scopes: ["api_keys:read", "api_keys:write", "candidates:read"], mode: "test" }),
    });
    check(res.status === 201, `creating a test key answered ${res.status}`);
    const testKey = ((await res.json()) as { data: { key: string } }).data.key;
    check(TEST_KEY_PATTERN.test(testKey), "not a test key");
    await page.fill("#signin-key", testKey);
    await page.click("#signin-submit");
    await page.locator("#keys-view").waitFor({ state: "visible" });
    check(((await page.textContent("#session-display")) ?? "").startsWith("pk_test_"), "the session does not show the test key");
    const own = page.locator("#keys-body tr", { hasText: "test manager" });
    await own.locator(".mode-badge").waitFor();
    // It may look at a live key's usage, not change it.
    const admin = page.locator("#keys-body tr", { hasText: "demo-admin" });
    // demo-admin, the oldest key, is on the second page by now.
    if (await page.locator("#load-more").isVisible()) await page.locator("#load-more").click();
    await admin.waitFor();
    await admin.locator(".menu-button").click();
    const items = await admin.getByRole("menuitem").allTextContents();
    check(JSON.stringify(items) === '["Details","Usage…"]', `a test key is offered ${JSON.stringify(items)} on a live key`);
    await page.keyboard.press("Escape");
    await page.click("#generate-open");
    await page.locator("#generate-dialog").waitFor({ state: "visible" });
    check(await page.locator("#mode-live").isDisabled(), "Live is offered to a test key");
    check(await page.locator("#mode-test").isChecked(), "Test is not chosen for a test key");
    await page.locator("#mode-test-only").scrollIntoViewIfNeeded();
    check(await page.locator("#mode-test-only").isVisible(), "the dialog does not say why");
    await screenshot(page, "test-key-generate", false);
    await page.keyboard.press("Escape");
    await page.locator("#generate-dialog").waitFor({ state: "hidden" });
    await page.click("#sign-out");
  });

  const admin = stack.people.find((p) => p.email.startsWith("admin@"));
  check(admin !== undefined, `start.ts printed no demo admin person:\n${stack.output()}`);
  await step("sign in through the identity provider's login form as the demo admin", async () => {
    await page.goto(`${baseUrl}/settings/api-keys`);
    const link = page.locator("#person-signin-link");
    await link.waitFor({ state: "visible" });
    check(((await link.textContent()) ?? "").startsWith("Sign in with "), "no “Sign in with …” button");
    await link.click();
    await page.waitForURL(`${stack.idpUrl}/**`);
    await page.fill("#email", admin.email);
    await page.fill("#password", "not the password");
    await page.click("button[type=submit]");
    await page.locator(".error", { hasText: "Wrong email or password" }).waitFor();
    await page.fill("#password", admin.password);
    await screenshot(page, "idp-login-form");
    await page.click("button[type=submit]");
    await page.waitForURL(`${baseUrl}/settings/api-keys`);
    await page.locator("#keys-view").waitFor({ state: "visible" });
    await page.locator("#session").waitFor({ state: "visible" });
    check(((await page.textContent("#session-display")) ?? "") === admin.email, "the session does not show the person's email");
    check(((await page.textContent("#session-org")) ?? "") === "demo", "the session does not show organization demo");
    const cookie = (await context.cookies()).find((c) => c.name === "gw_session");
    check(cookie?.httpOnly === true && cookie.sameSite === "Lax", "no HttpOnly SameSite=Lax session cookie");
    check(!(await page.evaluate<string>("document.cookie")).includes("gw_session"), "the page's script can read the session cookie");
    check((await page.evaluate<number>("sessionStorage.length")) === 0, "a person's sign-in stored something in sessionStorage");
    await screenshot(page, "person-signed-in");
  });

  await step("the person generates a key; its row says who created it", async () => {
    const personal = `made by a person ${new Date().toISOString().slice(11, 19)}`;
    await page.click("#generate-open");
    await page.locator("#generate-dialog").waitFor({ state: "visible" });
    await page.fill("#generate-name", personal);
    await chooseScope(page, "scope-candidates-read");
    await page.click("#generate-submit");
    const shown = page.locator("#revealed-key");
    await shown.waitFor({ state: "visible" });
    const key = ((await shown.textContent()) ?? "").trim();
    check(KEY_PATTERN.test(key), `the dialog shows no key: ${key}`);
    await discardRevealed(page);
    const row = page.locator("#keys-body tr", { hasText: personal });
    await row.waitFor();
    const createdBy = (await row.locator(".created-by").textContent()) ?? "";
    check(createdBy === `by ${admin.email}`, `the row says “${createdBy}”, not who created it`);
    const { status } = await gatewayStatus(stack, key);
    check(status === 200, `the person's new key answered ${status} through the gateway`);
    await screenshot(page, "person-created-key");
  });

  await step("sign out: the gateway and the identity provider end the session", async () => {
    await page.click("#sign-out");
    await page.waitForURL(`${baseUrl}/settings/api-keys`);
    await page.locator("#person-signin-link").waitFor({ state: "visible" });
    check(
      (await context.cookies()).every((c) => c.name !== "gw_session"),
      "the session cookie survived signing out",
    );
    check(await page.locator("#keys-view").isHidden(), "the keys are still shown after signing out");
    await screenshot(page, "person-signed-out");
  });

  noProblems();
}

// ---------------------------------------------------------------- main

async function cleanup(): Promise<void> {
  const t0 = Date.now();
  for (const fn of cleanups.splice(0)) await fn().catch(() => {});
  log(`Cleaned up (browser, servers, temporary directories) in ${Date.now() - t0} ms`);
}

process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
process.once("SIGTERM", () => void cleanup().then(() => process.exit(143)));

log("Browser test: settings page (Chromium + wrangler dev)");
try {
  await scenario();
  log(`\nPassed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in test/browser/screenshots/`);
  process.exitCode = 0;
} catch (err) {
  log(`\n${err instanceof Error ? err.message : String(err)}`);
  if (currentPage) await screenshot(currentPage, "failure").catch(() => {});
  log(`Failed after ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots so far in test/browser/screenshots/`);
  process.exitCode = 1;
} finally {
  await cleanup();
}

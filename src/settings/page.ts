import { MAX_ALLOWED_CIDRS } from "../auth/cidr.ts";
import { MONTHLY_QUOTA_MAX, RATE_LIMIT_MAX } from "../limits/policy.ts";
import { legacyChoices, resourceGroups, type ScopeChoice } from "./catalog.ts";
import { KEY_COLUMNS, scopeInputId, USAGE_CHART } from "./shared/markup.ts";
import { keySignInHeading, personSignInBlock, type PersonSignIn } from "./person-markup.ts";
import { escapeHtml } from "./escape.ts";
import { RATE_PERIODS } from "./shared/rate-periods.ts";

/** The key list's state filter (src/settings/client/key-filter.ts has the same keys). */
const STATE_OPTIONS = [
  ["active", "Active keys"],
  ["expired", "Expired keys"],
  ["revoked", "Revoked keys"],
  ["all", "All keys"],
] as const;

/**
 * The settings page's HTML. Static except for the scope catalog, rendered
 * from src/auth/scopes.ts, and the asset URLs (versioned by content hash).
 * No inline script, no inline style, no event-handler attributes: the page
 * works under `script-src 'self'; style-src 'self'`.
 */

export { escapeHtml };

const id = scopeInputId;
const n = (x: number): string => x.toLocaleString("en-US");

function checkbox(c: ScopeChoice, label: string): string {
  return [
    `<div class="scope">`,
    `<input type="checkbox" name="scope" id="${id(c.scope)}" value="${escapeHtml(c.scope)}" data-scope="${escapeHtml(c.scope)}" data-grants="${escapeHtml(c.scope)}"`,
    ` data-granted-by="${escapeHtml(c.grantedBy.join(" "))}" data-all-of="${escapeHtml(c.allOf.join(" "))}"`,
    ` aria-describedby="${id(c.scope)}-desc">`,
    `<label for="${id(c.scope)}">${label} <code>${escapeHtml(c.scope)}</code></label>`,
    `<p class="hint" id="${id(c.scope)}-desc">${escapeHtml(c.description)}</p>`,
    `</div>`,
  ].join("");
}

/**
 * One radio of a resource's None / Read / Write choice. Write grants the
 * resource's read scope too (data-grants): the catalog's write scopes do not
 * include reading, and an integration that writes nearly always reads.
 */
function scopeRadio(resource: string, c: ScopeChoice | null, label: string, grants: string[]): string {
  if (!c) return `<span class="seg-none" aria-hidden="true"></span>`;
  return [
    `<input type="radio" name="res-${escapeHtml(resource)}" id="${id(c.scope)}" value="${escapeHtml(c.scope)}" data-scope="${escapeHtml(c.scope)}"`,
    ` data-grants="${escapeHtml(grants.join(" "))}" data-granted-by="${escapeHtml(c.grantedBy.join(" "))}" aria-describedby="${id(c.scope)}-desc">`,
    `<label for="${id(c.scope)}" title="${escapeHtml(c.description)}">${label}</label>`,
    `<span class="visually-hidden" id="${id(c.scope)}-desc">${escapeHtml(c.description)}</span>`,
  ].join("");
}

function scopeGrid(): string {
  const rows = resourceGroups().map((g) => {
    const r = escapeHtml(g.resource);
    const what = [g.read ? `Read: ${g.read.description}` : "", g.write ? `Write: ${g.write.description}` : ""].filter(Boolean).join(". ");
    const note = g.explicitOnly ? ` <span class="hint">(not in broad scopes)</span>` : "";
    const writeGrants = [g.read?.scope, g.write?.scope].filter((x): x is string => typeof x === "string");
    return [
      `<div class="scope-row" role="radiogroup" aria-labelledby="res-${r}-name">`,
      `<span class="scope-res" id="res-${r}-name" title="${escapeHtml(what)}"><code>${r}</code>${note}</span>`,
      `<span class="seg">`,
      `<input type="radio" name="res-${r}" id="scope-${r}-none" value="" checked><label for="scope-${r}-none">None</label>`,
      scopeRadio(g.resource, g.read, "Read", g.read ? [g.read.scope] : []),
      scopeRadio(g.resource, g.write, g.read ? "Write" : "Write only", writeGrants),
      `</span>`,
      `</div>`,
    ].join("");
  });
  return `<div class="scope-rows">${rows.join("")}</div>`;
}

function legacyScopes(): string {
  const labels: Record<string, string> = { read: "Read everything", write: "Write everything", "*": "Full access" };
  return legacyChoices()
    .map((c) => checkbox(c, labels[c.scope] ?? c.scope))
    .join("");
}

/** A field's own error line, next to it; the client fills it and points the field's aria-describedby at it. */
const fieldErrorLine = (field: string): string => `<p class="field-error" id="${field}-error" hidden></p>`;

/** The key table's header row, from the column list the client renders cells for. */
function keyColumnHeaders(): string {
  return KEY_COLUMNS.map(
    (c) =>
      `<th scope="col" class="col-${c.id}">${c.hideLabel ? `<span class="visually-hidden">${escapeHtml(c.label)}</span>` : escapeHtml(c.label)}</th>`,
  ).join("");
}

/** `signIn`: people sign in too (OIDC_ISSUER set): src/settings/person-markup.ts. */
export function renderPage(assets: { script: string; style: string }, signIn: PersonSignIn | null = null): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>API keys · Settings</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(assets.style)}">
<script src="${escapeHtml(assets.script)}" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="top">
<div class="top-inner">
<h1>API keys</h1>
<div id="session" class="session" hidden>
<span>Signed in with <strong id="session-name"></strong> <code id="session-display" class="display"></code> · organization <strong id="session-org"></strong></span>
<button type="button" id="sign-out">Sign out</button>
</div>
</div>
</header>
<main id="main" tabindex="-1">
<noscript><p class="notice">This page needs JavaScript. The API itself works without it: see <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<div id="alert" class="alert" role="alert" hidden></div>
<p id="status" class="visually-hidden" role="status" aria-live="polite"></p>

<section id="signin-view" class="card" aria-labelledby="signin-title" hidden>
${signIn ? personSignInBlock(signIn) : ""}
${keySignInHeading(signIn)}
<p>Paste a key that holds <code>api_keys:read</code> to see your organization's keys, and <code>api_keys:write</code> to generate, rename, rotate or revoke them (<code>*</code> holds both).</p>
<p class="hint">The key stays in this browser tab only (session storage): it is never put in a cookie or the address bar, and it is forgotten when you close the tab or sign out.</p>
<form id="signin-form" novalidate>
<label for="signin-key">API key</label>
<input id="signin-key" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" placeholder="pk_live_… or pk_test_…" aria-describedby="signin-error" required>
<p id="signin-error" class="field-error" role="alert" hidden></p>
<div class="actions"><button type="submit" class="primary" id="signin-submit">Sign in</button></div>
</form>
</section>

<section id="keys-view" aria-labelledby="keys-title" hidden>
<div class="toolbar">
<h2 id="keys-title">Keys</h2>
<button type="button" id="generate-open" class="primary">Generate new key</button>
</div>
<div class="filters" role="search" aria-label="Find keys">
<div><label for="state-filter">Show</label><select id="state-filter" autocomplete="off">${STATE_OPTIONS.map(([v, l]) => `<option value="${v}"${v === "active" ? " selected" : ""}>${l}</option>`).join("")}</select></div>
<div class="grow"><label for="key-search">Search</label><input id="key-search" type="search" autocomplete="off" spellcheck="false" placeholder="Name or key id"></div>
</div>
<p id="readonly-note" class="notice" hidden>Your key holds <code>api_keys:read</code> but not <code>api_keys:write</code>: you can see keys but not change them.</p>
<div class="table-wrap">
<table id="keys-table" class="keys">
<caption class="visually-hidden">Your organization's API keys, newest first</caption>
<thead><tr>${keyColumnHeaders()}</tr></thead>
<tbody id="keys-body"></tbody>
</table>
</div>
<p id="keys-empty" class="empty" hidden>No keys yet.</p>
<div class="actions"><button type="button" id="load-more" hidden>Load more</button></div>
</section>
</main>

<dialog id="generate-dialog" class="wide" aria-labelledby="generate-title">
<form id="generate-form" novalidate>
<h2 id="generate-title">Generate new key</h2>
<label for="generate-name">Name</label>
<input id="generate-name" maxlength="100" autocomplete="off" required aria-describedby="generate-name-hint">
<p class="hint" id="generate-name-hint">Where the key is used, e.g. “Zapier integration”. You can rename it later.</p>
${fieldErrorLine("generate-name")}
<fieldset id="scope-picker" aria-describedby="scope-picker-hint">
<legend>Scopes</legend>
<p class="hint" id="scope-picker-hint">Grant only what the integration needs; Write includes Read. Scopes are fixed for the key’s life. Choices your own key does not hold are disabled.</p>
${scopeGrid()}
<details class="broad" id="broad-scopes">
<summary>Broad scopes (not recommended)</summary>
<p class="warning">These grant far more than one integration needs: <code>read</code> holds every read scope and <code>write</code> every write scope, both except <code>api_keys</code>; <code>*</code> holds every scope, including managing API keys. A leaked key with one of them exposes everything.</p>
${legacyScopes()}
</details>
${fieldErrorLine("scope-picker")}
</fieldset>
<div class="form-row">
<fieldset id="expiry-group" class="inline">
<legend>Expiry</legend>
<div class="radio"><input type="radio" name="expiry" id="expiry-never" value="never" checked><label for="expiry-never">Never</label></div>
<div class="radio"><input type="radio" name="expiry" id="expiry-30" value="30"><label for="expiry-30">30 days</label></div>
<div class="radio"><input type="radio" name="expiry" id="expiry-90" value="90"><label for="expiry-90">90 days</label></div>
<div class="radio"><input type="radio" name="expiry" id="expiry-365" value="365"><label for="expiry-365">365 days</label></div>
<div class="radio"><input type="radio" name="expiry" id="expiry-date" value="date"><label for="expiry-date">On a date</label></div>
<label for="expiry-on" class="visually-hidden">Expiry date</label>
<input type="date" id="expiry-on" disabled hidden aria-describedby="expiry-on-hint">
<p class="hint" id="expiry-on-hint" hidden>The key stops working at the end of that day in <span id="reader-zone">your time zone</span>.</p>
${fieldErrorLine("expiry-group")}
</fieldset>
<fieldset id="mode-group" class="inline">
<legend>Mode</legend>
<div class="radio"><input type="radio" name="mode" id="mode-live" value="live" checked aria-describedby="mode-live-desc"><label for="mode-live">Live</label></div>
<div class="radio"><input type="radio" name="mode" id="mode-test" value="test" aria-describedby="mode-test-desc"><label for="mode-test">Test</label></div>
<p class="hint"><span id="mode-live-desc">Live (<code>pk_live_</code>) reaches production data;</span> <span id="mode-test-desc">test (<code>pk_test_</code>) only the test environment.</span></p>
<p class="hint" id="mode-test-only" hidden>You are signed in with a test key: it can only generate test keys.</p>
${fieldErrorLine("mode-group")}
</fieldset>
</div>
<details id="limits-details" class="optional">
<summary>Limits and network (optional)</summary>
<p class="warning" id="limits-fixed">These are fixed for the key’s whole life, like its scopes: to change them, generate a new key and revoke the old one.</p>
<div class="limit-row">
<div><label for="rate-limit">Rate limit: requests</label><input id="rate-limit" type="number" inputmode="numeric" min="1" max="${RATE_LIMIT_MAX}" step="1" autocomplete="off" aria-describedby="rate-limit-hint"></div>
<div><label for="rate-period">per</label><select id="rate-period">${RATE_PERIODS.map((p) => `<option value="${p.seconds}"${p.seconds === 60 ? " selected" : ""}>${p.label}</option>`).join("")}</select></div>
</div>
<p class="hint" id="rate-limit-hint">Empty: your organization’s default limit applies, if any. Up to ${n(RATE_LIMIT_MAX)} requests per period.</p>
${fieldErrorLine("rate-limit")}
<label for="monthly-quota">Monthly quota: requests per calendar month (UTC)</label>
<input id="monthly-quota" type="number" inputmode="numeric" min="1" max="${MONTHLY_QUOTA_MAX}" step="1" autocomplete="off" aria-describedby="monthly-quota-hint">
<p class="hint" id="monthly-quota-hint">Empty: no quota. At most ${n(MONTHLY_QUOTA_MAX)}.</p>
${fieldErrorLine("monthly-quota")}
<label for="allowed-cidrs">IP allowlist: one address or CIDR block per line</label>
<textarea id="allowed-cidrs" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" aria-describedby="allowed-cidrs-hint"></textarea>
<p class="hint" id="allowed-cidrs-hint">Empty: usable from any address. IPv4 or IPv6 (e.g. <code>203.0.113.0/24</code>, <code>2001:db8::/32</code>), up to ${MAX_ALLOWED_CIDRS} blocks; requests from elsewhere are refused.</p>
${fieldErrorLine("allowed-cidrs")}
</details>
<p id="generate-error" class="form-error" role="alert" hidden></p>
<div class="actions"><button type="button" class="close-dialog">Cancel</button><button type="submit" class="primary" id="generate-submit">Generate key</button></div>
</form>
</dialog>

<dialog id="reveal-dialog" aria-labelledby="reveal-title" aria-describedby="reveal-warning">
<h2 id="reveal-title">Your new key</h2>
<p id="reveal-warning" class="warning"><strong>Copy this key now: it will not be shown again.</strong> Store it in a secret manager. Anyone who has it can call the API with its scopes.</p>
<p id="reveal-about" class="hint"></p>
<div id="reveal-slot" class="secret-slot"></div>
<p id="copy-status" class="hint" role="status"></p>
<div id="reveal-confirm" class="confirm" role="alertdialog" aria-labelledby="reveal-confirm-text" hidden>
<p id="reveal-confirm-text"><strong>You have not copied the key.</strong> Once this dialog closes the key cannot be shown again: you would have to rotate it.</p>
<div class="actions"><button type="button" id="reveal-back" class="primary">Back to the key</button><button type="button" id="reveal-discard" class="danger">Close without copying</button></div>
</div>
<div class="actions"><button type="button" id="copy-key">Copy key</button><button type="button" id="reveal-done" class="primary">Done</button></div>
</dialog>

<dialog id="key-detail" class="drawer" aria-labelledby="detail-title">
<div class="drawer-head"><h2 id="detail-title">Key</h2><button type="button" class="close-dialog icon" aria-label="Close">×</button></div>
<div id="detail-warning" class="warning" hidden></div>
<dl id="detail-facts" class="facts"></dl>
<div id="detail-actions" class="actions start"></div>
<h3 id="detail-events-title">History</h3>
<ol id="detail-events" class="events" aria-labelledby="detail-events-title" aria-busy="false"></ol>
<p id="detail-error" class="form-error" role="alert" hidden></p>
</dialog>

<dialog id="usage-dialog" aria-labelledby="usage-title">
<h2 id="usage-title">Usage</h2>
<div class="usage-range" role="group" aria-label="Period">
<button type="button" id="usage-hour" data-granularity="hour" aria-pressed="true">Last 24 hours</button>
<button type="button" id="usage-day" data-granularity="day" aria-pressed="false">Last 30 days</button>
</div>
<p class="hint">Requests made with this key, by the status class of the answer. Times are in UTC, the hours and days the API counts in. Counts arrive within seconds.</p>
<div id="usage-chart" class="usage-chart" aria-live="polite"></div>
<div class="usage-plot" id="usage-plot" hidden><svg id="usage-svg" class="usage-svg" role="img" aria-labelledby="usage-svg-title" viewBox="0 0 ${USAGE_CHART.width} ${USAGE_CHART.height + USAGE_CHART.axis}"><title id="usage-svg-title">Usage</title></svg></div>
<p id="usage-error" class="form-error" role="alert" hidden></p>
<div class="actions"><button type="button" class="close-dialog primary">Close</button></div>
</dialog>

<dialog id="rename-dialog" aria-labelledby="rename-title">
<form id="rename-form" novalidate>
<h2 id="rename-title">Rename key</h2>
<label for="rename-name">New name</label>
<input id="rename-name" maxlength="100" autocomplete="off" required>
<p id="rename-error" class="form-error" role="alert" hidden></p>
<div class="actions"><button type="button" class="close-dialog">Cancel</button><button type="submit" class="primary">Save</button></div>
</form>
</dialog>

<dialog id="rotate-dialog" aria-labelledby="rotate-title">
<form id="rotate-form" novalidate>
<h2 id="rotate-title">Rotate key</h2>
<p id="rotate-text"></p>
<label for="rotate-grace">The old key keeps working</label>
<select id="rotate-grace">
<option value="0">Not at all: it stops now</option>
<option value="3600">For 1 hour</option>
<option value="86400">For 24 hours</option>
<option value="604800">For 7 days</option>
</select>
<p class="hint">A grace period lets you deploy the new key before the old one stops.</p>
<p id="rotate-self" class="warning" hidden>This is the key you are signed in with: this page switches to the new key.</p>
<p id="rotate-error" class="form-error" role="alert" hidden></p>
<div class="actions"><button type="button" class="close-dialog">Cancel</button><button type="submit" class="primary">Rotate key</button></div>
</form>
</dialog>

<dialog id="revoke-dialog" aria-labelledby="revoke-title" aria-describedby="revoke-text">
<form id="revoke-form" novalidate>
<h2 id="revoke-title">Revoke key?</h2>
<p id="revoke-text"></p>
<div id="revoke-predecessor" class="warning" hidden>
<p id="revoke-predecessor-text"></p>
<div class="radio"><input type="checkbox" id="revoke-both"><label for="revoke-both" id="revoke-both-label">Also revoke the old key now</label></div>
</div>
<p id="revoke-self" class="warning" hidden>This is the key you are signed in with: you will be signed out.</p>
<p id="revoke-error" class="form-error" role="alert" hidden></p>
<div class="actions"><button type="button" class="close-dialog">Cancel</button><button type="submit" class="danger" id="revoke-confirm">Revoke key</button></div>
</form>
</dialog>
</body>
</html>
`;
}

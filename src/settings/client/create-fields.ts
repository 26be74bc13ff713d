import { SCOPE_CATALOG, scopesBeyond } from "../../auth/scopes.ts";
import type { KeyObject } from "../../management/object.ts";
import { scopeInputId } from "../shared/markup.ts";
import type { CreateKeyRequest } from "./api.ts";
import { byId, el } from "./dom.ts";

/**
 * The "Generate new key" dialog's fields, as data: each prepares itself when
 * the dialog opens and contributes its part of the POST /api/v1/api-keys body
 * (or says what to fix). A new field is its markup in src/settings/page.ts
 * plus one entry here. Bounds are the API's to check: its 400 names the field.
 */
export type FieldResult = { body: Partial<CreateKeyRequest> } | { error: string };

export interface CreateField {
  /** Called each time the dialog opens (after the form's reset), for the signed-in key. */
  prepare(self: KeyObject): void;
  read(): FieldResult;
}

const DAY_MS = 24 * 3600 * 1000;

const nameField: CreateField = {
  prepare() {},
  read() {
    const name = byId("generate-name", HTMLInputElement).value.trim();
    return name ? { body: { name } } : { error: "Give the key a name" };
  },
};

/** The scope checkboxes, found from the shared catalog (src/auth/scopes.ts) rather than from the page. */
const scopeBox = (scope: string) => byId(scopeInputId(scope), HTMLInputElement);

/**
 * Scopes the signed-in key could not hand out are disabled and say so: the
 * same rule (scopesBeyond) the API applies with a 403.
 */
const scopesField: CreateField = {
  prepare(self) {
    for (const { scope } of SCOPE_CATALOG) {
      const box = scopeBox(scope);
      const ok = scopesBeyond(self.scopes, [scope]).length === 0;
      box.disabled = !ok;
      if (!ok) box.checked = false;
      // Said in the scope's description, which the checkbox points to with aria-describedby.
      const desc = document.getElementById(`${box.id}-desc`);
      const note = desc?.querySelector(".not-held");
      if (!ok && desc && !note) desc.prepend(el("span", { className: "not-held", text: "Your key does not hold this scope. " }));
      if (ok && note) note.remove();
    }
  },
  read() {
    const scopes = SCOPE_CATALOG.map((s) => s.scope).filter((scope) => scopeBox(scope).checked);
    return scopes.length > 0 ? { body: { scopes } } : { error: "Choose at least one scope" };
  },
};

function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const chosenExpiry = () => document.querySelector<HTMLInputElement>("#generate-form input[name=expiry]:checked")?.value ?? "never";

/** Never, in N days, or the end of a chosen day in the reader's time zone. */
const expiryField: CreateField = {
  prepare() {
    const on = byId("expiry-on", HTMLInputElement);
    on.disabled = true;
    on.min = localDate(new Date(Date.now() + DAY_MS));
  },
  read() {
    const choice = chosenExpiry();
    if (choice === "never") return { body: {} };
    if (choice !== "date") return { body: { expires_at: new Date(Date.now() + Number(choice) * DAY_MS).toISOString() } };
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(byId("expiry-on", HTMLInputElement).value);
    if (!m) return { error: "Pick the date the key should stop working" };
    const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999);
    if (end.getTime() <= Date.now()) return { error: "Pick a date in the future" };
    return { body: { expires_at: end.toISOString() } };
  },
};

/** The date input is usable only with "On a date" chosen. */
export function wireExpiry(): void {
  const on = byId("expiry-on", HTMLInputElement);
  for (const radio of document.querySelectorAll<HTMLInputElement>("#generate-form input[name=expiry]")) {
    radio.addEventListener("change", () => {
      const onDate = chosenExpiry() === "date";
      on.disabled = !onDate;
      if (onDate) on.focus();
    });
  }
}

/**
 * Live or test. A test key may only create test keys (the API answers 403
 * otherwise), so signed in with one, Live is disabled and Test chosen.
 */
const modeField: CreateField = {
  prepare(self) {
    const testOnly = self.mode === "test";
    const live = byId("mode-live", HTMLInputElement);
    live.disabled = testOnly;
    byId(testOnly ? "mode-test" : "mode-live", HTMLInputElement).checked = true;
    byId("mode-test-only").hidden = !testOnly;
  },
  read() {
    const mode = document.querySelector<HTMLInputElement>("#generate-form input[name=mode]:checked")?.value;
    return mode === "live" || mode === "test" ? { body: { mode } } : { error: "Choose live or test" };
  },
};

/** A whole number typed in `id`, null when empty; the API checks the bounds and names the field. */
function wholeNumber(id: string): number | null | "bad" {
  const text = byId(id, HTMLInputElement).value.trim();
  if (!text) return null;
  return /^\d+$/.test(text) ? Number(text) : "bad";
}

/** Both empty: no limit of its own (the organization default applies); one without the other is a mistake. */
const rateLimitField: CreateField = {
  prepare() {},
  read() {
    const limit = wholeNumber("rate-limit");
    const period = wholeNumber("rate-period");
    if (limit === null && period === null) return { body: {} };
    if (limit === "bad" || period === "bad") return { error: "The rate limit takes whole numbers: requests, and a period in seconds" };
    if (limit === null) return { error: "Give the rate limit's number of requests, or leave both rate limit fields empty" };
    if (period === null) return { error: "Give the rate limit's period in seconds, or leave both rate limit fields empty" };
    return { body: { rate_limit: { limit, period_s: period } } };
  },
};

const quotaField: CreateField = {
  prepare() {},
  read() {
    const quota = wholeNumber("monthly-quota");
    if (quota === null) return { body: {} };
    if (quota === "bad") return { error: "The monthly quota takes a whole number of requests" };
    return { body: { monthly_quota: quota } };
  },
};

/** One block per line; blank lines ignored; none at all: the field is omitted (any address). */
const allowlistField: CreateField = {
  prepare() {},
  read() {
    const blocks = byId("allowed-cidrs", HTMLTextAreaElement)
      .value.split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
    return blocks.length > 0 ? { body: { allowed_cidrs: blocks } } : { body: {} };
  },
};

/** In the order their problems are reported: the first field with one wins. */
export const CREATE_FIELDS: readonly CreateField[] = [nameField, scopesField, expiryField, modeField, rateLimitField, quotaField, allowlistField];

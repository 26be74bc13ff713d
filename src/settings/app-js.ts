/**
 * The settings page's script, served as /settings/api-keys/app.js (the page
 * has no inline script: `script-src 'self'`). Plain browser JavaScript, no
 * framework, no network but same-origin calls to /api/v1/api-keys.
 *
 * The admin key lives in sessionStorage only (never a cookie, the URL or a
 * log); a new key's plaintext lives in the reveal dialog only until it closes.
 * Everything the API returns is put on the page as text, never as HTML.
 *
 * Kept free of backquotes and dollar-brace so it can sit in String.raw as is.
 */
export const APP_JS = String.raw`(() => {
  "use strict";

  const API = "/api/v1/api-keys";
  const STORE = "ats-gateway.settings.api-key";
  const KEY_FORMAT = /^pk_live_[A-Za-z0-9_-]{48}$/;
  const PAGE_SIZE = 50;
  const DAY_MS = 24 * 3600 * 1000;

  const $ = (id) => document.getElementById(id);

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const name of Object.keys(props)) {
        const value = props[name];
        if (name === "text") node.textContent = value;
        else if (name === "className") node.className = value;
        else if (name === "hidden") node.hidden = Boolean(value);
        else node.setAttribute(name, value);
      }
    }
    for (const child of children || []) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  const state = {
    key: null,
    self: null,
    canWrite: false,
    keys: new Map(),
    nextCursor: null,
  };

  // ---------------------------------------------------------------- storage

  function storedKey() {
    try {
      return window.sessionStorage.getItem(STORE);
    } catch (e) {
      return null;
    }
  }
  function storeKey(key) {
    try {
      if (key === null) window.sessionStorage.removeItem(STORE);
      else window.sessionStorage.setItem(STORE, key);
    } catch (e) {
      // Storage disabled: the key then lives in this page's memory only.
    }
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body, key) {
    const headers = { accept: "application/json", authorization: "Bearer " + (key || state.key) };
    const init = { method, headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer", redirect: "error" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (e) {
      throw new ApiError(0, "network", "Could not reach the API. Check your connection and try again.");
    }
    let envelope = null;
    try {
      envelope = await res.json();
    } catch (e) {
      envelope = null;
    }
    if (res.ok && envelope && envelope.success === true) return envelope.data;
    const first = envelope && Array.isArray(envelope.errors) ? envelope.errors[0] : null;
    const message = first && typeof first.message === "string" && first.message
      ? first.message
      : "The API answered with status " + res.status + ".";
    throw new ApiError(res.status, first && first.code ? first.code : "unknown", message);
  }

  /** A failed call: the session ends on 401 (key revoked or expired meanwhile); otherwise the message is shown. */
  function failed(err, show) {
    if (err instanceof ApiError && err.status === 401 && state.key) {
      signOut("Your key stopped working (" + sentence(err.message) + ") Sign in with another key.");
      return;
    }
    show(err instanceof Error ? err.message : String(err));
  }

  const sentence = (s) => (/[.!?]$/.test(s) ? s : s + ".");

  // ---------------------------------------------------------------- messages

  function showAlert(message) {
    const box = $("alert");
    box.textContent = sentence(message);
    box.hidden = false;
  }
  function clearAlert() {
    $("alert").hidden = true;
    $("alert").textContent = "";
  }
  function announce(message) {
    $("status").textContent = "";
    window.setTimeout(() => ($("status").textContent = message), 50);
  }
  function fieldError(id, message) {
    const box = $(id);
    box.textContent = message ? sentence(message) : "";
    box.hidden = !message;
  }

  // ---------------------------------------------------------------- formatting

  function when(iso, never) {
    if (!iso) return document.createTextNode(never);
    const date = new Date(iso);
    const text = isNaN(date.getTime())
      ? iso
      : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    return el("time", { datetime: iso, title: iso, text });
  }

  const quoted = (name) => "\u201c" + name + "\u201d";

  function holdsScope(held, scope) {
    return held.includes("*") || held.includes(scope);
  }

  // ---------------------------------------------------------------- dialogs

  const returnFocus = new WeakMap();

  function openDialog(dialog, focusBack) {
    closeMenu(false);
    returnFocus.set(dialog, focusBack);
    dialog.showModal();
  }

  function wireDialog(dialog) {
    for (const button of dialog.querySelectorAll(".close-dialog")) {
      button.addEventListener("click", () => dialog.close());
    }
    dialog.addEventListener("close", () => {
      const back = returnFocus.get(dialog);
      returnFocus.delete(dialog);
      if (document.querySelector("dialog[open]")) return;
      const target = typeof back === "function" ? back() : back;
      if (target && document.contains(target) && !target.hidden) target.focus();
    });
  }

  function rowButton(id) {
    return () => {
      const row = rowOf(id);
      return (row && row.querySelector(".menu-button")) || $("keys-title");
    };
  }

  function busy(form, on) {
    for (const button of form.querySelectorAll("button")) button.disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  // ---------------------------------------------------------------- row menus

  let openMenuState = null;

  function closeMenu(focusButton) {
    if (!openMenuState) return;
    const { button, menu } = openMenuState;
    openMenuState = null;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (focusButton) button.focus();
  }

  function openMenu(button, menu, focusIndex) {
    closeMenu(false);
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    openMenuState = { button, menu };
    const items = [...menu.querySelectorAll("[role=menuitem]")];
    const item = items[focusIndex < 0 ? items.length - 1 : focusIndex];
    if (item) item.focus();
  }

  function buildMenu(k) {
    const menuId = "menu-" + k.id;
    const button = el("button", {
      type: "button",
      className: "menu-button",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": menuId,
      "aria-label": "Actions for " + k.name,
      text: "\u2026",
    });
    const menu = el("div", { className: "menu", id: menuId, role: "menu", "aria-label": "Actions for " + k.name, hidden: true });
    const actions = [["Rename\u2026", () => openRename(k.id), ""]];
    const live = k.state === "active";
    if (live && !k.revoked_at) actions.push(["Rotate\u2026", () => openRotate(k.id), ""]);
    if (live) actions.push(["Revoke\u2026", () => openRevoke(k.id), "danger-item"]);
    for (const [label, run, className] of actions) {
      const item = el("button", { type: "button", role: "menuitem", tabindex: "-1", className, text: label });
      item.addEventListener("click", () => {
        closeMenu(false);
        run();
      });
      menu.append(item);
    }
    button.addEventListener("click", () => {
      if (openMenuState && openMenuState.menu === menu) closeMenu(true);
      else openMenu(button, menu, 0);
    });
    button.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        openMenu(button, menu, e.key === "ArrowDown" ? 0 : -1);
      }
    });
    menu.addEventListener("keydown", (e) => {
      const items = [...menu.querySelectorAll("[role=menuitem]")];
      const at = items.indexOf(document.activeElement);
      let next = null;
      if (e.key === "ArrowDown") next = (at + 1) % items.length;
      else if (e.key === "ArrowUp") next = (at - 1 + items.length) % items.length;
      else if (e.key === "Home") next = 0;
      else if (e.key === "End") next = items.length - 1;
      else if (e.key === "Escape") {
        e.preventDefault();
        closeMenu(true);
        return;
      } else if (e.key === "Tab") {
        closeMenu(false);
        return;
      }
      if (next !== null) {
        e.preventDefault();
        items[next].focus();
      }
    });
    return el("div", { className: "row-menu" }, [button, menu]);
  }

  document.addEventListener("click", (e) => {
    if (openMenuState && !openMenuState.menu.contains(e.target) && !openMenuState.button.contains(e.target)) closeMenu(false);
  });

  // ---------------------------------------------------------------- table

  function rowOf(id) {
    return $("keys-body").querySelector("tr[data-key-id=\"" + CSS.escape(id) + "\"]");
  }

  function stateCell(k) {
    const badge = el("span", { className: "state state-" + k.state, text: k.state });
    let note = null;
    const now = Date.now();
    if (k.state === "active" && k.revoked_at && Date.parse(k.revoked_at) > now) {
      note = el("span", { className: "state-note" }, ["rotated; stops ", when(k.revoked_at, "")]);
    } else if (k.state === "revoked" && k.revoked_at) {
      note = el("span", { className: "state-note" }, [when(k.revoked_at, "")]);
    }
    return [badge, note];
  }

  function renderRow(k) {
    const mine = state.self && k.id === state.self.id;
    // One wrapper per cell: at phone width each cell is a two-column grid (label, value).
    const cell = (label, className, children) =>
      el("td", { "data-label": label, className }, [el("div", { className: "cell-value" }, children)]);
    const tr = el("tr", { "data-key-id": k.id, className: "is-" + k.state }, [
      cell("Name", "cell-name", [el("strong", { text: k.name }), mine ? el("span", { className: "state-note", text: "this session's key" }) : null]),
      cell("Key", "", [el("code", { className: "display", text: k.display })]),
      cell("Scopes", "", [el("span", { className: "chips" }, k.scopes.map((s) => el("code", { className: "chip", text: s })))]),
      cell("Created", "", [when(k.created_at, "")]),
      cell("Last used", "", [when(k.last_used_at, "Never")]),
      cell("Expires", "", [when(k.expires_at, "Never")]),
      cell("State", "", stateCell(k)),
      cell("Actions", "cell-actions", [state.canWrite ? buildMenu(k) : null]),
    ]);
    return tr;
  }

  /** Adds or replaces a key's row; new keys go on top (newest first) or, when paging, at the end. */
  function upsert(k, atTop) {
    state.keys.set(k.id, k);
    const row = renderRow(k);
    const old = rowOf(k.id);
    const focusWasIn = old && old.contains(document.activeElement);
    if (old) old.replaceWith(row);
    else if (atTop) $("keys-body").prepend(row);
    else $("keys-body").append(row);
    if (focusWasIn) row.querySelector(".menu-button")?.focus();
    $("keys-empty").hidden = state.keys.size > 0;
  }

  async function loadKeys(reset) {
    if (reset) {
      state.keys.clear();
      state.nextCursor = null;
      $("keys-body").replaceChildren();
    }
    const more = $("load-more");
    more.disabled = true;
    try {
      const query = "?limit=" + PAGE_SIZE + (state.nextCursor ? "&cursor=" + encodeURIComponent(state.nextCursor) : "");
      const page = await api("GET", query);
      for (const k of page.items) upsert(k, false);
      state.nextCursor = page.next_cursor;
      more.hidden = !page.next_cursor;
      $("keys-empty").hidden = state.keys.size > 0;
    } catch (err) {
      failed(err, (m) => showAlert("Could not load the keys: " + m));
    } finally {
      more.disabled = false;
      $("keys-table").setAttribute("aria-busy", "false");
    }
  }

  // ---------------------------------------------------------------- session

  function renderSession() {
    const self = state.self;
    $("session-name").textContent = self.name;
    $("session-display").textContent = self.display;
    $("session-org").textContent = self.organization_id;
    $("keys-title").textContent = "Keys of organization " + self.organization_id;
  }

  function applyScopeLimits() {
    const held = state.self ? state.self.scopes : [];
    const boxes = [...document.querySelectorAll("#generate-form input[name=scope]")];
    const byScope = new Map(boxes.map((b) => [b.value, b]));
    const single = (box) => (box.dataset.grantedBy || "").split(" ").filter(Boolean).some((s) => held.includes(s));
    for (const box of boxes) {
      const allOf = (box.dataset.allOf || "").split(" ").filter(Boolean);
      const ok = single(box) || (allOf.length > 0 && allOf.every((s) => byScope.has(s) && single(byScope.get(s))));
      box.disabled = !ok;
      if (!ok) box.checked = false;
      // Said in the scope's description, which the checkbox points to with aria-describedby.
      const desc = $(box.id + "-desc");
      const note = desc && desc.querySelector(".not-held");
      if (!ok && desc && !note) desc.prepend(el("span", { className: "not-held", text: "Your key does not hold this scope. " }));
      if (ok && note) note.remove();
    }
  }

  function startSession(key, self) {
    state.key = key;
    state.self = self;
    state.canWrite = holdsScope(self.scopes, "api_keys:write");
    renderSession();
    clearAlert();
    fieldError("signin-error", "");
    $("signin-view").hidden = true;
    $("session").hidden = false;
    $("keys-view").hidden = false;
    $("generate-open").hidden = !state.canWrite;
    $("readonly-note").hidden = state.canWrite;
    applyScopeLimits();
    $("keys-table").setAttribute("aria-busy", "true");
    return loadKeys(true);
  }

  function signOut(message) {
    storeKey(null);
    for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
    closeMenu(false);
    state.key = null;
    state.self = null;
    state.canWrite = false;
    state.keys.clear();
    state.nextCursor = null;
    $("keys-body").replaceChildren();
    $("keys-view").hidden = true;
    $("session").hidden = true;
    $("signin-view").hidden = false;
    clearAlert();
    fieldError("signin-error", message || "");
    announce(message || "Signed out.");
    $("signin-key").focus();
  }

  /** Checks a key with GET /self; returns an error message, or null once signed in. */
  async function trySignIn(key) {
    let self;
    try {
      self = await api("GET", "/self", undefined, key);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return "This key was not accepted: " + sentence(err.message);
      return err instanceof Error ? err.message : String(err);
    }
    if (!holdsScope(self.scopes, "api_keys:read")) {
      return (
        "The key " + quoted(self.name) + " works, but it cannot manage API keys: it needs the api_keys:read scope " +
        "(and api_keys:write to make changes), or *. It holds: " + self.scopes.join(" ") +
        ". The broad read and write scopes do not include api_keys."
      );
    }
    storeKey(key);
    await startSession(key, self);
    return null;
  }

  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("signin-key");
    const key = input.value.trim();
    if (!key) return fieldError("signin-error", "Paste an API key first");
    if (!KEY_FORMAT.test(key)) {
      return fieldError("signin-error", "That is not an API key: keys start with pk_live_ followed by 48 letters, digits, - or _");
    }
    busy(e.target, true);
    fieldError("signin-error", "");
    try {
      const problem = await trySignIn(key);
      if (problem) {
        fieldError("signin-error", problem);
        input.focus();
      } else {
        input.value = "";
        announce("Signed in.");
        $("keys-title").setAttribute("tabindex", "-1");
        $("keys-title").focus();
      }
    } finally {
      busy(e.target, false);
    }
  });

  $("sign-out").addEventListener("click", () => signOut(""));
  $("load-more").addEventListener("click", () => loadKeys(false));

  // ---------------------------------------------------------------- generate

  const generateForm = $("generate-form");

  for (const radio of generateForm.querySelectorAll("input[name=expiry]")) {
    radio.addEventListener("change", () => {
      const onDate = generateForm.querySelector("input[name=expiry]:checked").value === "date";
      $("expiry-on").disabled = !onDate;
      if (onDate) $("expiry-on").focus();
    });
  }

  function localDate(d) {
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  $("generate-open").addEventListener("click", () => {
    generateForm.reset();
    $("expiry-on").disabled = true;
    $("expiry-on").min = localDate(new Date(Date.now() + DAY_MS));
    applyScopeLimits();
    fieldError("generate-error", "");
    openDialog($("generate-dialog"), $("generate-open"));
  });

  /** The expires_at to send, null for never; a string is an error message. */
  function chosenExpiry() {
    const choice = generateForm.querySelector("input[name=expiry]:checked").value;
    if (choice === "never") return { at: null };
    if (choice !== "date") return { at: new Date(Date.now() + Number(choice) * DAY_MS).toISOString() };
    const value = $("expiry-on").value;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!m) return { error: "Pick the date the key should stop working" };
    const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999);
    if (end.getTime() <= Date.now()) return { error: "Pick a date in the future" };
    return { at: end.toISOString() };
  }

  generateForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("generate-name").value.trim();
    const scopes = [...generateForm.querySelectorAll("input[name=scope]:checked")].map((b) => b.value);
    const expiry = chosenExpiry();
    let problem = null;
    if (!name) problem = "Give the key a name";
    else if (scopes.length === 0) problem = "Choose at least one scope";
    else if (expiry.error) problem = expiry.error;
    if (problem) return fieldError("generate-error", problem);
    fieldError("generate-error", "");
    const body = { name, scopes };
    if (expiry.at) body.expires_at = expiry.at;
    busy(generateForm, true);
    try {
      const created = await api("POST", "", body);
      const secret = created.key;
      delete created.key;
      upsert(created, true);
      $("generate-dialog").close();
      generateForm.reset();
      reveal(secret, created, rowButton(created.id));
      announce("Key " + quoted(created.name) + " generated.");
    } catch (err) {
      failed(err, (m) => fieldError("generate-error", "Could not generate the key: " + m));
    } finally {
      busy(generateForm, false);
    }
  });

  // ---------------------------------------------------------------- reveal once

  let revealed = null;

  function reveal(secret, k, focusBack) {
    revealed = secret;
    $("reveal-about").textContent = quoted(k.name) + " \u00b7 " + k.display + " \u00b7 " + k.scopes.join(" ");
    $("reveal-slot").replaceChildren(el("code", { className: "secret", id: "revealed-key", text: secret }));
    $("copy-status").textContent = "";
    openDialog($("reveal-dialog"), focusBack);
    $("copy-key").focus();
  }

  /** Once closed, the key is gone from the page: nothing left in the DOM or in this script. */
  function forgetRevealed() {
    revealed = null;
    $("reveal-slot").replaceChildren();
    $("reveal-about").textContent = "";
    $("copy-status").textContent = "";
    window.getSelection()?.removeAllRanges();
  }
  // Done clears at once; Escape closes the dialog too, and the close event clears then.
  $("reveal-dialog").addEventListener("close", forgetRevealed);
  $("reveal-done").addEventListener("click", () => {
    forgetRevealed();
    $("reveal-dialog").close();
  });

  $("copy-key").addEventListener("click", async () => {
    if (!revealed) return;
    const status = $("copy-status");
    try {
      await navigator.clipboard.writeText(revealed);
      status.textContent = "Copied to the clipboard.";
      return;
    } catch (e) {
      // No clipboard permission: select the text and try the older way.
    }
    const code = $("revealed-key");
    const range = document.createRange();
    range.selectNodeContents(code);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (e) {
      copied = false;
    }
    status.textContent = copied ? "Copied to the clipboard." : "Copying is blocked here: the key is selected, press Ctrl+C (\u2318C on a Mac).";
  });

  // ---------------------------------------------------------------- rename

  let renaming = null;

  function openRename(id) {
    const k = state.keys.get(id);
    if (!k) return;
    renaming = id;
    $("rename-title").textContent = "Rename " + quoted(k.name);
    $("rename-name").value = k.name;
    fieldError("rename-error", "");
    openDialog($("rename-dialog"), rowButton(id));
    $("rename-name").select();
  }

  $("rename-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const k = state.keys.get(renaming);
    const name = $("rename-name").value.trim();
    if (!k) return $("rename-dialog").close();
    if (!name) return fieldError("rename-error", "The name must not be empty");
    if (name === k.name) return $("rename-dialog").close();
    busy(e.target, true);
    try {
      const updated = await api("PATCH", "/" + encodeURIComponent(k.id), { name });
      upsert(updated, false);
      if (state.self && updated.id === state.self.id) {
        state.self = updated;
        renderSession();
      }
      $("rename-dialog").close();
      announce("Renamed to " + quoted(updated.name) + ".");
    } catch (err) {
      failed(err, (m) => fieldError("rename-error", "Could not rename the key: " + m));
    } finally {
      busy(e.target, false);
    }
  });

  // ---------------------------------------------------------------- rotate

  let rotating = null;

  function openRotate(id) {
    const k = state.keys.get(id);
    if (!k) return;
    rotating = id;
    $("rotate-title").textContent = "Rotate " + quoted(k.name);
    $("rotate-text").textContent =
      "Replace " + quoted(k.name) + " (" + k.display + ") with a new key that has the same name, scopes and expiry. The new key is shown once.";
    $("rotate-grace").value = "0";
    $("rotate-self").hidden = !(state.self && id === state.self.id);
    fieldError("rotate-error", "");
    openDialog($("rotate-dialog"), rowButton(id));
  }

  $("rotate-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const k = state.keys.get(rotating);
    if (!k) return $("rotate-dialog").close();
    const grace = Number($("rotate-grace").value);
    busy(e.target, true);
    try {
      const created = await api("POST", "/" + encodeURIComponent(k.id) + "/rotate", { grace_seconds: grace });
      const secret = created.key;
      delete created.key;
      if (state.self && k.id === state.self.id) {
        // The signed-in key was rotated: carry on with its successor.
        state.key = secret;
        storeKey(secret);
        state.self = created;
        renderSession();
      }
      upsert(created, true);
      try {
        upsert(await api("GET", "/" + encodeURIComponent(k.id)), false);
      } catch (err) {
        // The old row refreshes on the next load.
      }
      $("rotate-dialog").close();
      reveal(secret, created, rowButton(created.id));
      announce("Key " + quoted(created.name) + " rotated.");
    } catch (err) {
      failed(err, (m) => fieldError("rotate-error", "Could not rotate the key: " + m));
    } finally {
      busy(e.target, false);
    }
  });

  // ---------------------------------------------------------------- revoke

  let revoking = null;

  function openRevoke(id) {
    const k = state.keys.get(id);
    if (!k) return;
    revoking = id;
    $("revoke-title").textContent = "Revoke " + quoted(k.name) + "?";
    $("revoke-text").textContent =
      quoted(k.name) + " (" + k.display + ") stops working at once: every request made with it is refused. This cannot be undone.";
    $("revoke-self").hidden = !(state.self && id === state.self.id);
    fieldError("revoke-error", "");
    openDialog($("revoke-dialog"), rowButton(id));
  }

  $("revoke-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const k = state.keys.get(revoking);
    if (!k) return $("revoke-dialog").close();
    const own = state.self && k.id === state.self.id;
    busy(e.target, true);
    try {
      const revoked = await api("DELETE", "/" + encodeURIComponent(k.id));
      upsert(revoked, false);
      $("revoke-dialog").close();
      if (own) signOut("You revoked the key you were signed in with. Sign in with another key.");
      else announce("Key " + quoted(revoked.name) + " revoked.");
    } catch (err) {
      failed(err, (m) => fieldError("revoke-error", "Could not revoke the key: " + m));
    } finally {
      busy(e.target, false);
    }
  });

  // ---------------------------------------------------------------- start

  for (const dialog of document.querySelectorAll("dialog")) wireDialog(dialog);

  async function boot() {
    const key = storedKey();
    if (!key) {
      $("signin-view").hidden = false;
      return;
    }
    const problem = await trySignIn(key);
    if (problem) {
      storeKey(null);
      $("signin-view").hidden = false;
      fieldError("signin-error", problem);
    }
  }

  boot();
})();
`;

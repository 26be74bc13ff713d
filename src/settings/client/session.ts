import type { KeyObject } from "../../management/object.ts";
// Both modes: pk_live_… and pk_test_… (the same pattern the gateway checks before any lookup).
import { KEY_PATTERN } from "../../keys/format.ts";
import { ApiError, type Api } from "./api.ts";
import { busy, closeAllDialogs } from "./dialogs.ts";
import { byId, quoted, sentence } from "./dom.ts";
import { storedKey, storeKey } from "./key-store.ts";
import type { KeyTable } from "./key-table.ts";
import { announce, clearAlert, fieldError } from "./messages.ts";
import { closeMenu } from "./row-menu.ts";
import { holdsScope, setSignedIn, signedIn } from "./state.ts";
import { mayHaveSession, offersPersonSignIn, personSignInError, resumePerson, signOutPerson } from "./person-session.ts";

/**
 * Signing in with a key (checked with GET /self, kept in sessionStorage),
 * signing out (forgetting it), and ending the session when the key stops
 * working mid-way (a 401 on any call).
 */

export interface SessionHooks {
  /** Runs once signed in: shows the first page of keys. */
  started(): Promise<void>;
  /** Runs on sign-out: forgets what the page showed. */
  ended(): void;
}

export function createSession(api: Api, table: KeyTable, hooks: SessionHooks) {
  function renderSession(): void {
    const self = signedIn()?.self;
    if (!self) return;
    byId("session-name").textContent = self.name;
    byId("session-display").textContent = self.display;
    byId("session-org").textContent = self.organization_id;
    byId("keys-title").textContent = `Keys of organization ${self.organization_id}`;
  }

  function start(key: string | null, self: KeyObject): Promise<void> {
    const canWrite = holdsScope(self.scopes, "api_keys:write");
    setSignedIn({ key, self, canWrite });
    renderSession();
    clearAlert();
    fieldError("signin-error", "");
    byId("signin-view").hidden = true;
    byId("session").hidden = false;
    byId("keys-view").hidden = false;
    byId("generate-open").hidden = !canWrite;
    byId("readonly-note").hidden = canWrite;
    byId("keys-table").setAttribute("aria-busy", "true");
    return hooks.started();
  }

  /** `here`: only this page forgets the person (their session already ended at the gateway). */
  function signOut(message: string, here = false): void {
    if (signedIn()?.key === null && !here) {
      // A person: the gateway clears the session cookie, the provider ends its own session.
      void signOutPerson();
      return;
    }
    storeKey(null);
    closeAllDialogs();
    closeMenu(false);
    setSignedIn(null);
    table.clear();
    hooks.ended();
    byId("keys-view").hidden = true;
    byId("session").hidden = true;
    byId("signin-view").hidden = false;
    clearAlert();
    fieldError("signin-error", message);
    announce(message || "Signed out.");
    byId("signin-key").focus();
  }

  /** A failed call: the session ends on 401 (key revoked or expired meanwhile); otherwise `show` gets the message. */
  function failed(err: unknown, show: (message: string) => void): void {
    if (err instanceof ApiError && err.status === 401 && signedIn()) {
      if (signedIn()?.key === null) {
        personSignInError(`Your session has ended (${sentence(err.message)}) Sign in again.`);
        signOut("", true);
        return;
      }
      signOut(`Your key stopped working (${sentence(err.message)}) Sign in with another key.`);
      return;
    }
    show(err instanceof Error ? err.message : String(err));
  }

  /** Checks a key with GET /self; returns an error message, or null once signed in. */
  async function trySignIn(key: string): Promise<string | null> {
    let self: KeyObject;
    try {
      self = await api.self(key);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return `This key was not accepted: ${sentence(err.message)}`;
      return err instanceof Error ? err.message : String(err);
    }
    if (!holdsScope(self.scopes, "api_keys:read")) {
      return (
        `The key ${quoted(self.name)} works, but it cannot manage API keys: it needs the api_keys:read scope ` +
        `(and api_keys:write to make changes), or *. It holds: ${self.scopes.join(" ")}. ` +
        "The broad read and write scopes do not include api_keys."
      );
    }
    storeKey(key);
    await start(key, self);
    return null;
  }

  function wireSignIn(): void {
    const form = byId("signin-form", HTMLFormElement);
    const input = byId("signin-key", HTMLInputElement);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (!key) return fieldError("signin-error", "Paste an API key first");
      if (!KEY_PATTERN.test(key)) {
        return fieldError(
          "signin-error",
          "That is not an API key: keys start with pk_live_ or pk_test_ followed by 48 letters, digits, - or _",
        );
      }
      busy(form, true);
      fieldError("signin-error", "");
      try {
        const problem = await trySignIn(key);
        if (problem) {
          fieldError("signin-error", problem);
          input.focus();
        } else {
          input.value = "";
          announce("Signed in.");
          const title = byId("keys-title");
          title.setAttribute("tabindex", "-1");
          title.focus();
        }
      } finally {
        busy(form, false);
      }
    });
    byId("sign-out").addEventListener("click", () => signOut(""));
  }

  /** On load: carry on with the tab's stored key, if it still works; else with a person's session, if there is one. */
  async function resume(): Promise<void> {
    const key = storedKey();
    if (!key) {
      const person = offersPersonSignIn() && mayHaveSession() ? await resumePerson() : null;
      if (person) return start(null, person);
      byId("signin-view").hidden = false;
      return;
    }
    const problem = await trySignIn(key);
    if (problem) {
      storeKey(null);
      byId("signin-view").hidden = false;
      fieldError("signin-error", problem);
    }
  }

  return { renderSession, signOut, failed, wireSignIn, resume };
}

export type Session = ReturnType<typeof createSession>;

import type { Context } from "hono";
import { GatewayError } from "../errors.ts";
import type { AppEnv } from "../gateway/context.ts";
import type { KeyMode } from "../keys/format.ts";
import { actorOf } from "../people/person.ts";
import type { Actor } from "../storage/actors.ts";

/**
 * Who calls the management API, whichever way they proved it: a key, or a
 * person (session cookie or access token, src/people/). The same rules apply
 * to both (their organization only, their scopes); a person has no mode, so
 * no test-mode restriction applies to them.
 */
export interface Caller {
  organization_id: string;
  scopes: readonly string[];
  /** A key's mode; null for a person. */
  mode: KeyMode | null;
  /** The calling key's id; null for a person. */
  keyId: string | null;
  /** What the audit trail records. */
  actor: Actor;
}

/** Every management route requires a key or a person (the route table says so). */
export function callerOf(c: Context<AppEnv>): Caller {
  const state = c.get("state");
  if (state.auth) {
    const key = state.auth.key;
    return { organization_id: key.organization_id, scopes: key.scopes, mode: key.mode, keyId: key.id, actor: key.id };
  }
  if (state.person) {
    const p = state.person.person;
    return { organization_id: p.organization_id, scopes: p.scopes, mode: null, keyId: null, actor: actorOf(p) };
  }
  throw new GatewayError("internal_error", "A management route was reached without a key or a person");
}

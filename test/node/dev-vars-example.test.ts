import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  ConfigSchema,
  IdentityConfigSchema,
  OidcConfigSchema,
  parseConfig,
  parseIdentityConfig,
  parseOidcConfig,
} from "../../src/config.ts";
import { parseDevVars } from "../../scripts/lib/local-state.ts";

/**
 * .dev.vars.example is copied by hand: none of its values, commented out or
 * not, may be accepted as a real secret. Each is refused with its name.
 */
const example = readFileSync(new URL("../../.dev.vars.example", import.meta.url), "utf8");
// Commented-out settings count too: uncommenting one must not make a published value a secret.
const values = parseDevVars(example.replace(/^#\s?(?=[A-Z_]+=)/gm, ""));
const SECRET_NAMES = [
  "KEY_HASH_SECRET",
  "KEY_HASH_SECRET_PREVIOUS",
  "ORIGIN_TOKEN",
  "ANALYTICS_API_TOKEN",
  "IDENTITY_SIGNING_KEY",
  "OIDC_CLIENT_SECRET",
  "SESSION_SECRET",
];
/** Sign-in settings that parse, so only the one under test can be refused. */
const oidc = {
  OIDC_ISSUER: "https://idp.example.com/",
  OIDC_CLIENT_ID: "gateway",
  OIDC_CLIENT_SECRET: "s".repeat(32),
  SESSION_SECRET: "y".repeat(48),
};
const valid = { ORIGIN_URL: "http://127.0.0.1:8788", KEY_HASH_SECRET: "x".repeat(48), KEY_HASH_SECRET_PREVIOUS_VERSION: undefined };

describe(".dev.vars.example", () => {
  it("lists every secret setting", () => {
    for (const name of SECRET_NAMES) expect(values[name], name).toBeDefined();
  });

  it.each(SECRET_NAMES)("its %s is refused by name, never echoed", (name) => {
    const schema =
      name in IdentityConfigSchema.shape ? parseIdentityConfig : name in OidcConfigSchema.in.shape ? parseOidcConfig : parseConfig;
    const env =
      name in OidcConfigSchema.in.shape
        ? { ...oidc, [name]: values[name] }
        : name === "KEY_HASH_SECRET_PREVIOUS"
          ? { ...valid, [name]: values[name], KEY_HASH_SECRET_PREVIOUS_VERSION: "1", KEY_HASH_SECRET_VERSION: "2" }
          : { ...valid, [name]: values[name] };
    let thrown: unknown;
    try {
      schema(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const err = thrown as ConfigError;
    expect(err.settings).toContain(name);
    expect(err.message).toMatch(new RegExp(`${name} is still the example's placeholder`));
    expect(err.message).not.toContain(values[name]);
  });

  it("names only settings the gateway reads", () => {
    const known = new Set([
      ...Object.keys(ConfigSchema.shape),
      ...Object.keys(IdentityConfigSchema.shape),
      ...Object.keys(OidcConfigSchema.in.shape),
    ]);
    for (const name of Object.keys(values)) expect(known.has(name), name).toBe(true);
  });
});

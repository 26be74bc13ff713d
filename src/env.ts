/**
 * The bindings `wrangler types` generates (worker-configuration.d.ts), plus
 * what wrangler.toml cannot declare: secrets and the optional service binding.
 * Values are untrusted here; `parseConfig` is what the code reads.
 */
export type Bindings = Env & {
  KEY_HASH_SECRET?: string;
  ORIGIN_TOKEN?: string;
  /** An Ed25519 private key as a JWK (JSON): signs X-Gateway-Identity. */
  IDENTITY_SIGNING_KEY?: string;
  IDENTITY_SIGNING_KEY_PREVIOUS?: string;
  /** When the upstream is itself a Worker: requests go through this service binding. */
  ORIGIN?: Fetcher;
};

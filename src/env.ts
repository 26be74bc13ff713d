/**
 * The bindings `wrangler types` generates (worker-configuration.d.ts), plus
 * what wrangler.toml cannot declare: secrets and the optional service binding.
 * Values are untrusted here; `parseConfig` is what the code reads.
 */
export type Bindings = Env & {
  KEY_HASH_SECRET?: string;
  ORIGIN_TOKEN?: string;
  /** When the upstream is itself a Worker: requests go through this service binding. */
  ORIGIN?: Fetcher;
};

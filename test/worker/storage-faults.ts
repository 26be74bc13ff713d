import gateway from "../../src/index.ts";

// wrangler.toml binds KEY_METER to this entry's KeyMeter class: re-export the real one.
export { KeyMeter } from "../../src/index.ts";

/**
 * Test-only Worker entry (test/support/gateway-server.ts, `storageFaults`):
 * the real gateway, whose real KV and D1 bindings throw on every use while a
 * request carries `x-test-storage-fault: kv`, `d1` or `kv,d1`. docs/design.md §9
 * allows making a real binding throw; nothing here replaces storage with a fake.
 */
const FAULT_HEADER = "x-test-storage-fault";

function broken<T extends object>(binding: T, name: string): T {
  return new Proxy(binding, {
    get() {
      throw new Error(`simulated ${name} outage`);
    },
  });
}

// One env object per fault set, made once: each then keeps its own warm
// runtime (memory caches, limiter), as one isolate would.
const envs = new WeakMap<object, Map<string, Env>>();

function envFor(env: Env, faults: string): Env {
  let byFault = envs.get(env);
  if (!byFault) envs.set(env, (byFault = new Map()));
  let faulty = byFault.get(faults);
  if (!faulty) {
    const down = new Set(faults.split(",").map((s) => s.trim()));
    faulty = {
      ...env,
      KEYS_CACHE: down.has("kv") ? broken(env.KEYS_CACHE, "KV") : env.KEYS_CACHE,
      DB: down.has("d1") ? broken(env.DB, "D1") : env.DB,
    };
    byFault.set(faults, faulty);
  }
  return faulty;
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const faults = request.headers.get(FAULT_HEADER);
    return gateway.fetch(request, faults ? envFor(env, faults) : env, ctx);
  },
} satisfies ExportedHandler<Env>;

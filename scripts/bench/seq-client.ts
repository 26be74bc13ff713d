import { Agent, request } from "node:http";
import { readFileSync } from "node:fs";

/**
 * One request at a time over one keep-alive connection, each timed from send
 * to the last body byte: the latency of single requests (e.g. the first
 * lookup of a key that only D1 knows). Its own process, so the timing does not
 * share an event loop with Miniflare's host.
 *
 *   node scripts/bench/seq-client.ts PLAN.json   → prints {"latenciesMs":[…],"statuses":{…}}
 *
 * PLAN: {url, method, headers, count, keys?: string[]} — with `keys`, request i
 * sends `Authorization: Bearer keys[i]` (count = keys.length).
 */

interface Plan {
  url: string;
  method: string;
  headers: Record<string, string>;
  count: number;
  keys?: string[];
  /** Requests sent first and not recorded (e.g. to open the connection). */
  warmup?: number;
}

const plan = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as Plan;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const target = new URL(plan.url);

function once(authorization: string | undefined): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...plan.headers };
    if (authorization !== undefined) headers.authorization = authorization;
    const t0 = process.hrtime.bigint();
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: plan.method, headers, agent },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode ?? 0 }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  for (let i = 0; i < (plan.warmup ?? 0); i++) await once(undefined);
  const n = plan.keys ? plan.keys.length : plan.count;
  for (let i = 0; i < n; i++) {
    const key = plan.keys?.[i];
    const { ms, status } = await once(key === undefined ? undefined : `Bearer ${key}`);
    latenciesMs.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ latenciesMs, statuses })}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});

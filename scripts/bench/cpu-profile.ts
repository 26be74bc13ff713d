/**
 * A V8 CPU profile of one Worker while a row runs, through workerd's
 * inspector (Chrome DevTools protocol over a WebSocket; Node 22's global
 * WebSocket). `npm run bench -- --cpu-profile 3` saves the raw
 * `.cpuprofile` (open it in Chrome DevTools → Performance) and prints where
 * the isolate's time goes: by source module of the bundle and by function.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

class Inspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #next = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (ev: MessageEvent) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static open(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.addEventListener("open", () => resolve(new Inspector(ws)), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot open inspector ${url}`)), { once: true });
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

export interface Profiling {
  stop(): Promise<CpuProfile>;
}

/** Starts sampling the isolate of `workerName` (e.g. `core:user:gateway`) every `intervalUs`. */
export async function startCpuProfile(inspectorUrl: string, target: string, intervalUs = 100): Promise<Profiling> {
  const insp = await Inspector.open(`${inspectorUrl.replace(/\/$/, "")}/${target}`);
  await insp.send("Profiler.enable");
  await insp.send("Profiler.setSamplingInterval", { interval: intervalUs });
  await insp.send("Profiler.start");
  return {
    async stop() {
      const result = (await insp.send("Profiler.stop")) as { profile: CpuProfile };
      await insp.send("Profiler.disable").catch(() => {});
      insp.close();
      return result.profile;
    },
  };
}

export interface ProfileSummary {
  sampledMs: number;
  /** Share of sampled time, by module of the bundle (`src/…`, `node_modules/hono/…`) or V8 category. */
  byModule: { module: string; selfPct: number }[];
  topSelf: { fn: string; module: string; selfPct: number }[];
  topInclusive: { fn: string; module: string; totalPct: number }[];
}

/** Maps a bundle line to the module esbuild emitted it from (its `// path` comments). */
function moduleIndex(bundle: string): (line: number) => string {
  const starts: { line: number; module: string }[] = [];
  const lines = bundle.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\/\/ ((?:src|bench|node_modules)\/\S+)$/.exec(lines[i]!);
    if (m) starts.push({ line: i, module: m[1]!.replace(/^node_modules\/(\.pnpm\/)?/, "") });
  }
  return (line: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        found = starts[mid]!.module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

const V8_CATEGORIES = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

export function summarizeProfile(profile: CpuProfile, bundle: string, bundleUrlPart: string, top = 25): ProfileSummary {
  const moduleOf = moduleIndex(bundle);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const label = (n: ProfileNode): { fn: string; module: string } => {
    const f = n.callFrame;
    if (V8_CATEGORIES.has(f.functionName)) return { fn: f.functionName, module: f.functionName };
    const module = f.url.includes(bundleUrlPart) ? moduleOf(f.lineNumber) : f.url === "" ? "(native)" : f.url;
    return { fn: `${f.functionName || "(anonymous)"}:${f.lineNumber + 1}`, module };
  };
  let total = 0;
  for (const v of selfUs.values()) total += v;
  const idle = [...selfUs.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)").reduce((a, [, v]) => a + v, 0);
  const busy = Math.max(1, total - idle);

  const modules = new Map<string, number>();
  const selfFn = new Map<string, { fn: string; module: string; us: number }>();
  const inclFn = new Map<string, { fn: string; module: string; us: number }>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n || n.callFrame.functionName === "(idle)") continue;
    const l = label(n);
    modules.set(l.module, (modules.get(l.module) ?? 0) + us);
    const key = `${l.module} ${l.fn}`;
    const s = selfFn.get(key) ?? { ...l, us: 0 };
    s.us += us;
    selfFn.set(key, s);
    // Inclusive: every distinct function on the stack gets this sample's time once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
      const cn = byId.get(cur);
      if (!cn || cn.callFrame.functionName === "(root)") continue;
      const cl = label(cn);
      const ck = `${cl.module} ${cl.fn}`;
      if (seen.has(ck)) continue;
      seen.add(ck);
      const e = inclFn.get(ck) ?? { ...cl, us: 0 };
      e.us += us;
      inclFn.set(ck, e);
    }
  }
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  return {
    sampledMs: Math.round(busy / 100) / 10,
    byModule: [...modules.entries()].sort((a, b) => b[1] - a[1]).map(([module, us]) => ({ module, selfPct: pct(us) })),
    topSelf: [...selfFn.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({ fn: e.fn, module: e.module, selfPct: pct(e.us) })),
    topInclusive: [...inclFn.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({ fn: e.fn, module: e.module, totalPct: pct(e.us) })),
  };
}

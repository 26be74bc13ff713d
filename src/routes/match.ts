import type { Route } from "./table.ts";

/** All rows sharing one pattern: the methods it allows decide 404 vs 405. */
interface PatternGroup {
  pattern: string;
  byMethod: Map<string, Route>;
  allow: string;
}

interface Node {
  literal: Map<string, Node>;
  star?: Node;
  globstar?: PatternGroup;
  end?: PatternGroup;
}

export type RouteMatch =
  | { kind: "route"; route: Route; pattern: string }
  | { kind: "method_not_allowed"; pattern: string; allow: string }
  | { kind: "not_found" };

export interface RouteMatcher {
  match(method: string, path: string): RouteMatch;
}

const newNode = (): Node => ({ literal: new Map() });

/**
 * Compiles the table once per isolate into a segment trie. Lookup tries, at
 * each segment, a literal, then `*`, then `**`: the first group found is the
 * most specific pattern, and its methods alone decide the answer.
 */
export function compileRoutes(routes: readonly Route[]): RouteMatcher {
  const root = newNode();
  for (const route of routes) {
    const group = groupFor(root, route.pattern);
    for (const m of route.methods) {
      if (group.byMethod.has(m)) throw new Error(`Route table: ${m} ${route.pattern} is listed twice`);
      group.byMethod.set(m, route);
    }
    group.allow = [...group.byMethod.keys()].join(", ");
  }
  return {
    match(method, path) {
      const group = find(root, segmentsOf(path), 0);
      if (!group) return { kind: "not_found" };
      const route = group.byMethod.get(method);
      return route
        ? { kind: "route", route, pattern: group.pattern }
        : { kind: "method_not_allowed", pattern: group.pattern, allow: group.allow };
    },
  };
}

function groupFor(root: Node, pattern: string): PatternGroup {
  const segs = segmentsOf(pattern);
  let node = root;
  const fresh = (): PatternGroup => ({ pattern, byMethod: new Map(), allow: "" });
  for (const [i, seg] of segs.entries()) {
    if (seg === "**") {
      if (i !== segs.length - 1) throw new Error(`Route table: ** must be last in ${pattern}`);
      return (node.globstar ??= fresh());
    }
    if (seg === "*") node = node.star ??= newNode();
    else {
      let next = node.literal.get(seg);
      if (!next) node.literal.set(seg, (next = newNode()));
      node = next;
    }
  }
  return (node.end ??= fresh());
}

/** `/a/b/` and `/a/b` share segments: one trailing slash is allowed and forwarded as sent. */
function segmentsOf(path: string): string[] {
  const trimmed = path.endsWith("/") && path.length > 1 ? path.slice(1, -1) : path.slice(1);
  return trimmed === "" ? [] : trimmed.split("/");
}

function find(node: Node, segs: readonly string[], i: number): PatternGroup | undefined {
  if (i === segs.length) return node.end ?? node.globstar;
  const seg = segs[i]!;
  const lit = node.literal.get(seg);
  const viaLiteral = lit && find(lit, segs, i + 1);
  if (viaLiteral) return viaLiteral;
  const viaStar = node.star && seg !== "" && find(node.star, segs, i + 1);
  return viaStar || node.globstar;
}

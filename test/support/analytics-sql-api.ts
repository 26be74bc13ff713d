import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for Cloudflare's Analytics Engine SQL API (not our
 * storage: Cloudflare's), for the usage reader. Tests seed it with the data
 * points the gateway wrote (POST /__points) and read the queries it received
 * (GET /__queries). It answers the one query shape the gateway sends, from
 * the seeded points, the way the API does: FORMAT JSON, `_sample_interval`
 * weighting, DateTime as "YYYY-MM-DD HH:MM:SS" (UTC).
 */
export interface SeededPoint {
  /** ms since the epoch */
  timestamp: number;
  blobs: string[];
  doubles: number[];
  indexes: string[];
  sampleInterval?: number;
}

export const SQL_API_TOKEN = "test-analytics-token-0123456789";

export async function startSqlApi(): Promise<{ url: string; close(): Promise<void> }> {
  let points: SeededPoint[] = [];
  let queries: { sql: string; authorization: string | undefined }[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      const url = req.url ?? "/";
      if (url === "/__points" && req.method === "POST") {
        points.push(...(JSON.parse(body) as SeededPoint[]));
        return send(200, { ok: true });
      }
      if (url === "/__queries") return send(200, queries);
      if (url === "/__reset") {
        points = [];
        queries = [];
        return send(200, { ok: true });
      }
      queries.push({ sql: body, authorization: req.headers.authorization });
      if (url.startsWith("/broken")) return send(500, { errors: [{ message: "internal" }] });
      if (req.headers.authorization !== `Bearer ${SQL_API_TOKEN}`)
        return send(401, { errors: [{ code: 10000, message: "Authentication error" }] });
      const m =
        /FROM (\w+)\nWHERE index1 = '([^']*)' AND timestamp >= toDateTime\('([\d-]+ [\d:]+)'\) AND timestamp < toDateTime\('([\d-]+ [\d:]+)'\)\nGROUP BY hour, class\nFORMAT JSON$/.exec(
          body,
        );
      if (!m) return send(422, { errors: [{ message: "unsupported query (the stand-in plays one shape)" }] });
      const [, , index, fromText, toText] = m;
      const from = Date.parse(`${fromText!.replace(" ", "T")}Z`);
      const to = Date.parse(`${toText!.replace(" ", "T")}Z`);
      const sums = new Map<string, number>();
      for (const p of points) {
        if (p.indexes[0] !== index || p.timestamp < from || p.timestamp >= to) continue;
        const hour = new Date(Math.floor(p.timestamp / 3_600_000) * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
        const key = `${hour}|${p.blobs[2]}`;
        sums.set(key, (sums.get(key) ?? 0) + (p.sampleInterval ?? 1) * (p.doubles[0] ?? 0));
      }
      const data = [...sums].map(([k, hits]) => {
        const [hour, cls] = k.split("|");
        return { hour, class: cls, hits };
      });
      send(200, {
        meta: [
          { name: "hour", type: "DateTime" },
          { name: "class", type: "String" },
          { name: "hits", type: "Float64" },
        ],
        data,
        rows: data.length,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import { z } from "zod";
import { GatewayError } from "../errors.ts";
import { errorText, logLine } from "../log.ts";
import { HOUR_MS, STATUS_CLASSES, type HourCount, type UsageSource } from "./classes.ts";

export interface SqlApi {
  /** https://api.cloudflare.com/client/v4/accounts/<account>/analytics_engine/sql */
  url: string;
  /** An API token with Account Analytics: Read. */
  token: string;
  /** The dataset the USAGE binding writes (wrangler.toml `dataset`). */
  dataset: string;
}

export const sqlApiUrl = (accountId: string) => `https://api.cloudflare.com/client/v4/accounts/${accountId}/analytics_engine/sql`;

/**
 * Reads what AnalyticsEngineSink wrote, through Cloudflare's SQL API; also
 * used by the command line (`usage --remote`). Counts weight each row by
 * `_sample_interval`, as a sampled row stands for several requests.
 */
export class AnalyticsSqlSource implements UsageSource {
  private readonly api: SqlApi;

  constructor(api: SqlApi) {
    this.api = api;
  }

  async hourly(keyId: string, fromHour: number, toHour: number): Promise<HourCount[]> {
    let res: Response;
    try {
      res = await fetch(this.api.url, {
        method: "POST",
        headers: { authorization: `Bearer ${this.api.token}`, "content-type": "text/plain" },
        body: usageSql(this.api.dataset, keyId, fromHour, toHour),
      });
    } catch (err) {
      throw unavailable(errorText(err));
    }
    if (!res.ok) throw unavailable(`SQL API answered ${res.status}`);
    const parsed = SqlAnswer.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw unavailable("SQL API answer was not the expected JSON");
    return parsed.data.data.map((r) => ({ hour: hourOf(r.hour), statusClass: r.class, count: Math.round(r.hits) }));
  }
}

/** Both are safe to inline: the dataset name is config-validated and key ids are letters, digits and `_`. */
export function usageSql(dataset: string, keyId: string, fromHour: number, toHour: number): string {
  if (!/^[A-Za-z0-9_]+$/.test(keyId) || !/^[A-Za-z0-9_]+$/.test(dataset)) throw new GatewayError("invalid_request", "Bad key id");
  return [
    "SELECT toStartOfInterval(timestamp, INTERVAL '1' HOUR) AS hour, blob3 AS class, SUM(_sample_interval * double1) AS hits",
    `FROM ${dataset}`,
    `WHERE index1 = '${keyId}' AND timestamp >= toDateTime('${sqlTime(fromHour)}') AND timestamp < toDateTime('${sqlTime(toHour)}')`,
    "GROUP BY hour, class",
    "FORMAT JSON",
  ].join("\n");
}

/** `2026-12-03 07:00:00`, the SQL API's DateTime spelling (UTC). */
function sqlTime(hour: number): string {
  return new Date(hour * HOUR_MS).toISOString().slice(0, 19).replace("T", " ");
}

function hourOf(text: string): number {
  return Math.floor(Date.parse(`${text.replace(" ", "T")}Z`) / HOUR_MS);
}

// ClickHouse's JSON quotes 64-bit integers; sums of doubles come as numbers.
const SqlAnswer = z.object({
  data: z.array(
    z.object({
      hour: z.string().regex(/^\d{4}-\d\d-\d\d \d\d:00:00$/),
      class: z.enum(STATUS_CLASSES),
      hits: z.coerce.number().nonnegative(),
    }),
  ),
});

function unavailable(detail: string): GatewayError {
  logLine({ level: "error", event: "usage_sql_unavailable", message: detail });
  return new GatewayError("service_unavailable", "Usage data is temporarily unavailable; retry shortly", { "retry-after": "5" });
}

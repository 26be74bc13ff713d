import type { TestProject } from "vitest/node";
import { startSqlApi } from "./analytics-sql-api.ts";
import { startRecordingOrigin } from "./recording-origin.ts";

declare module "vitest" {
  export interface ProvidedContext {
    originUrl: string;
    sqlApiUrl: string;
  }
}

/** Runs in Node before the workerd tests: the real origin they proxy to. */
export default async function setup(project: TestProject) {
  const origin = await startRecordingOrigin();
  project.provide("originUrl", origin.url);
  // Plays Cloudflare's Analytics Engine SQL API for the usage reader (test/worker/usage.test.ts).
  const sqlApi = await startSqlApi();
  project.provide("sqlApiUrl", sqlApi.url);
  return async () => {
    await origin.close();
    await sqlApi.close();
  };
}

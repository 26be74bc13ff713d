import type { TestProject } from "vitest/node";
import { startRecordingOrigin } from "./recording-origin.ts";

declare module "vitest" {
  export interface ProvidedContext {
    originUrl: string;
  }
}

/** Runs in Node before the workerd tests: the real origin they proxy to. */
export default async function setup(project: TestProject) {
  const origin = await startRecordingOrigin();
  project.provide("originUrl", origin.url);
  return () => origin.close();
}

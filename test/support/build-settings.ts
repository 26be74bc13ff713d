import { buildSettings } from "../../scripts/build-settings.ts";

/**
 * Worker project globalSetup: the vitest plugin does not run wrangler's
 * [build] command (workers-sdk issue #9832), so the settings page's client
 * bundle (src/settings/generated/assets.js, which the Worker imports) is
 * built here, before any test loads the Worker.
 */
export default async function setup(): Promise<void> {
  await buildSettings();
}

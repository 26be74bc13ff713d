import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("healthz answers", async () => {
  const res = await exports.default.fetch("http://gw.test/healthz");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ success: true, data: { status: "ok" }, errors: [] });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../support/gateway-server.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";
import { send } from "./fixture.ts";

/**
 * Issue "Hostile input", case 7. A Worker's fetch, left to follow redirects,
 * re-sends an explicit Authorization header to wherever Location points,
 * even another host. The gateway hands every redirect to the client.
 */

let origin: RecordingOrigin;
/** Another host, in the browser's sense: another origin (scheme, host, port). */
let elsewhere: RecordingOrigin;
let plain: Gateway;
let forwarding: Gateway;
let key: string;
let forwardingKey: string;

beforeAll(async () => {
  [origin, elsewhere] = await Promise.all([startRecordingOrigin(), startRecordingOrigin()]);
  [plain, forwarding] = await Promise.all([
    startGateway({ originUrl: origin.url }),
    startGateway({ originUrl: origin.url, vars: { FORWARD_AUTHORIZATION: "true" } }),
  ]);
  key = (await plain.createKey(["candidates:read", "candidates:write"])).key;
  forwardingKey = (await forwarding.createKey(["candidates:read", "candidates:write"])).key;
});
afterAll(async () => {
  await Promise.all([plain?.close(), forwarding?.close()]);
  await Promise.all([origin?.close(), elsewhere?.close()]);
});

const CASES: { label: string; method: string; status: string; body?: string }[] = [
  { label: "302 on GET", method: "GET", status: "302" },
  { label: "307 on POST (method and body kept by a follower)", method: "POST", status: "307", body: '{"name":"x"}' },
  { label: "308 on PATCH", method: "PATCH", status: "308", body: '{"name":"y"}' },
];

describe.each([
  { name: "default", gateway: () => plain, apiKey: () => key, forwardsAuthorization: false },
  { name: "FORWARD_AUTHORIZATION=true", gateway: () => forwarding, apiKey: () => forwardingKey, forwardsAuthorization: true },
])("redirects to another host, $name (case 7)", ({ gateway, apiKey, forwardsAuthorization }) => {
  it.each(CASES)(
    "$label: the client gets the redirect; the other host never sees the request or the key",
    async ({ method, status, body }) => {
      const target = `${elsewhere.url}/steal`;
      const before = elsewhere.received.length;
      const sent = await send(gateway(), origin, {
        method,
        target: "/api/v1/candidates/moved",
        key: apiKey(),
        body,
        headers: [["X-Origin-Behavior", `redirect:${status}:${target}`], ...(body ? [["Content-Type", "application/json"] as const] : [])],
      });
      expect(sent.res.status).toBe(Number(status));
      expect(sent.res.headers.location).toBe(target);
      expect(sent.received).toHaveLength(1);
      expect(sent.received[0]!.headers.authorization).toBe(forwardsAuthorization ? `Bearer ${apiKey()}` : undefined);
      expect(elsewhere.received.length).toBe(before);
    },
  );

  it("a relative redirect into a path the key may not use is not followed either", async () => {
    const sent = await send(gateway(), origin, {
      target: "/api/v1/candidates/moved",
      key: apiKey(),
      headers: [["X-Origin-Behavior", "redirect:/api/v1/api-keys"]],
    });
    expect(sent.res.status).toBe(302);
    expect(sent.res.headers.location).toBe("/api/v1/api-keys");
    expect(sent.received.map((r) => r.url)).toEqual(["/api/v1/candidates/moved"]);
  });
});

/**
 * Bench row 2b: a Worker that answers a constant response and does nothing
 * else. docs/design.md §11's ceiling for responses a Worker makes itself, the
 * yardstick for the gateway's rejections (which touch no origin).
 */
const BODY = JSON.stringify({ success: true, data: { status: "ok" }, errors: [] });
const HEADERS = { "content-type": "application/json; charset=utf-8" };

export default {
  fetch(): Response {
    return new Response(BODY, { headers: HEADERS });
  },
} satisfies ExportedHandler;

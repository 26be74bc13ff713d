/**
 * Control for the streaming check only: a pass-through that reads the whole
 * request body and the whole response body into memory before sending them
 * on. Its RSS growth shows what buffering looks like in this runtime, so a
 * flat line for the gateway means something.
 */
interface BufferingEnv {
  ORIGIN_URL: string;
}

export default {
  async fetch(request: Request, env: BufferingEnv): Promise<Response> {
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.arrayBuffer();
    const res = await fetch(env.ORIGIN_URL + (pathStart === -1 ? "/" : url.slice(pathStart)), {
      method: request.method,
      headers: request.headers,
      body,
    });
    return new Response(await res.arrayBuffer(), res);
  },
} satisfies ExportedHandler<BufferingEnv>;

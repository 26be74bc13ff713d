/**
 * Bench row 2: the floor for proxying. Forwards the request (method, path,
 * query, headers, streamed body) to ORIGIN_URL with one `fetch` and returns
 * the origin's response as it is: no checks, no header work, no log line.
 */
interface PassthroughEnv {
  ORIGIN_URL: string;
}

export default {
  fetch(request: Request, env: PassthroughEnv): Promise<Response> {
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    return fetch(env.ORIGIN_URL + (pathStart === -1 ? "/" : url.slice(pathStart)), request);
  },
} satisfies ExportedHandler<PassthroughEnv>;

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The client's X-Request-Id when it is safe to echo and log, else a fresh one. */
export function requestIdFrom(headers: Headers): string {
  const sent = headers.get("x-request-id");
  return sent !== null && CLIENT_REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
}

/**
 * A person's browser, without a browser: a cookie jar per origin and the
 * redirects between the gateway and the local identity provider
 * (scripts/local-idp.ts), followed by hand so each step can be seen or
 * tampered with. Used by test/node/sign-in.e2e.test.ts.
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || attrs.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [k, v] of this.cookies) copy.set(k, v);
    return copy;
  }
}

export interface Step {
  url: string;
  method?: string;
  body?: URLSearchParams;
  headers?: Record<string, string>;
}

export async function send(jar: CookieJar, step: Step): Promise<Response> {
  const headers: Record<string, string> = { ...(step.headers ?? {}) };
  const cookie = jar.header();
  if (cookie) headers.cookie = cookie;
  const res = await fetch(step.url, { method: step.method ?? "GET", headers, body: step.body, redirect: "manual" });
  jar.store(res);
  return res;
}

const FORM_ACTION = /<form method="post" action="([^"]+)"/;

/**
 * From an authorization URL through the provider's login form to the redirect
 * back to `redirectPrefix` (not followed): returns that URL, code and state in it.
 */
export async function throughProvider(
  jar: CookieJar,
  authorizeUrl: string,
  email: string,
  password: string,
  redirectPrefix: string,
): Promise<string> {
  let step: Step = { url: authorizeUrl };
  for (let i = 0; i < 20; i++) {
    if (step.url.startsWith(redirectPrefix)) return step.url;
    const res = await send(jar, step);
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      step = { url: new URL(location, step.url).href };
      await res.arrayBuffer();
      continue;
    }
    const html = await res.text();
    const action = FORM_ACTION.exec(html)?.[1];
    if ((res.status === 200 || res.status === 401) && action && step.method !== "POST") {
      step = { url: new URL(action, step.url).href, method: "POST", body: new URLSearchParams({ email, password }) };
      continue;
    }
    throw new Error(`the identity provider answered ${res.status} at ${step.url}: ${html.slice(0, 300)}`);
  }
  throw new Error("too many redirects at the identity provider");
}

export interface SignedIn {
  /** The gateway's cookies, the session among them. */
  jar: CookieJar;
  /** The callback's answer (302 to the page when it worked). */
  callback: Response;
}

/**
 * GET /settings/login, the provider's form, then /settings/callback: a person
 * signing in. `tamper` may change the authorization URL before the provider
 * sees it (to drop the nonce, or swap the state).
 */
export async function signIn(gateway: string, email: string, password: string, tamper?: (authorize: URL) => void): Promise<SignedIn> {
  const jar = new CookieJar();
  const login = await send(jar, { url: `${gateway}/settings/login` });
  if (login.status !== 302) throw new Error(`GET /settings/login answered ${login.status}: ${await login.text()}`);
  const authorize = new URL(login.headers.get("location")!);
  tamper?.(authorize);
  const back = await throughProvider(new CookieJar(), authorize.href, email, password, `${gateway}/settings/callback`);
  const callback = await send(jar, { url: back });
  return { jar, callback };
}

/** Starts a sign-in and stops at the provider: the sign-in cookie and the authorization URL. */
export async function beginSignIn(gateway: string): Promise<{ jar: CookieJar; authorize: URL }> {
  const jar = new CookieJar();
  const login = await send(jar, { url: `${gateway}/settings/login` });
  return { jar, authorize: new URL(login.headers.get("location")!) };
}

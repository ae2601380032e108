/**
 * Who may talk to the engine in web mode: whoever holds the token. A random token is required on every request,
 * page and assets alike, and on every socket: `?token=` on the first page load sets an HttpOnly SameSite=Strict
 * cookie that later requests carry; compared in constant time; missing → 401, wrong → 403.
 *
 * Cookies ignore ports, so that cookie is named per port and scoped to a secret base path (/s/<hash of the
 * token>/, where the app is served): the browser sends it to no other service on this host, whose pages cannot
 * know that path.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The token and where it is honoured. */
export interface Credentials {
  token: string;
  /** The cookie carrying the token, named per port. */
  cookieName: string;
  /** Where the app is served, `/s/<secret>/`: the cookie's Path. */
  basePath: string;
}

export type Auth = { ok: true; fromQuery: boolean } | { ok: false; status: 401 | 403 };

/** 24 random bytes, base64url: 192 bits, safe in a URL. */
export const newToken = (): string => randomBytes(24).toString('base64url');

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The secret base path for a token: 128 bits of its hash (the path reveals nothing of the token itself). */
const basePathFor = (token: string): string => `/s/${digest(`clusterbench base path:${token}`).subarray(0, 16).toString('base64url')}/`;

export const credentialsFor = (token: string, port: number): Credentials => ({
  token,
  cookieName: `clusterbench_token_${port}`,
  basePath: basePathFor(token),
});

/** A request path inside the app: the base path taken off (paths without it are served too, for non-browser clients). */
export const appPath = (pathname: string, basePath: string): string =>
  pathname.startsWith(basePath) ? `/${pathname.slice(basePath.length)}` : pathname;

/** Constant-time token comparison (hashing first makes the lengths equal). */
function tokenMatches(given: string | undefined | null, token: string): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  return timingSafeEqual(digest(given), digest(token));
}

/** A Cookie header's pairs; the first of a repeated name wins, a value that is not URI-encoded is taken as is. */
function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!name || cookies.has(name)) continue;
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      cookies.set(name, value);
    }
  }
  return cookies;
}

/** The query's token if there is one (a wrong one is not rescued by a good cookie), else the cookie's. */
export function authenticate(req: IncomingMessage, url: URL, credentials: Credentials): Auth {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null) return tokenMatches(fromQuery, credentials.token) ? { ok: true, fromQuery: true } : { ok: false, status: 403 };
  const fromCookie = parseCookies(req.headers.cookie).get(credentials.cookieName);
  if (fromCookie !== undefined)
    return tokenMatches(fromCookie, credentials.token) ? { ok: true, fromQuery: false } : { ok: false, status: 403 };
  return { ok: false, status: 401 };
}

/** The Set-Cookie value that lets the page's later requests (assets, the socket) carry the token. */
export const tokenCookie = ({ token, cookieName, basePath }: Credentials): string =>
  `${cookieName}=${encodeURIComponent(token)}; Path=${basePath}; HttpOnly; SameSite=Strict`;

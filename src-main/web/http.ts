/**
 * The HTTP side of web mode: every request passes the Host check and the token before it gets a file of the built
 * renderer, and every answer, errors included, carries the security headers.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { appPath, authenticate, tokenCookie, type Credentials } from './auth';
import { applySecurityHeaders, type SecurityHeaders } from './csp';
import { errorMessage } from '../service/transport';
import type { OriginChecks } from './origin';
import { fileHeaders, resolveStatic, type Renderer } from './static';

export interface HttpSite {
  renderer: Renderer;
  credentials: Credentials;
  checks: OriginChecks;
  headers: SecurityHeaders;
}

const UNAUTHORIZED = {
  401: 'Unauthorized: open the URL printed by `clusterbench web` (it carries ?token=…).',
  403: 'Forbidden: wrong token. Open the URL printed by `clusterbench web`.',
} as const;

function plain(site: HttpSite, res: ServerResponse, status: number, text: string): void {
  applySecurityHeaders(res, site.headers);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${text}\n`);
}

async function handle(site: HttpSite, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { renderer, credentials } = site;
  if (!site.checks.hostAllowed(req)) return plain(site, res, 403, 'Forbidden: unexpected Host header');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const auth = authenticate(req, url, credentials);
  if (!auth.ok) return plain(site, res, auth.status, UNAUTHORIZED[auth.status]);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(site, res, 405, 'Method not allowed');
  }
  const path = appPath(url.pathname, credentials.basePath);
  if (path === '/ws') return plain(site, res, 426, 'Upgrade required: /ws is the WebSocket endpoint');
  const file = resolveStatic(renderer, path);
  if (!file) return plain(site, res, 404, 'Not found');
  if (file === renderer.indexFile && !url.pathname.startsWith(credentials.basePath)) {
    // A page outside the base path (the URL of an older version): its assets would not get the cookie there.
    applySecurityHeaders(res, site.headers);
    res.writeHead(302, { Location: `${credentials.basePath}${url.search}`, 'Cache-Control': 'no-store' });
    return void res.end();
  }
  const body = await readFile(file);
  applySecurityHeaders(res, site.headers);
  if (auth.fromQuery) res.setHeader('Set-Cookie', tokenCookie(credentials));
  res.writeHead(200, fileHeaders(renderer, file, body.length));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The server's request listener; an unexpected failure answers 500 (or drops a half-sent answer) and is reported. */
export function requestListener(site: HttpSite, warn: (message: string) => void): RequestListener {
  return (req, res) => {
    handle(site, req, res).catch((err) => {
      if (!res.headersSent) plain(site, res, 500, 'Internal error');
      else res.destroy();
      warn(`clusterbench web: ${errorMessage(err)}`);
    });
  };
}

/**
 * Web mode: the built renderer served over HTTP and the same contract bridged over a WebSocket, for a
 * browser on this machine or through an SSH tunnel (`ssh -L 8080:127.0.0.1:8080 gpu-box`, then open the
 * printed URL locally).
 *
 * Security model (the engine can read and write files and burn a GPU, so nothing reaches it unauthenticated):
 * - bound to 127.0.0.1 unless another host is asked for explicitly (with a warning);
 * - a random token (24 bytes, base64url) is required on every request, page and assets alike, and on every
 *   socket: `?token=` on the first page load sets an HttpOnly SameSite=Strict cookie that later requests carry;
 *   compared in constant time; missing → 401, wrong → 403;
 * - cookies ignore ports, so that cookie is named per port and scoped to a secret base path (/s/<hash of the
 *   token>/, where the app is served): the browser sends it to no other service on this host, whose pages cannot
 *   know that path;
 * - the Host header must name this server (127.0.0.1:PORT / localhost:PORT): DNS-rebinding protection;
 * - the WebSocket upgrade's Origin must be this server's own origin (cross-site pages cannot connect);
 * - a strict CSP, no referrer (the token never leaks through Referer), no framing;
 * - malformed messages (not JSON, no id/op, unknown op, invalid payload) get an error reply; messages over
 *   1 MB close that socket. Nothing a client sends can crash the server.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ContractError, Operation, Reply } from '../contract/index';
import { createEngineApi, type EngineApi } from '../service/api';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export interface WebServerOptions {
  /** Port to listen on; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1; anything else must be asked for explicitly. */
  host?: string;
  /** The built renderer (default: out/renderer of this checkout, made by `npm run build`). */
  rendererDir?: string;
  dbPath?: string;
  dataDir?: string;
  /** XNNPACK threads of the engine's wasm backend (default: CLUSTERBENCH_WASM_THREADS, else one per core). */
  wasmThreads?: number;
  /** Fixed token (tests); default: 24 random bytes, base64url. */
  token?: string;
  /** Use this engine API instead of creating one (it is then not closed by `close()`). */
  api?: EngineApi;
  /** Where warnings go (default: stderr). */
  warn?: (message: string) => void;
}

export interface WebServer {
  /** The URL to open, token included. */
  url: string;
  port: number;
  host: string;
  token: string;
  /** The cookie carrying the token (per port: cookies are shared between ports of one host). */
  cookieName: string;
  /** Where the app is served, `/s/<secret>/`: the token cookie's Path, so the browser sends it nowhere else. */
  basePath: string;
  close(): Promise<void>;
}

export class WebServerError extends Error {
  override name = 'WebServerError';
}

/** The checkout's root: the nearest folder up from this file with a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export const defaultRendererDir = (): string => join(packageRoot(), 'out', 'renderer');

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The secret base path for a token: 128 bits of its hash (the path reveals nothing of the token itself). */
const basePathFor = (token: string): string => `/s/${digest(`clusterbench base path:${token}`).subarray(0, 16).toString('base64url')}/`;

/** Constant-time token comparison (hashing first makes the lengths equal). */
function tokenMatches(given: string | undefined | null, token: string): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  return timingSafeEqual(digest(given), digest(token));
}

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

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

type Auth = { ok: true; fromQuery: boolean } | { ok: false; status: 401 | 403 };

/** Starts the web server. Rejects with a clear error when the renderer is not built or the port is taken. */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const warn = options.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
  const rendererDir = resolve(options.rendererDir ?? defaultRendererDir());
  const indexFile = join(rendererDir, 'index.html');
  if (!existsSync(indexFile)) {
    throw new WebServerError(`The web UI is not built (${indexFile} is missing): run npm run build first`);
  }
  if (!LOOPBACK.has(host)) {
    warn(
      `clusterbench web: WARNING: listening on ${host}, not only on this machine. Anyone who can reach it and ` +
        'learns the token controls the engine. Prefer the default 127.0.0.1 and an SSH tunnel.',
    );
  }
  const token = options.token ?? randomBytes(24).toString('base64url');
  const basePath = basePathFor(token);
  /** A request path inside the app: the base path taken off (paths without it are served too, for non-browser clients). */
  const appPath = (pathname: string): string => (pathname.startsWith(basePath) ? `/${pathname.slice(basePath.length)}` : pathname);
  const ownsApi = !options.api;
  const api = options.api ?? createEngineApi({ dbPath: options.dbPath, dataDir: options.dataDir, wasmThreads: options.wasmThreads });

  let port = 0;
  let cookieName = 'clusterbench_token';
  let csp = '';
  const allowedHosts = new Set<string>();
  const wildcard = host === '0.0.0.0' || host === '::';

  /** The Host header names this server: 127.0.0.1:PORT, localhost:PORT, the explicit host, or (bound to all
   * interfaces) any IP literal with our port. Never an arbitrary DNS name: that is what DNS rebinding uses. */
  const hostAllowed = (req: IncomingMessage): boolean => {
    const h = req.headers.host?.toLowerCase();
    if (!h) return false;
    if (allowedHosts.has(h)) return true;
    if (!wildcard) return false;
    const m = /^(?:\[([0-9a-f:.]+)\]|([0-9.]+)):(\d+)$/.exec(h);
    return m !== null && Number(m[3]) === port && isIP(m[1] ?? m[2] ?? '') !== 0;
  };

  /** A WebSocket's Origin must be this very server: http:// plus the (allowed) Host it connected to. */
  const originAllowed = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    return typeof origin === 'string' && hostAllowed(req) && origin.toLowerCase() === `http://${req.headers.host!.toLowerCase()}`;
  };

  const authenticate = (req: IncomingMessage, url: URL): Auth => {
    const fromQuery = url.searchParams.get('token');
    const fromCookie = parseCookies(req.headers.cookie).get(cookieName);
    if (fromQuery !== null) return tokenMatches(fromQuery, token) ? { ok: true, fromQuery: true } : { ok: false, status: 403 };
    if (fromCookie !== undefined) return tokenMatches(fromCookie, token) ? { ok: true, fromQuery: false } : { ok: false, status: 403 };
    return { ok: false, status: 401 };
  };

  const securityHeaders = (res: ServerResponse): void => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  };

  const plain = (res: ServerResponse, status: number, text: string): void => {
    securityHeaders(res);
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${text}\n`);
  };

  /** The file for a URL path inside the renderer folder, or undefined (never outside it). */
  const resolveStatic = (pathname: string): string | undefined => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    const file = resolve(rendererDir, `.${decoded.endsWith('/') ? `${decoded}index.html` : decoded}`);
    if (file !== rendererDir && !file.startsWith(rendererDir + sep)) return undefined;
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      /* missing */
    }
    // Client-side routes (no extension) get the app.
    return extname(decoded) === '' ? indexFile : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req)) return plain(res, 403, 'Forbidden: unexpected Host header');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const auth = authenticate(req, url);
    if (!auth.ok) {
      return plain(
        res,
        auth.status,
        auth.status === 401
          ? 'Unauthorized: open the URL printed by `clusterbench web` (it carries ?token=…).'
          : 'Forbidden: wrong token. Open the URL printed by `clusterbench web`.',
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'Method not allowed');
    }
    const path = appPath(url.pathname);
    if (path === '/ws') return plain(res, 426, 'Upgrade required: /ws is the WebSocket endpoint');
    const file = resolveStatic(path);
    if (!file) return plain(res, 404, 'Not found');
    if (file === indexFile && !url.pathname.startsWith(basePath)) {
      // A page outside the base path (the URL of an older version): its assets would not get the cookie there.
      securityHeaders(res);
      res.writeHead(302, { Location: `${basePath}${url.search}`, 'Cache-Control': 'no-store' });
      return void res.end();
    }
    const body = await readFile(file);
    securityHeaders(res);
    if (auth.fromQuery) {
      res.setHeader('Set-Cookie', `${cookieName}=${encodeURIComponent(token)}; Path=${basePath}; HttpOnly; SameSite=Strict`);
    }
    const isIndex = file === indexFile;
    res.writeHead(200, {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': isIndex ? 'no-store' : 'private, max-age=31536000, immutable',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) plain(res, 500, 'Internal error');
      else res.destroy();
      warn(`clusterbench web: ${(err as Error)?.message ?? String(err)}`);
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;

  // ------------------------------------------------------------------------------------------ WebSocket

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();

  const refuseUpgrade = (socket: Duplex, status: number, text: string): void => {
    const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
    socket.destroy();
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (appPath(url.pathname) !== '/ws') return refuseUpgrade(socket, 404, 'Not found');
    if (!hostAllowed(req)) return refuseUpgrade(socket, 403, 'Unexpected Host header');
    if (!originAllowed(req)) return refuseUpgrade(socket, 403, 'Cross-origin WebSocket refused');
    const auth = authenticate(req, url);
    if (!auth.ok) return refuseUpgrade(socket, auth.status, auth.status === 401 ? 'Token required' : 'Wrong token');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (ws: WebSocket, message: unknown): void => {
    if (ws.readyState !== ws.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(message);
    } catch (err) {
      text = JSON.stringify({
        id: (message as { id?: unknown }).id ?? null,
        reply: failure('failed', `Reply could not be encoded: ${(err as Error).message}`),
      });
    }
    ws.send(text);
  };

  const failure = (code: ContractError['code'], message: string): Reply<Operation> => ({ ok: false, error: { code, message } });

  const onMessage = async (ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> => {
    if (isBinary) return send(ws, { id: null, reply: failure('invalid-request', 'Binary messages are not accepted; send JSON text') });
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return send(ws, { id: null, reply: failure('invalid-request', 'Message is not valid JSON') });
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      return send(ws, { id: null, reply: failure('invalid-request', 'Message must be an object { id, op, payload }') });
    }
    const { id, op, payload } = message as { id?: unknown; op?: unknown; payload?: unknown };
    const validId = (typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length > 0 && id.length <= 100);
    if (!validId) return send(ws, { id: null, reply: failure('invalid-request', 'Message needs an id (a number or a short string)') });
    if (typeof op !== 'string' || op.length === 0)
      return send(ws, { id, reply: failure('invalid-request', 'Message needs an op (an operation name)') });
    let reply: Reply<Operation>;
    try {
      reply = await api.dispatch(op, payload ?? {});
    } catch (err) {
      reply = failure('failed', (err as Error)?.message ?? String(err));
    }
    send(ws, { id, reply });
  };

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    let alive = true;
    ws.on('pong', () => (alive = true));
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, 30_000);
    heartbeat.unref();
    ws.on('message', (data, isBinary) => {
      onMessage(ws, data, isBinary).catch((err) => warn(`clusterbench web: ${(err as Error)?.message ?? String(err)}`));
    });
    ws.on('error', () => undefined); // e.g. a message over maxPayload: ws closes the socket with 1009.
    ws.on('close', () => {
      clearInterval(heartbeat);
      sockets.delete(ws);
    });
  });

  const unsubscribe = api.subscribe((event, payload) => {
    for (const ws of sockets) send(ws, { event, payload });
  });

  // ------------------------------------------------------------------------------------------ listen

  await new Promise<void>((resolveListen, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE')
        reject(new WebServerError(`Port ${options.port ?? 8080} is already in use: pick another with --port (0 = any free port)`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new WebServerError(`Cannot listen on ${host}: no such address on this machine`));
      else reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolveListen();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options.port ?? 8080, host);
  }).catch(async (err) => {
    unsubscribe();
    if (ownsApi) await api.close();
    throw err;
  });

  port = (server.address() as AddressInfo).port;
  cookieName = `clusterbench_token_${port}`;
  const hostNames = new Set(['127.0.0.1', 'localhost']);
  if (!wildcard && host !== '127.0.0.1' && host !== 'localhost')
    hostNames.add(host.includes(':') ? `[${host.toLowerCase()}]` : host.toLowerCase());
  for (const name of hostNames) allowedHosts.add(`${name}:${port}`);
  csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    // 'self' covers same-origin ws: in CSP3 browsers; the explicit entries cover older ones.
    `connect-src 'self' ${[...hostNames].map((h) => `ws://${h}:${port}`).join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  const urlHost = LOOPBACK.has(host) || wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}${basePath}?token=${token}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    host,
    token,
    cookieName,
    basePath,
    close() {
      closing ??= (async () => {
        unsubscribe();
        for (const ws of sockets) ws.close(1001, 'Server shutting down');
        await new Promise<void>((r) => wss.close(() => r()));
        for (const ws of sockets) ws.terminate();
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        if (ownsApi) await api.close();
      })();
      return closing;
    },
  };
}

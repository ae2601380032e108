/**
 * Web mode: the built renderer served over HTTP and the same contract bridged over a WebSocket, for a
 * browser on this machine or through an SSH tunnel (`ssh -L 8080:127.0.0.1:8080 gpu-box`, then open the
 * printed URL locally). This file only starts and stops it; each guard has its own module.
 *
 * Security model (the engine can read and write files and burn a GPU, so nothing reaches it unauthenticated):
 * - bound to 127.0.0.1 unless another host is asked for explicitly (with a warning);
 * - a random token on every request and socket, as a cookie per port under a secret base path (auth.ts);
 * - the Host header must name this server, a socket's Origin must be this server (origin.ts);
 * - a strict CSP, no referrer, no framing (csp.ts);
 * - only files inside the built renderer are served (static.ts);
 * - malformed or oversized socket messages get an error reply or close that socket (socket.ts).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEngineApi, type EngineApi } from '../service/api';
import { credentialsFor, newToken } from './auth';
import { securityHeaders } from './csp';
import { requestListener } from './http';
import { hostNames, isLoopback, originChecks, urlHost } from './origin';
import { bridgeSockets } from './socket';
import { defaultRendererDir, rendererAt } from './static';

export { MAX_MESSAGE_BYTES } from './socket';
export { defaultRendererDir } from './static';

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

/** Listens; resolves with the port (the free one picked for 0), or rejects with a clear error. */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolveListen, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE')
        reject(new WebServerError(`Port ${port} is already in use: pick another with --port (0 = any free port)`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new WebServerError(`Cannot listen on ${host}: no such address on this machine`));
      else reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolveListen((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Starts the web server. Rejects with a clear error when the renderer is not built or the port is taken. */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const warn = options.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
  const renderer = rendererAt(options.rendererDir ?? defaultRendererDir());
  if (!existsSync(renderer.indexFile)) {
    throw new WebServerError(`The web UI is not built (${renderer.indexFile} is missing): run npm run build first`);
  }
  if (!isLoopback(host)) {
    warn(
      `clusterbench web: WARNING: listening on ${host}, not only on this machine. Anyone who can reach it and ` +
        'learns the token controls the engine. Prefer the default 127.0.0.1 and an SSH tunnel.',
    );
  }
  const token = options.token ?? newToken();
  const ownsApi = !options.api;
  const api = options.api ?? createEngineApi({ dbPath: options.dbPath, dataDir: options.dataDir, wasmThreads: options.wasmThreads });

  const server = createServer();
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  const port = await listen(server, options.port ?? 8080, host).catch(async (err) => {
    if (ownsApi) await api.close();
    throw err;
  });

  // The guards depend on the port (the Host names, the cookie's name, the CSP's socket URLs), known only now;
  // they are wired before this turn ends, so no connection can come in first.
  const site = {
    renderer,
    credentials: credentialsFor(token, port),
    checks: originChecks(host, port),
    headers: securityHeaders(hostNames(host), port),
  };
  server.on('request', requestListener(site, warn));
  const sockets = bridgeSockets(server, site, api, warn);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(host)}:${port}${site.credentials.basePath}?token=${token}`,
    port,
    host,
    token,
    cookieName: site.credentials.cookieName,
    basePath: site.credentials.basePath,
    close() {
      closing ??= (async () => {
        await sockets.close();
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

/**
 * The contract over a WebSocket at `<base path>/ws`: a client sends `{ id, op, payload }` and gets `{ id, reply }`;
 * every engine event reaches every socket as `{ event, payload }`. The upgrade passes the same Host, Origin and
 * token checks as a page. Malformed messages (not JSON, no id/op, unknown op, invalid payload) get an error reply;
 * a message over 1 MB closes that socket. Nothing a client sends can crash the server.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Operation, Reply } from '../contract/index';
import type { EngineApi } from '../service/api';
import { appPath, authenticate, type Credentials } from './auth';
import { dispatchSafely, errorMessage, failure } from '../service/transport';
import type { OriginChecks } from './origin';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** A socket that answered no ping within this long is dead (a laptop closed mid-session) and is dropped. */
const HEARTBEAT_MS = 30_000;

export interface SocketSite {
  credentials: Credentials;
  checks: OriginChecks;
}

type Envelope = { id: number | string; op: string; payload: unknown };
type Refusal = { id: unknown; reply: Reply<Operation> };

const refusal = (id: unknown, message: string): Refusal => ({ id, reply: failure('invalid-request', message) });

/** A message's `{ id, op, payload }`, or the error reply it gets (with its id once it has a usable one). */
function parseEnvelope(data: RawData, isBinary: boolean): Envelope | Refusal {
  if (isBinary) return refusal(null, 'Binary messages are not accepted; send JSON text');
  let message: unknown;
  try {
    message = JSON.parse(data.toString());
  } catch {
    return refusal(null, 'Message is not valid JSON');
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return refusal(null, 'Message must be an object { id, op, payload }');
  }
  const { id, op, payload } = message as { id?: unknown; op?: unknown; payload?: unknown };
  const validId = (typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length > 0 && id.length <= 100);
  if (!validId) return refusal(null, 'Message needs an id (a number or a short string)');
  if (typeof op !== 'string' || op.length === 0) return refusal(id, 'Message needs an op (an operation name)');
  return { id, op, payload };
}

/** Sends JSON to an open socket; a reply that cannot be encoded becomes an error reply to the same id. */
function send(ws: WebSocket, message: unknown): void {
  if (ws.readyState !== ws.OPEN) return;
  let text: string;
  try {
    text = JSON.stringify(message);
  } catch (err) {
    const id = (message as { id?: unknown }).id ?? null;
    text = JSON.stringify({ id, reply: failure('failed', `Reply could not be encoded: ${(err as Error).message}`) });
  }
  ws.send(text);
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
  socket.destroy();
}

/** Pings every HEARTBEAT_MS; a socket that did not answer the last ping is terminated. Returns the stopper. */
function keepAlive(ws: WebSocket): () => void {
  let alive = true;
  ws.on('pong', () => (alive = true));
  const heartbeat = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}

export interface SocketBridge {
  /** Stops the events, closes every socket (1001) and the socket server. */
  close(): Promise<void>;
}

/** Serves the contract on `server`'s upgrades to `/ws`. */
export function bridgeSockets(server: Server, site: SocketSite, api: EngineApi, warn: (message: string) => void): SocketBridge {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (appPath(url.pathname, site.credentials.basePath) !== '/ws') return refuseUpgrade(socket, 404, 'Not found');
    if (!site.checks.hostAllowed(req)) return refuseUpgrade(socket, 403, 'Unexpected Host header');
    if (!site.checks.originAllowed(req)) return refuseUpgrade(socket, 403, 'Cross-origin WebSocket refused');
    const auth = authenticate(req, url, site.credentials);
    if (!auth.ok) return refuseUpgrade(socket, auth.status, auth.status === 401 ? 'Token required' : 'Wrong token');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const onMessage = async (ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> => {
    const envelope = parseEnvelope(data, isBinary);
    if ('reply' in envelope) return send(ws, envelope);
    const reply = await dispatchSafely(api, envelope.op, envelope.payload ?? {});
    send(ws, { id: envelope.id, reply });
  };

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    const stopHeartbeat = keepAlive(ws);
    ws.on('message', (data, isBinary) => {
      onMessage(ws, data, isBinary).catch((err) => warn(`clusterbench web: ${errorMessage(err)}`));
    });
    ws.on('error', () => undefined); // e.g. a message over maxPayload: ws closes the socket with 1009.
    ws.on('close', () => {
      stopHeartbeat();
      sockets.delete(ws);
    });
  });

  const unsubscribe = api.subscribe((event, payload) => {
    for (const ws of sockets) send(ws, { event, payload });
  });

  return {
    async close() {
      unsubscribe();
      for (const ws of sockets) ws.close(1001, 'Server shutting down');
      await new Promise<void>((r) => wss.close(() => r()));
      for (const ws of sockets) ws.terminate();
    },
  };
}

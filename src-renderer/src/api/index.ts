/**
 * The renderer's one way to the engine, whatever the transport:
 *
 * - desktop (Electron): the sandboxed preload exposes `window.clusterbench` (IPC to the main process);
 * - web mode (`clusterbench web`): a WebSocket to `ws` next to the page (the server's base path), same contract.
 *
 * Screens import `{ api, transport, saveExportedFile }` from here and never look at the transport.
 * Failed calls reject with a `ClusterbenchError` carrying the contract's `code`, `message` and `issues`.
 */
import type { ClusterbenchApi, ContractError, EventName, Events, ExportedFile, Operation, Reply, RequestOf, Responses } from '@contract';
import { OPERATION_NAMES } from '@contract/names';

declare global {
  interface Window {
    clusterbench?: ClusterbenchApi;
  }
}

export type { ClusterbenchApi, ContractError, EventName, Events, ExportedFile, Operation, RequestOf, Responses };

/** An error from the engine (or the transport), with the contract's error code. */
export class ClusterbenchError extends Error {
  readonly code: ContractError['code'] | 'disconnected';
  readonly issues?: ContractError['issues'];
  constructor(error: { code: ClusterbenchError['code']; message: string; issues?: ContractError['issues'] }) {
    super(error.message);
    this.name = 'ClusterbenchError';
    this.code = error.code;
    this.issues = error.issues;
  }
}

/** The preload encodes contract errors in the message, because contextBridge drops custom Error properties. */
const PRELOAD_ERROR_PREFIX = 'ClusterbenchError:';

function toClusterbenchError(err: unknown): unknown {
  if (err instanceof ClusterbenchError) return err;
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && message.startsWith(PRELOAD_ERROR_PREFIX)) {
    try {
      const decoded = JSON.parse(message.slice(PRELOAD_ERROR_PREFIX.length)) as ContractError;
      return new ClusterbenchError(decoded);
    } catch {
      /* not ours after all */
    }
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && typeof message === 'string') {
    return new ClusterbenchError({
      code: code as ContractError['code'],
      message,
      issues: (err as { issues?: ContractError['issues'] }).issues,
    });
  }
  return err;
}

type Listener = (payload: unknown) => void;

function createEmitter() {
  const listeners = new Map<string, Set<Listener>>();
  return {
    on(event: string, listener: Listener): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => void set!.delete(listener);
    },
    emit(event: string, payload: unknown): void {
      for (const listener of [...(listeners.get(event) ?? [])]) {
        try {
          listener(payload);
        } catch (err) {
          console.error(`clusterbench: listener for ${event} threw`, err);
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------- web mode

const TOKEN_KEY = 'clusterbench.token';

/** Takes `?token=` off the address bar (kept in sessionStorage for reconnects); the HttpOnly cookie also works. */
function takeToken(): string | null {
  let token: string | null = null;
  try {
    const url = new URL(window.location.href);
    const fromUrl = url.searchParams.get('token');
    if (fromUrl) {
      token = fromUrl;
      try {
        sessionStorage.setItem(TOKEN_KEY, fromUrl);
      } catch {
        /* storage disabled: the cookie still authenticates */
      }
      url.searchParams.delete('token');
      window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    } else {
      token = sessionStorage.getItem(TOKEN_KEY);
    }
  } catch {
    /* not in a normal page */
  }
  return token;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** A WebSocket to the web server's `ws` endpoint: request ids, a promise per request, reconnect with backoff, events. */
class WebSocketBridge {
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests made while disconnected, sent once the socket opens. */
  private readonly outbox: string[] = [];
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  readonly events = createEmitter();
  /** Connection state, for a status badge: 'connecting' | 'open' | 'closed'. */
  state: 'connecting' | 'open' | 'closed' = 'closed';

  constructor(private readonly token: string | null) {}

  /** `ws` next to the page: under the server's base path, where the browser sends the token cookie. */
  private url(): string {
    const url = new URL('ws', window.location.href);
    url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = this.token ? `?token=${encodeURIComponent(this.token)}` : '';
    url.hash = '';
    return url.toString();
  }

  connect(): void {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    this.state = 'connecting';
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.state = 'open';
      this.attempt = 0;
      this.events.emit('connection', { state: 'open' });
      for (const message of this.outbox.splice(0)) socket.send(message);
    };
    socket.onmessage = (e: MessageEvent) => this.onMessage(e.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.state = 'closed';
      this.events.emit('connection', { state: 'closed' });
      // In-flight requests may or may not have run: fail them rather than resend (runs.start is not idempotent).
      for (const [id, p] of this.pending) {
        if (!this.outbox.some((m) => m.startsWith(`{"id":${id},`))) {
          p.reject(new ClusterbenchError({ code: 'disconnected', message: 'The connection to the Clusterbench server was lost' }));
          this.pending.delete(id);
        }
      }
      this.scheduleReconnect();
    };
    socket.onerror = () => {
      /* onclose follows */
    };
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer) return;
    const delay = Math.min(10_000, 250 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private onMessage(data: unknown): void {
    let message: { id?: unknown; reply?: Reply<Operation>; event?: unknown; payload?: unknown; error?: ContractError };
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    if (typeof message.event === 'string') {
      this.events.emit(message.event, message.payload);
      return;
    }
    if (typeof message.id !== 'number') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    const reply = message.reply;
    if (reply && reply.ok) pending.resolve(reply.value);
    else
      pending.reject(
        new ClusterbenchError(reply?.error ?? message.error ?? { code: 'failed', message: 'Malformed reply from the server' }),
      );
  }

  call(op: Operation, payload: unknown): Promise<unknown> {
    const id = this.nextId++;
    const text = JSON.stringify({ id, op, payload: payload ?? {} });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
      else {
        this.outbox.push(text);
        this.connect();
      }
    });
  }
}

/** A browser download of bytes the UI or the engine produced. */
function download(file: { suggestedName: string; data: string; encoding: 'utf8' | 'base64'; mime?: string }): void {
  let blob: Blob;
  const type = file.mime ?? 'application/octet-stream';
  if (file.encoding === 'base64') {
    const binary = atob(file.data);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    blob = new Blob([bytes], { type });
  } else {
    blob = new Blob([file.data], { type });
  }
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = file.suggestedName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

function mimeFor(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return { svg: 'image/svg+xml', png: 'image/png', json: 'application/json', csv: 'text/csv' }[ext] ?? 'application/octet-stream';
}

function createWebApi(): ClusterbenchApi {
  const bridge = new WebSocketBridge(takeToken());
  webBridge = bridge;
  // Connect right away: screens subscribe to events before their first call.
  bridge.connect();
  const api: Record<string, unknown> = {};
  for (const op of OPERATION_NAMES) {
    api[op] = (request: unknown) => bridge.call(op, request);
  }
  // No save dialog in a browser: `files.save` becomes a download, handled right here.
  api['files.save'] = async (request: RequestOf<'files.save'>): Promise<Responses['files.save']> => {
    download({ ...request, mime: mimeFor(request.suggestedName) });
    return { saved: true };
  };
  api.on = (event: EventName, listener: Listener) => bridge.events.on(event, listener);
  return api as unknown as ClusterbenchApi;
}

/** Wraps the preload's object so errors come back as ClusterbenchError. */
function createElectronApi(bridge: ClusterbenchApi): ClusterbenchApi {
  const api: Record<string, unknown> = {};
  for (const op of OPERATION_NAMES) {
    const fn = bridge[op] as (request: unknown) => Promise<unknown>;
    api[op] = async (request: unknown) => {
      try {
        return await fn(request);
      } catch (err) {
        throw toClusterbenchError(err);
      }
    };
  }
  api.on = (event: EventName, listener: Listener) => bridge.on(event, listener as never);
  return api as unknown as ClusterbenchApi;
}

let webBridge: WebSocketBridge | undefined;

const hasPreload = typeof window !== 'undefined' && window.clusterbench !== undefined;

/** Which way the engine is reached. */
export const transport: 'electron' | 'web' = hasPreload ? 'electron' : 'web';

/** The engine API: one async function per contract operation, plus `on(event, listener) → unsubscribe`. */
export const api: ClusterbenchApi = hasPreload ? createElectronApi(window.clusterbench!) : createWebApi();

/** Saves a file the engine exported (`export.*`): a save dialog on the desktop, a browser download on the web. */
export async function saveExportedFile(file: ExportedFile): Promise<Responses['files.save']> {
  if (transport === 'electron') {
    return api['files.save']({ suggestedName: file.suggestedName, data: file.data, encoding: file.encoding });
  }
  download(file);
  return { saved: true };
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

/**
 * Web mode: follows the WebSocket's state (after a reconnect, events sent meanwhile were missed, so refetch).
 * Desktop: IPC never disconnects; the listener is never called.
 */
export function onConnectionChange(listener: (state: ConnectionState) => void): () => void {
  if (!webBridge) return () => undefined;
  return webBridge.events.on('connection', (p) => listener((p as { state: ConnectionState }).state));
}

/** The current connection state ('open' on the desktop). */
export function connectionState(): ConnectionState {
  return webBridge ? webBridge.state : 'open';
}

/** Calls one operation by name (handy for generic code and tests). */
export function call<O extends Operation>(op: O, request: RequestOf<O>): Promise<Responses[O]> {
  return (api[op] as unknown as (r: RequestOf<O>) => Promise<Responses[O]>)(request);
}

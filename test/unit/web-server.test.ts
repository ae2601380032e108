import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_QUEUED_JOBS } from '../../src-main/service/worker/host';
import { startWebServer, type WebServer } from '../../src-main/web/server';
import { tempHome } from '../helpers/cli';

// Web mode: token on every request and socket, Host and Origin checks, the contract over a WebSocket.

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a socket; resolves with it, or rejects with the HTTP status of a refused upgrade. */
function connect(
  server: WebServer,
  opts: { query?: string; origin?: string | null; headers?: Record<string, string> } = {},
): Promise<WebSocket> {
  const origin = opts.origin === undefined ? `http://127.0.0.1:${server.port}` : opts.origin;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${opts.query ?? ''}`, {
      ...(origin ? { origin } : {}),
      headers: opts.headers,
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

type Message = {
  id?: unknown;
  reply?: { ok: boolean; value?: unknown; error?: { code: string; message: string } };
  event?: string;
  payload?: unknown;
};

/** A tiny client: request/reply by id, and every event recorded. */
function client(ws: WebSocket) {
  const events: { event: string; payload: unknown }[] = [];
  const waiting = new Map<unknown, (m: Message) => void>();
  const unmatched: Message[] = [];
  const eventWaiters: { test: (e: { event: string; payload: unknown }) => boolean; resolve: () => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Message;
    if (typeof m.event === 'string') {
      const e = { event: m.event, payload: m.payload };
      events.push(e);
      for (const w of [...eventWaiters]) if (w.test(e)) w.resolve();
      return;
    }
    const w = waiting.get(m.id);
    if (w) {
      waiting.delete(m.id);
      w(m);
    } else unmatched.push(m);
  });
  let next = 1;
  return {
    events,
    /** Sends raw text; resolves with the next reply whose id is `id` (null for id-less errors). */
    raw(text: string | Buffer, id: unknown = null): Promise<Message> {
      return new Promise((resolve) => {
        const already = unmatched.findIndex((m) => m.id === id);
        if (already >= 0) return resolve(unmatched.splice(already, 1)[0]);
        waiting.set(id, resolve);
        ws.send(text);
      });
    },
    call(op: string, payload: unknown): Promise<Message['reply']> {
      const id = next++;
      return this.raw(JSON.stringify({ id, op, payload }), id).then((m) => m.reply);
    },
    waitForEvent(test: (e: { event: string; payload: unknown }) => boolean, timeoutMs = 60_000): Promise<void> {
      if (events.some(test)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for an event')), timeoutMs);
        eventWaiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

describe('web server', () => {
  const home = tempHome('clusterbench-web-');
  const rendererDir = join(home, 'renderer');
  let server: WebServer;
  let cookie: string;
  const previousHome = process.env.CLUSTERBENCH_HOME;

  beforeAll(async () => {
    process.env.CLUSTERBENCH_HOME = home;
    // A stand-in for the built renderer (the real one is exercised by test/e2e).
    mkdirSync(join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(
      join(rendererDir, 'index.html'),
      '<!doctype html><title>Clusterbench</title><div id="app"></div><script type="module" src="/assets/app.js"></script>',
    );
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
    writeFileSync(join(home, 'secret.txt'), 'outside the renderer');
    server = await startWebServer({ port: 0, rendererDir, warn: () => undefined });
    cookie = `${server.cookieName}=${server.token}`;
  });
  afterAll(async () => {
    await server?.close();
    if (previousHome === undefined) delete process.env.CLUSTERBENCH_HOME;
    else process.env.CLUSTERBENCH_HOME = previousHome;
  });

  it('binds to 127.0.0.1 and prints a URL with a random base64url token, under a secret base path', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(server.basePath).toMatch(/^\/s\/[A-Za-z0-9_-]{22}\/$/);
    expect(server.basePath).not.toContain(server.token);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}${server.basePath}?token=${server.token}`);
  });

  // Cookies ignore ports: a cookie for 127.0.0.1 reaches every local service. Scoped to the secret base path, the
  // browser only sends it to URLs under that path, which no other service's pages know.
  it('scopes the token cookie to its port (name) and to the secret base path', async () => {
    const res = await get(server.port, `${server.basePath}?token=${server.token}`);
    expect(res.status).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(server.cookieName).toBe(`clusterbench_token_${server.port}`);
    expect(setCookie).toContain(`${server.cookieName}=${server.token}`);
    expect(setCookie).toContain(`; Path=${server.basePath};`);
    expect(setCookie).not.toMatch(/; Path=\/;/);
    // Under the base path the cookie authenticates pages, assets and the socket.
    expect((await get(server.port, `${server.basePath}assets/app.js`, { Cookie: cookie })).body).toContain('console.log');
    expect((await get(server.port, `${server.basePath}#/runs`, { Cookie: cookie })).body).toContain('<div id="app">');
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}${server.basePath}ws`, {
        origin: `http://127.0.0.1:${server.port}`,
        headers: { Cookie: cookie },
      });
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });
    expect(await client(ws).call('runs.list', {})).toMatchObject({ ok: true });
    ws.close();
    // Another token, another path.
    const other = await startWebServer({ port: 0, rendererDir, warn: () => undefined });
    try {
      expect(other.basePath).not.toBe(server.basePath);
    } finally {
      await other.close();
    }
  });

  it('sends the token URL of an older version (no base path) on to the base path', async () => {
    const res = await get(server.port, `/?token=${server.token}`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${server.basePath}?token=${server.token}`);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a missing renderer build with a clear message', async () => {
    await expect(startWebServer({ port: 0, rendererDir: join(home, 'nope'), warn: () => undefined })).rejects.toThrow(
      /run npm run build first/,
    );
  });

  it('answers 401 without a token and 403 with a wrong one, pages and assets alike', async () => {
    expect((await get(server.port, '/')).status).toBe(401);
    expect((await get(server.port, '/assets/app.js')).status).toBe(401);
    expect((await get(server.port, '/?token=wrong')).status).toBe(403);
    expect((await get(server.port, `/?token=${server.token}x`)).status).toBe(403);
    expect((await get(server.port, '/assets/app.js', { Cookie: `${server.cookieName}=wrong` })).status).toBe(403);
  });

  it('serves index.html for the token URL and sets an HttpOnly SameSite=Strict cookie', async () => {
    const res = await get(server.port, `${server.basePath}?token=${server.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<div id="app">');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toContain(`${server.cookieName}=${server.token}`);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('serves assets with the cookie, and nothing outside the renderer folder', async () => {
    const res = await get(server.port, '/assets/app.js', { Cookie: cookie });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/javascript');
    expect(res.body).toContain('console.log');
    expect((await get(server.port, '/assets/missing.js', { Cookie: cookie })).status).toBe(404);
    expect((await get(server.port, '/../secret.txt', { Cookie: cookie })).body).not.toContain('outside');
    expect((await get(server.port, '/%2e%2e/secret.txt', { Cookie: cookie })).status).toBe(404);
    expect((await get(server.port, '/assets/%2e%2e%2f..%2fsecret.txt', { Cookie: cookie })).status).toBe(404);
  });

  it('refuses a wrong Host header (DNS rebinding), even with the token', async () => {
    const res = await get(server.port, `/?token=${server.token}`, { Host: `evil.example:${server.port}` });
    expect(res.status).toBe(403);
    expect((await get(server.port, server.basePath, { Host: `localhost:${server.port}`, Cookie: cookie })).status).toBe(200);
    await expect(connect(server, { headers: { Cookie: cookie, Host: `evil.example:${server.port}` } })).rejects.toMatchObject({
      status: 403,
    });
  });

  it('refuses a WebSocket without a token or with a wrong one', async () => {
    await expect(connect(server)).rejects.toMatchObject({ status: 401 });
    await expect(connect(server, { query: '?token=nope' })).rejects.toMatchObject({ status: 403 });
    await expect(connect(server, { headers: { Cookie: `${server.cookieName}=nope` } })).rejects.toMatchObject({ status: 403 });
  });

  it('refuses a WebSocket from another Origin, or with none', async () => {
    await expect(connect(server, { query: `?token=${server.token}`, origin: 'http://evil.example' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(connect(server, { query: `?token=${server.token}`, origin: `http://127.0.0.1:${server.port + 1}` })).rejects.toMatchObject(
      { status: 403 },
    );
    await expect(connect(server, { query: `?token=${server.token}`, origin: null })).rejects.toMatchObject({ status: 403 });
  });

  it('accepts a WebSocket with the cookie or the token query', async () => {
    const a = await connect(server, { headers: { Cookie: cookie } });
    const b = await connect(server, {
      query: `?token=${encodeURIComponent(server.token)}`,
      origin: `http://localhost:${server.port}`,
      headers: { Host: `localhost:${server.port}` },
    });
    a.close();
    b.close();
  });

  it('answers malformed messages with error codes and keeps the connection and the server alive', async () => {
    const ws = await connect(server, { headers: { Cookie: cookie } });
    const c = client(ws);
    expect((await c.raw('this is not json')).reply).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect((await c.raw('[1,2]')).reply).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect((await c.raw(JSON.stringify({ op: 'runs.list', payload: {} }))).reply).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
    expect((await c.raw(JSON.stringify({ id: 7, payload: {} }), 7)).reply).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await c.call('runs.nope', {})).toMatchObject({ ok: false, error: { code: 'unknown-operation' } });
    expect(await c.call('__proto__', {})).toMatchObject({ ok: false, error: { code: 'unknown-operation' } });
    const invalid = await c.call('runs.get', { id: -1 });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await c.call('runs.get', { id: 999_999 })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await c.call('files.save', { suggestedName: 'a.txt', data: 'x', encoding: 'utf8' })).toMatchObject({
      ok: false,
      error: { code: 'failed' },
    });
    // Still alive: a good request on the same socket works.
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(await c.call('runs.list', {})).toMatchObject({ ok: true, value: [] });
    ws.close();
  });

  it('closes a socket that sends more than 1 MB, and the server keeps serving', async () => {
    const ws = await connect(server, { headers: { Cookie: cookie } });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.send(JSON.stringify({ id: 1, op: 'runs.list', payload: { pad: 'x'.repeat(1_100_000) } }));
    expect(await closed).toBe(1009);
    const again = await connect(server, { headers: { Cookie: cookie } });
    expect(await client(again).call('runs.list', {})).toMatchObject({ ok: true });
    again.close();
  });

  it('runs a tiny k-means job over the socket: started/progress/finished events, then runs.list shows it', async () => {
    const ws = await connect(server, { headers: { Cookie: cookie } });
    const c = client(ws);
    const started = await c.call('runs.start', { params: { task: 'kmeans', trainLimit: 500, testLimit: 100, nInit: 1 } });
    expect(started).toMatchObject({ ok: true, value: { jobId: expect.any(String) } });
    const jobId = (started!.value as { jobId: string }).jobId;
    await c.waitForEvent(
      (e) => (e.event === 'job.finished' || e.event === 'job.failed') && (e.payload as { jobId: string }).jobId === jobId,
      120_000,
    );
    const mine = c.events.filter((e) => (e.payload as { jobId?: string }).jobId === jobId);
    const names = mine.map((e) => e.event);
    expect(names).toContain('job.started');
    expect(names).toContain('job.progress');
    expect(names).toContain('job.finished');
    expect(names.indexOf('job.started')).toBeLessThan(names.indexOf('job.finished'));
    const finished = mine.find((e) => e.event === 'job.finished')!.payload as {
      runId: number;
      summary: { status: string; accuracy: number };
    };
    expect(finished.summary.status).toBe('completed');
    const list = await c.call('runs.list', {});
    expect(list?.ok).toBe(true);
    expect((list!.value as { id: number }[]).map((r) => r.id)).toContain(finished.runId);
    ws.close();
  });

  it('queues at most MAX_QUEUED_JOBS runs; more runs.start get a queue-full error, and nothing else breaks', async () => {
    const ws = await connect(server, { headers: { Cookie: cookie } });
    const c = client(ws);
    const params = { task: 'kmeans', trainLimit: 500, testLimit: 100, nInit: 1 };
    const replies = await Promise.all(Array.from({ length: 200 }, () => c.call('runs.start', { params })));
    const accepted = replies.filter((r) => r?.ok).map((r) => (r!.value as { jobId: string }).jobId);
    const refused = replies.filter((r) => !r?.ok);
    // One job runs, MAX_QUEUED_JOBS wait; the others are refused with one clear error each.
    expect(accepted).toHaveLength(1 + MAX_QUEUED_JOBS);
    expect(refused).toHaveLength(200 - 1 - MAX_QUEUED_JOBS);
    for (const r of refused) {
      expect(r!.error).toEqual({
        code: 'queue-full',
        message: `The run queue is full (${MAX_QUEUED_JOBS} runs waiting): wait for one to finish, or cancel one`,
      });
    }
    const jobs = await c.call('jobs.list', {});
    expect((jobs!.value as unknown[]).length).toBe(1 + MAX_QUEUED_JOBS);
    for (const jobId of accepted.reverse())
      expect(await c.call('runs.cancel', { jobId })).toMatchObject({ ok: true, value: { cancelled: true } });
    // Once there is room again, a run is accepted.
    const again = await c.call('runs.start', { params });
    expect(again).toMatchObject({ ok: true });
    expect(await c.call('runs.cancel', { jobId: (again!.value as { jobId: string }).jobId })).toMatchObject({ ok: true });
    ws.close();
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src-main/contract/index';
import { repoRoot } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';

// The built preload (out/preload/index.cjs) as a sandboxed preload runs it: CommonJS, with a `require` that
// only knows 'electron'. It must expose exactly one object implementing the contract over IPC.
const builtPreload = join(repoRoot, 'out', 'preload', 'index.cjs');

function loadPreload(reply: (channel: string, op: string, payload: unknown) => unknown) {
  const exposed = new Map<string, unknown>();
  const invocations: unknown[][] = [];
  let eventListener: ((event: unknown, ...args: unknown[]) => void) | undefined;
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.set(key, value) },
    ipcRenderer: {
      invoke: async (channel: string, op: string, payload: unknown) => {
        invocations.push([channel, op, payload]);
        return reply(channel, op, payload);
      },
      on: (channel: string, fn: typeof eventListener) => {
        expect(channel).toBe('clusterbench:event');
        eventListener = fn;
      },
    },
  };
  const required: string[] = [];
  const module = { exports: {} };
  runInNewContext(readFileSync(builtPreload, 'utf8'), {
    require: (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
      return electron;
    },
    module,
    exports: module.exports,
    console,
    Promise,
    JSON,
    Error,
    Map,
    Set,
    Object,
    String,
  });
  return { exposed, invocations, required, emit: (...args: unknown[]) => eventListener?.({ sender: 'ipc' }, ...args) };
}

describe.skipIf(skipUnless('builtApp'))('built preload', () => {
  it('requires only electron and exposes window.clusterbench: one function per operation plus on()', () => {
    const { exposed, required } = loadPreload(() => ({ ok: true, value: null }));
    expect([...new Set(required)]).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['clusterbench']);
    const api = exposed.get('clusterbench') as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...OPERATIONS, 'on'].sort());
    for (const key of Object.keys(api)) expect(typeof api[key]).toBe('function');
    expect(api).not.toHaveProperty('invoke');
    expect(api).not.toHaveProperty('ipcRenderer');
  });

  it('invokes clusterbench:call and unwraps replies; failures throw with code, message and issues', async () => {
    const { exposed, invocations } = loadPreload((_channel, op) =>
      op === 'runs.list'
        ? { ok: true, value: [{ id: 1 }] }
        : {
            ok: false,
            error: {
              code: 'invalid-request',
              message: 'Invalid request for runs.get: id: too small',
              issues: [{ param: 'id', message: 'too small' }],
            },
          },
    );
    const api = exposed.get('clusterbench') as Record<string, (r: unknown) => Promise<unknown>>;
    expect(await api['runs.list']({ limit: 5 })).toEqual([{ id: 1 }]);
    expect(invocations[0]).toEqual(['clusterbench:call', 'runs.list', { limit: 5 }]);
    const err = (await api['runs.get']({ id: -1 }).catch((e: unknown) => e)) as Error & { code: string; issues: unknown[] };
    expect(err.code).toBe('invalid-request');
    expect(err.issues).toEqual([{ param: 'id', message: 'too small' }]);
    // contextBridge keeps only an Error's message: the contract error is encoded there for the renderer.
    expect(err.message.startsWith('ClusterbenchError:')).toBe(true);
    expect(JSON.parse(err.message.slice('ClusterbenchError:'.length))).toMatchObject({
      code: 'invalid-request',
      message: expect.stringContaining('runs.get'),
    });
  });

  it('delivers events to on() listeners until unsubscribed, and rejects unknown event names', () => {
    const { exposed, emit } = loadPreload(() => ({ ok: true, value: null }));
    const api = exposed.get('clusterbench') as { on: (e: string, l: (p: unknown) => void) => () => void };
    const seen: unknown[] = [];
    const off = api.on('job.progress', (p) => seen.push(p));
    emit('job.progress', { jobId: 'job-1' });
    emit('job.finished', { jobId: 'job-1' });
    off();
    emit('job.progress', { jobId: 'job-2' });
    expect(seen).toEqual([{ jobId: 'job-1' }]);
    expect(() => api.on('not.an.event', () => undefined)).toThrow(/Unknown event/);
  });
});

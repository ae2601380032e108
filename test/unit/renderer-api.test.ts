import { afterEach, describe, expect, it, vi } from 'vitest';

// src-renderer/src/api over the preload (desktop transport): it picks window.clusterbench when present and
// turns the preload's encoded errors back into ClusterbenchError with the contract's code and issues.
// (The web transport is exercised in a real browser by test/e2e/smoke.test.ts.)
describe('renderer api over the preload', () => {
  afterEach(() => {
    delete (globalThis as { window?: unknown }).window;
    vi.resetModules();
  });

  it('uses window.clusterbench, decodes errors, forwards on(), and saves exports through files.save', async () => {
    const calls: [string, unknown][] = [];
    const listeners: [string, (p: unknown) => void][] = [];
    const fake: Record<string, unknown> = {
      on: (event: string, listener: (p: unknown) => void) => {
        listeners.push([event, listener]);
        return () => undefined;
      },
    };
    for (const op of ['runs.list', 'runs.get', 'files.save']) {
      fake[op] = async (request: unknown) => {
        calls.push([op, request]);
        if (op === 'runs.get') {
          // What a rejection looks like after contextBridge: only the message survives.
          throw new Error(`ClusterbenchError:${JSON.stringify({ code: 'not-found', message: 'No run #9', issues: undefined })}`);
        }
        return op === 'files.save' ? { saved: true, path: '/tmp/x.svg' } : [];
      };
    }
    (globalThis as { window?: unknown }).window = { clusterbench: fake };
    const mod = await import('../../src-renderer/src/api/index');
    expect(mod.transport).toBe('electron');
    expect(await mod.api['runs.list']({})).toEqual([]);
    const err = await mod.api['runs.get']({ id: 9 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(mod.ClusterbenchError);
    expect(err).toMatchObject({ code: 'not-found', message: 'No run #9' });
    const listener = (): void => undefined;
    mod.api.on('job.finished', listener);
    expect(listeners.map(([e]) => e)).toEqual(['job.finished']);
    expect(await mod.saveExportedFile({ suggestedName: 'c.svg', mime: 'image/svg+xml', encoding: 'utf8', data: '<svg/>' })).toEqual({
      saved: true,
      path: '/tmp/x.svg',
    });
    expect(calls.at(-1)).toEqual(['files.save', { suggestedName: 'c.svg', data: '<svg/>', encoding: 'utf8' }]);
  });
});

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../src-main/service/worker/host';
import { repoRoot, tempHome } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';

// The desktop app starts the engine worker from the bundle (out/main/engineWorker.js, a second entry of the
// main build), and the worker's lazy import of the query side is a code-split chunk. Run that built worker
// from plain Node: a tiny k-means job, then a query.
const builtWorker = join(repoRoot, 'out/main/engineWorker.js');
describe.skipIf(skipUnless('builtApp'))('built engine worker (out/main/engineWorker.js)', () => {
  const home = tempHome();
  const host = new EngineHost({ dbPath: join(home, 'runs.sqlite'), workerUrl: pathToFileURL(builtWorker) });
  afterAll(() => host.close());

  it('runs a tiny k-means job and answers runs.list through the code-split query chunk', async () => {
    const phases: string[] = [];
    host.on('progress', (_job, e) => phases.push(e.phase));
    const { result } = host.submit({ task: 'kmeans', trainLimit: 500, testLimit: 100, nInit: 1 });
    const run = await result;
    expect(run.status).toBe('completed');
    expect(phases).toContain('kmeans');
    const list = (await host.call('runs.list', {})) as { id: number; status: string }[];
    expect(list.map((r) => r.id)).toContain(run.id);
    expect(list.find((r) => r.id === run.id)?.status).toBe('completed');
  });
});

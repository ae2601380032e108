/**
 * The layers are enforced by the lint (eslint.config.js, no-restricted-imports), not hoped for: a file that imports
 * upwards fails `npm run lint`. Each case lints a few lines as if they were a file at that path.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli';

const eslint = new ESLint({ cwd: repoRoot });

/** The messages of the import rule for `code` linted as the file at `path`. */
async function importErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${repoRoot}/${path}` });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layers (eslint no-restricted-imports)', () => {
  it('an estimator may not import from experiments/ or the store', async () => {
    const errors = await importErrors(
      'src-main/engine/cluster/new-clusterer.ts',
      "import { runExperiment } from '../../experiments/run';\nimport { RunStore } from '../../store/index';\nexport const x = [runExperiment, RunStore];\n",
    );
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/Estimators import nothing from experiments\//);
  });

  it('the engine may not import the service, the CLI, the app, web mode or Electron', async () => {
    const code = [
      "import { createEngineApi } from '../../../service/api';",
      "import { buildProgram } from '../../../cli/index';",
      "import { startWebServer } from '../../../web/server';",
      "import { app } from 'electron';",
      'export const x = [createEngineApi, buildProgram, startWebServer, app];',
    ].join('\n');
    const errors = await importErrors('src-main/engine/experiments/new-stage.ts', code);
    expect(errors).toHaveLength(4);
    expect(errors[3]).toMatch(/nothing from Electron/);
  });

  it('the store may not import the pipeline, nor a schema module the store', async () => {
    const store = await importErrors(
      'src-main/engine/store/new-table.ts',
      "import { runExperiment } from '../../experiments/run';\nexport const x = runExperiment;\n",
    );
    expect(store).toEqual([expect.stringMatching(/The store imports nothing from the pipeline/)]);
    const schema = await importErrors(
      'src-main/engine/schema/new-plan.ts',
      "import { RunStore } from '../../store/index';\nexport const x = RunStore;\n",
    );
    expect(schema).toEqual([expect.stringMatching(/nothing from the store or the pipeline/)]);
  });

  it('the CLI, the app and web mode may not import the store, not even its types: they go through the service', async () => {
    const cli = await importErrors(
      'src-main/cli/commands/new-command.ts',
      "import { RunStore } from '../../../engine/store/index';\nimport type { RunRecord } from '../../../engine/store/types';\nexport const x: RunRecord[] = RunStore.name ? [] : [];\n",
    );
    expect(cli).toEqual([
      expect.stringMatching(/import nothing from the store: they go through the service/),
      expect.stringMatching(/import nothing from the store/),
    ]);
    for (const path of ['src-main/app/new-window.ts', 'src-main/web/new-route.ts'])
      expect(await importErrors(path, "import { RunStore } from '../../engine/store/index';\nexport const x = RunStore;\n")).toHaveLength(
        1,
      );
    const throughService = [
      "import { withHistory, type RunStore } from '../../../service/history';",
      "import { getSweepDetail } from '../../../service/sweeps';",
      "import type { RunRecord } from '../../../contract/index';",
      'export const x: [typeof withHistory, typeof getSweepDetail, RunStore?, RunRecord?] = [withHistory, getSweepDetail];',
    ].join('\n');
    expect(await importErrors('src-main/cli/commands/new-command.ts', throughService)).toEqual([]);
  });

  it('a schema module (bundled by the renderer) may not import Node built-ins', async () => {
    const errors = await importErrors(
      'src-main/engine/models/new-encoder-params.ts',
      "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
    );
    expect(errors).toEqual([expect.stringMatching(/no Node built-ins/)]);
  });

  it('allowed imports pass: an estimator importing the maths, its schema and tfjs', async () => {
    const code = [
      "import { Rng } from '../../math/rng';",
      "import { int } from '../../schema/constraints';",
      "import { tf } from '../../backend/index';",
      'export const x = [Rng, int, tf];',
    ].join('\n');
    expect(await importErrors('src-main/engine/cluster/new-clusterer.ts', code)).toEqual([]);
  });
});

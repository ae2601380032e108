/**
 * Issue 12: one parameter schema. Every parameter of the table reaches the CLI (a flag that parses into the
 * params object), the New-experiment form (a field that round-trips into runs.start's params and back) and the
 * engine (the schema accepts it, the runner reads it); `--reg-covar` reaches the GaussianMixture itself. A
 * parameter added to the table but missed by one of them fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { idArg } from '../../src-main/cli/args';
import { buildProgram } from '../../src-main/cli/index';
import { addParamOptions, paramFlag, paramFlags } from '../../src-main/cli/param-options';
import {
  checkExperimentParams,
  effectiveParams,
  PARAM_NAMES,
  PRESETS,
  taskTakes,
  paramChoices,
  paramDefault,
  paramKind,
  paramMax,
  parseExperimentParams,
  specOf,
  TASKS,
  taskParamNames,
  type Estimator,
  type ParamName,
  type TaskName,
} from '../../src-main/engine/schema/params';
import { ESTIMATOR_PARAMS } from '../../src-main/engine/schema/param-table';
import { GMM_PARAMS } from '../../src-main/engine/cluster/gmm-params';
import { textOf } from '../../src-main/engine/schema/constraints';
import {
  activeFields,
  defaultValues,
  fieldHint,
  fieldLabel,
  presetFor,
  validate,
  valuesForTask,
  readField,
  valuesFromParams,
  type FormValues,
} from '../../src-renderer/src/lib/experiment';
import { parseGridRow } from '../../src-renderer/src/lib/sweep';
import { cleanupTmpDirs, makeTmpDir, writeIdxDataset } from '../helpers/data-fixtures';

/** The GaussianMixtures the runner builds, with the parameters they were given. */
const gmmParams = vi.hoisted(() => [] as Record<string, unknown>[]);
vi.mock('../../src-main/engine/cluster/gmm', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src-main/engine/cluster/gmm')>();
  class RecordingGaussianMixture extends mod.GaussianMixture {
    constructor(params: ConstructorParameters<typeof mod.GaussianMixture>[0]) {
      super(params);
      gmmParams.push({ ...this.params });
    }
  }
  return { ...mod, GaussianMixture: RecordingGaussianMixture };
});

afterAll(cleanupTmpDirs);

/** A valid value other than the default: what a user would set to change the parameter. */
function sampleValue(name: ParamName, task: TaskName): unknown {
  const fallback = paramDefault(name, task);
  const kind = paramKind(name);
  if (kind === 'switch') return !fallback;
  if (kind === 'choice') return paramChoices(name).find((c) => c !== fallback);
  if (kind === 'list') return [64, 32];
  if (kind === 'text') return 'mnist'; // the one text parameter: a data set's name
  if (kind === 'int' && typeof fallback === 'number') return fallback + 1;
  return paramMax(name);
}

/** Every (task, parameter) pair of the table. */
const PAIRS: [TaskName, ParamName][] = TASKS.flatMap((task) => taskParamNames(task).map((name) => [task, name] as [TaskName, ParamName]));

/** Parses parameter flags as the run command does (its own parameter flags, read back into params). */
function parseFlags(args: string[]): Record<string, unknown> {
  const command = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const read = addParamOptions(command);
  command.parse(args, { from: 'user' });
  return read(command.opts());
}

/** The command line that sets a parameter to a value. */
function flagArgs(name: ParamName, value: unknown): string[] {
  if (paramKind(name) === 'switch') return [value ? `--${paramFlag(name)}` : `--no-${paramFlag(name)}`];
  return [`--${paramFlag(name)}`, Array.isArray(value) ? value.join(',') : String(value)];
}

describe('the parameter table', () => {
  it("keeps each task's parameters in the order runs have always stored them", () => {
    const common = ['k', 'seed', 'trainLimit', 'testLimit', 'backend'];
    const training = ['epochs', 'batchSize', 'learningRate', 'valSplit', 'patience', 'reuseEncoder'];
    const kmeans = ['nInit', 'maxIter', 'tol'];
    const gmm = ['covariance', 'regCovar', 'gmmMaxIter', 'gmmTol', 'gmmNInit'];
    const pipeline = [
      ...common,
      'encoder',
      'layers',
      'codeSize',
      'loss',
      ...training,
      'umap',
      'umapNeighbors',
      'umapMinDist',
      'umapComponents',
      'umapEpochs',
      'umapInit',
      'protocol',
      'cluster',
      ...kmeans,
      ...gmm,
      'map2d',
      'augRotation',
      'augShift',
      'dataset',
    ];
    // the data set came last (issue 21), so that runs stored before keep their parameters' order
    expect(taskParamNames('kmeans')).toEqual([...common, ...kmeans, 'dataset']);
    expect(taskParamNames('ae-kmeans')).toEqual([...common, ...training, ...kmeans, 'dataset']);
    expect(taskParamNames('ae-gmm')).toEqual([...common, ...training, ...gmm, 'dataset']);
    expect(taskParamNames('pipeline')).toEqual(pipeline);
    expect(taskParamNames('n2d')).toEqual(pipeline);
    expect(taskParamNames('n2d-aug')).toEqual(pipeline);
    for (const task of TASKS)
      expect(Object.keys(parseExperimentParams({ task })), task).toEqual([
        'task',
        ...taskParamNames(task).filter((n) => paramDefault(n, task) !== undefined),
      ]);
  });

  it('has the defaults that differ by task', () => {
    const at = (task: TaskName) => parseExperimentParams({ task }) as Record<string, unknown>;
    expect(at('ae-kmeans')).toMatchObject({ epochs: 50, batchSize: 128, learningRate: 0.01, valSplit: 0.1 });
    expect(at('pipeline')).toMatchObject({ epochs: 15, batchSize: 256, learningRate: 0.001, valSplit: 0.1, protocol: 'inductive' });
    expect(at('n2d')).toMatchObject({ epochs: 15, batchSize: 256, learningRate: 0.001, valSplit: 0, protocol: 'transductive' });
    expect(at('n2d')).toMatchObject({ augRotation: 0, augShift: 0 });
    // the preset is N2D's recipe with augmentation on
    expect(at('n2d-aug')).toEqual({ ...at('n2d'), task: 'n2d-aug', augRotation: 10, augShift: 0.1 });
  });

  it('labels exactly the values of each choice', () => {
    for (const name of PARAM_NAMES) {
      const labels = specOf(name).choices;
      if (!labels) continue;
      const values = paramKind(name) === 'switch' ? ['true', 'false'] : paramChoices(name);
      expect(Object.keys(labels).sort(), name).toEqual([...values].sort());
    }
  });
});

describe('every parameter reaches the CLI', () => {
  it('every parameter has a flag, and the flags set nothing else', () => {
    const CLI_EXCEPTIONS: ParamName[] = []; // parameters deliberately without a flag: none
    expect(new Set(paramFlags().map((f) => f.param))).toEqual(new Set(PARAM_NAMES.filter((n) => !CLI_EXCEPTIONS.includes(n))));
    const run = buildProgram().commands.find((c) => c.name() === 'run')!;
    const longs = run.options.map((o) => o.long);
    for (const name of PARAM_NAMES) expect(longs, name).toContain(`--${paramFlag(name)}`);
    expect(longs).toEqual(expect.arrayContaining(['--task', '--json', '--reg-covar', '--gmm-n-init', '--gmm-max-iter', '--gmm-tol']));
  });

  it.each(PAIRS)('%s: --%s parses into the params the engine accepts', (task, name) => {
    const value = sampleValue(name, task);
    const params = parseFlags(flagArgs(name, value));
    expect(params).toEqual({ [name]: value });
    const checked = checkExperimentParams({ task, ...params });
    expect(checked.ok && (checked.params as Record<string, unknown>)[name]).toEqual(value);
  });

  it('keeps the old spellings: --lr, --no-umap, the hidden --umap-protocol, --layers as a comma list', () => {
    expect(parseFlags(['--lr', '0.5', '--no-umap', '--umap-protocol', 'transductive', '--layers', '500,500,2000'])).toEqual({
      learningRate: 0.5,
      umap: false,
      protocol: 'transductive',
      layers: [500, 500, 2000],
    });
    expect(parseFlags(['--protocol', 'inductive', '--umap-protocol', 'transductive'])).toEqual({ protocol: 'inductive' });
    const run = buildProgram().commands.find((c) => c.name() === 'run')!;
    expect(run.options.find((o) => o.long === '--umap-protocol')?.hidden).toBe(true);
    expect(run.options.find((o) => o.long === '--covariance')?.argChoices).toEqual(['full', 'diag', 'spherical']);
  });

  it('parses numbers strictly', () => {
    for (const bad of ['ten', '', 'NaN', '1,5']) expect(() => parseFlags(['--k', bad]), bad).toThrow(/expected a number/);
    expect(() => parseFlags(['--layers', '500,,2000'])).toThrow(/comma-separated/);
    expect(() => parseFlags(['--cluster', 'dbscan'])).toThrow(/Allowed choices are kmeans, gmm/);
  });
});

describe('every parameter reaches the New-experiment form', () => {
  /** Form values in which the parameter is in use (e.g. k-means settings need the k-means clusterer). */
  function valuesUsing(task: TaskName, name: ParamName): FormValues {
    const values = defaultValues(task);
    for (const context of [{}, { cluster: 'kmeans' }]) {
      const candidate = { ...values, ...context };
      if (activeFields(candidate).includes(name)) return candidate;
    }
    throw new Error(`no form values use ${name} in ${task}`);
  }

  it.each(PAIRS)('%s: the %s field round-trips into runs.start params and back', (task, name) => {
    const value = sampleValue(name, task);
    const text = Array.isArray(value) ? value.join(', ') : String(value);
    const { ok, errors, params } = validate({ ...valuesUsing(task, name), [name]: text });
    expect(errors).toEqual({});
    expect(ok).toBe(true);
    expect(params[name]).toEqual(value);
    const stored = parseExperimentParams(params) as Record<string, unknown>;
    expect(stored[name]).toEqual(value);
    expect(valuesFromParams(stored)[name]).toBe(text);
  });

  it("starts at the engine's defaults: the form sends what the engine would fill in", () => {
    for (const task of TASKS) {
      const { ok, params } = validate(defaultValues(task));
      expect(ok, task).toBe(true);
      expect(effectiveParams(parseExperimentParams(params)), task).toEqual(effectiveParams(parseExperimentParams({ task })));
    }
  });

  it("reports the schema's own messages, and the checks between parameters", () => {
    const errorsOf = (task: TaskName, change: Partial<FormValues>) => validate({ ...defaultValues(task), ...change }).errors;
    expect(errorsOf('kmeans', { k: '1', nInit: '0', trainLimit: 'abc', tol: '' })).toEqual({
      k: 'must be ≥ 2',
      nInit: 'must be ≥ 1',
      trainLimit: 'must be a number',
      tol: 'required',
    });
    expect(errorsOf('n2d', { umapNeighbors: '1', umapMinDist: '1.5', layers: '64, -3', epochs: '2.5' })).toEqual({
      layers: 'must be ≥ 1',
      epochs: 'must be an integer',
      umapNeighbors: 'must be ≥ 2',
      umapMinDist: 'must be ≤ 1 (the spread)',
    });
    expect(errorsOf('ae-kmeans', { learningRate: '0' })).toEqual({ learningRate: 'must be > 0' });
    expect(errorsOf('kmeans', { testLimit: '5' })).toEqual({
      testLimit: 'must be ≥ k (10): fewer test images than clusters cannot be evaluated',
    });
    expect(errorsOf('pipeline', { k: '300' })).toEqual({ umapComponents: 'defaults to k (300), above its maximum 256: set it' });
    expect(errorsOf('kmeans', { trainLimit: '5' })).toEqual({ k: 'must be ≤ the fit subset (5)' });
  });

  it('switching task moves the fields whose defaults differ; the presets are the task defaults', () => {
    const n2d = valuesForTask({ ...defaultValues('kmeans'), k: '7' }, 'n2d');
    expect(n2d).toMatchObject({
      task: 'n2d',
      k: '7',
      epochs: '15',
      batchSize: '256',
      learningRate: '0.001',
      valSplit: '0',
      protocol: 'transductive',
    });
    expect(valuesForTask(n2d, 'pipeline')).toMatchObject({ valSplit: '0.1', protocol: 'inductive', epochs: '15' });
    expect(valuesForTask(n2d, 'ae-gmm')).toMatchObject({ epochs: '50', batchSize: '128', learningRate: '0.01', valSplit: '0.1' });
    expect(presetFor('n2d')).toMatchObject({
      layers: '500, 500, 2000',
      codeSize: '10',
      learningRate: '0.001',
      batchSize: '256',
      umapNeighbors: '20',
      protocol: 'transductive',
      cluster: 'gmm',
    });
    expect(presetFor('ae-gmm')).toMatchObject({
      k: '10',
      epochs: '50',
      batchSize: '128',
      learningRate: '0.01',
      valSplit: '0.1',
      covariance: 'full',
      patience: '',
    });
    for (const field of ['seed', 'trainLimit', 'testLimit', 'backend', 'reuseEncoder']) expect(presetFor('n2d')).not.toHaveProperty(field);
  });
});

describe('every parameter reaches the engine', () => {
  it('the runner reads every parameter', () => {
    // A parameter the schema accepts but the runner never reads would be silently ignored. The stages get the
    // estimators' parameters through the table's `sets` (which must name a parameter of that estimator's own
    // schema); the rest (data, backend, the pipeline's choices) are read by name in run.ts and spec.ts.
    const runner = ['run.ts', 'spec.ts']
      .map((f) => readFileSync(join(__dirname, '../../src-main/engine/experiments', f), 'utf8'))
      .join('\n');
    for (const name of PARAM_NAMES) {
      const sets = Object.entries(specOf(name).sets ?? {}) as [Estimator, string][];
      for (const [estimator, target] of sets)
        expect(Object.keys(ESTIMATOR_PARAMS[estimator]), `${name} → ${estimator}.${target}`).toContain(target);
      if (sets.length === 0) expect(runner, name).toMatch(new RegExp(`\\b(params|p)\\.${name}\\b`));
    }
  });

  it('--reg-covar 1e-5 (and the other GMM flags) reach the GaussianMixture', async () => {
    const { runExperiment } = await import('../../src-main/engine/experiments/run');
    const { RunStore } = await import('../../src-main/engine/store/index');
    const dir = await makeTmpDir('cb-params-');
    await writeIdxDataset(dir, { trainCount: 60, testCount: 30 });
    const args = [
      '--encoder',
      'none',
      '--no-umap',
      '--map2d',
      'none',
      '--k',
      '3',
      '--backend',
      'cpu',
      '--covariance',
      'diag',
      '--reg-covar',
      '1e-5',
      '--gmm-n-init',
      '2',
      '--gmm-max-iter',
      '7',
      '--gmm-tol',
      '0.01',
    ];
    const store = RunStore.open(join(dir, 'runs.db'));
    try {
      const run = await runExperiment({ task: 'pipeline', ...parseFlags(args) }, { store, dataDir: dir });
      expect(run.status).toBe('completed');
      expect(run.params).toMatchObject({ regCovar: 1e-5, gmmNInit: 2, gmmMaxIter: 7, gmmTol: 0.01 });
    } finally {
      store.close();
    }
    expect(gmmParams.at(-1)).toMatchObject({ k: 3, covarianceType: 'diag', regCovar: 1e-5, nInit: 2, maxIter: 7, tol: 0.01 });
  });
});

describe('an estimator parameter is declared once, in its estimator, and one line of the table places it', () => {
  // The GMM's parameters carry their own description (cluster/gmm-params.ts); the table's entry for each is one line
  // (fromEstimator) saying where it applies. From there it reaches the CLI's flag and help, the form, and the fit
  // (the test above: --reg-covar … reach the GaussianMixture).
  const table = readFileSync(join(__dirname, '../../src-main/engine/schema/param-table.ts'), 'utf8');
  const run = buildProgram().commands.find((c) => c.name() === 'run')!;
  const cases = (['covariance', 'regCovar', 'gmmMaxIter', 'gmmTol', 'gmmNInit'] as const).map((name) => {
    const target = specOf(name).sets!.gmm!;
    return [name, target, textOf(GMM_PARAMS[target as keyof typeof GMM_PARAMS])!] as const;
  });

  it.each(cases)('%s (the GaussianMixture’s %s)', (name, target, text) => {
    expect(text, `${target} has a description in gmm-params.ts`).toBeDefined();
    expect(table).not.toContain(text.help);
    const entry = table.slice(table.indexOf(`  ${name}: param({`), table.indexOf('}),', table.indexOf(`  ${name}: param({`)));
    expect(entry).toContain(`...fromEstimator('gmm', '${target}')`);
    expect(entry.split('\n').length, 'one line of the table (as Prettier lays it out)').toBeLessThanOrEqual(7);
    expect(entry).not.toMatch(/label:|help:/);
    const option = run.options.find((o) => o.long === `--${paramFlag(name)}`)!;
    expect(option.description).toContain(text.help);
    expect(fieldLabel(name)).toBe(text.formLabel ?? text.label);
    expect(fieldHint(name)).toContain(text.help.replace(/^GMM:? /, '').slice(0, 20));
  });
});

describe('presets: one task → overrides table', () => {
  it('each preset sets only parameters its task takes, to values their schemas accept, and they are its defaults', () => {
    for (const task of TASKS) {
      for (const [name, value] of Object.entries(PRESETS[task]) as [ParamName, unknown][]) {
        expect(taskTakes(task, name), `${task} takes ${name}`).toBe(true);
        expect(specOf(name).schema.safeParse(value).success, `${task}.${name} = ${String(value)}`).toBe(true);
        expect(paramDefault(name, task), `${task}'s default ${name}`).toEqual(value);
      }
    }
    // The study's tasks keep the estimators' own defaults; N2D's recipe is its preset.
    expect(PRESETS.kmeans).toEqual({});
    expect(paramDefault('learningRate', 'ae-kmeans')).toBe(0.01);
    expect(PRESETS['n2d-aug']).toMatchObject({ epochs: 15, batchSize: 256, learningRate: 1e-3, protocol: 'transductive', augRotation: 10 });
  });
});

describe('effective parameters', () => {
  it('leaves out what a run did not use', () => {
    const reused = effectiveParams(parseExperimentParams({ task: 'ae-gmm', reuseEncoder: 4 }));
    expect(Object.keys(reused)).not.toEqual(expect.arrayContaining(['epochs']));
    expect(reused).toMatchObject({ reuseEncoder: 4, covariance: 'full' });
    const pixels = effectiveParams(parseExperimentParams({ task: 'pipeline', encoder: 'none', umap: false, cluster: 'kmeans' }));
    expect(Object.keys(pixels)).toEqual([
      'task',
      'k',
      'seed',
      'backend',
      'encoder',
      'umap',
      'protocol',
      'cluster',
      'nInit',
      'maxIter',
      'tol',
      'map2d',
      'dataset',
    ]);
    const dense = effectiveParams(parseExperimentParams({ task: 'n2d' }));
    expect(dense).toHaveProperty('layers');
    expect(dense).not.toHaveProperty('nInit');
    expect(effectiveParams({ task: 'kmeans', k: 3, fromAnOlderVersion: 1 })).toEqual({ task: 'kmeans', k: 3, fromAnOlderVersion: 1 });
  });
});

describe('numbers in the form are decimal, as on the command line', () => {
  const errorsOf = (change: Partial<FormValues>) => validate({ ...defaultValues('n2d'), ...change }).errors;

  it('refuses hex, binary, octal, digit separators and a bare exponent', () => {
    for (const text of ['0x10', '0b11', '0o17', '1_000', '1e']) {
      expect(errorsOf({ epochs: text }).epochs, text).toBe('must be a number');
      expect(errorsOf({ learningRate: text }).learningRate, text).toBe('must be a number');
    }
    expect(errorsOf({ layers: '0x10, 64' }).layers).toBe('must be a number');
  });

  it('takes 1e-5 and .5, and reads -0.5 as the number it is (then refused by the range of the field)', () => {
    expect(validate({ ...defaultValues('n2d'), learningRate: '1e-5' }).params.learningRate).toBe(1e-5);
    expect(validate({ ...defaultValues('n2d'), valSplit: '.5' }).params.valSplit).toBe(0.5);
    expect(readField('learningRate', '-0.5', 'n2d')).toEqual({ value: -0.5 });
    expect(errorsOf({ learningRate: '-0.5' }).learningRate).toBe('must be > 0');
  });

  it('reads run ids on the command line the same way', () => {
    expect(idArg('16')).toBe(16);
    for (const text of ['0x10', '0b10', '1_6', ' 16'])
      expect(() => idArg(text), text).toThrow(`expected a run id (a positive integer), got "${text}"`);
  });

  it('reads the sweep grid rows the same way', () => {
    expect(parseGridRow({ param: 'epochs', text: '2, 0x10' }, 'n2d')).toEqual({ ok: false, error: '0x10: must be a number' });
    expect(parseGridRow({ param: 'learningRate', text: '1e-3, 1e-5' }, 'n2d')).toEqual({ ok: true, value: [1e-3, 1e-5] });
  });
});

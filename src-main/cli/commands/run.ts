import { InvalidArgumentError, Option, type Command } from 'commander';
import { AE_LOSSES, BACKENDS, CLUSTERERS, ENCODERS, MAP2D_METHODS, N2D_DEFAULT_EPOCHS, PROTOCOLS, TASKS, UMAP_INITS } from '../../engine/experiments/params';
import { paramMax, parseExperimentParams } from '../../engine/experiments/params';
import { EngineHost } from '../../service/worker/host';
import type { RunRecord } from '../../engine/store/types';
import { globals, printJson } from '../context';
import { lossTable, runReport } from '../format';
import { numberArg } from '../args';
import { createProgressReporter } from '../progress';

/** The one JSON object `run --json` prints. */
export function runSummaryJson(run: RunRecord) {
  const ev = run.evaluation;
  return {
    id: run.id,
    task: run.task,
    params: run.params,
    backend: run.backend,
    status: run.status,
    dataset: run.dataset,
    metrics: run.metrics,
    mapping: ev?.mapping ?? null,
    confusion: ev?.confusion ?? null,
    report: ev ? { classNames: ev.classNames, perClass: ev.perClass, macroAvg: ev.macroAvg, weightedAvg: ev.weightedAvg, accuracy: ev.accuracy } : null,
    losses: run.losses,
    timings: run.timings,
  };
}

/** "500,500,2000" → [500, 500, 2000]; the sizes themselves are checked by the parameter schema. */
export function layersArg(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const sizes = parts.map(Number);
  if (value.trim() === '' || parts.some((p) => p === '') || sizes.some((n) => !Number.isFinite(n))) {
    throw new InvalidArgumentError(`expected comma-separated layer sizes such as 500,500,2000, got "${value}"`);
  }
  return sizes;
}

/** " ≤ max" of a parameter, from its schema. */
const upTo = (param: string): string => `≤ ${paramMax(param)}`;

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run an experiment: fit on the training images, evaluate on the test images, store the run')
    .addOption(new Option('--task <task>', 'experiment').choices([...TASKS]).makeOptionMandatory())
    .option('--k <n>', `number of clusters, 2–${paramMax('k')} (default 10)`, numberArg)
    .option('--n-init <n>', `k-means restarts, the best is kept, ${upTo('nInit')} (default 10)`, numberArg)
    .option('--max-iter <n>', `k-means iterations per restart, ${upTo('maxIter')} (default 300)`, numberArg)
    .option('--tol <x>', `k-means convergence tolerance, ${upTo('tol')} (default 1e-4)`, numberArg)
    .option('--seed <n>', `random seed, 0–${paramMax('seed')} (default 0)`, numberArg)
    .option('--train-limit <n>', `use only the first N training images, ${upTo('trainLimit')}`, numberArg)
    .option('--test-limit <n>', `use only the first N test images (the evaluation set; at least k), ${upTo('testLimit')}`, numberArg)
    .addOption(new Option('--backend <name>', 'tfjs backend (auto: the fastest, by calibration)').choices([...BACKENDS]))
    .option('--epochs <n>', `autoencoder training epochs, ${upTo('epochs')} (default 50; pipeline, n2d: ${N2D_DEFAULT_EPOCHS})`, numberArg)
    .option('--batch-size <n>', `autoencoder batch size, ${upTo('batchSize')} (default 128; pipeline, n2d: 256)`, numberArg)
    .option('--lr <x>', `autoencoder learning rate, Adam, ${upTo('learningRate')} (default 0.01; pipeline, n2d: 0.001)`, numberArg)
    .option('--val-split <x>', `fraction of training images held out for the validation loss, 0–${paramMax('valSplit')} (default 0.1; n2d: 0)`, numberArg)
    .option('--patience <n>', `early stopping after N epochs without improvement, ${upTo('patience')} (default off)`, numberArg)
    .addOption(new Option('--covariance <type>', 'GMM covariance type (default full)').choices(['full', 'diag', 'spherical']))
    .option('--reuse-encoder <run-id>', 'start from the autoencoder of an earlier run instead of training one', numberArg)
    // pipeline / n2d: encoder → optional UMAP → clusterer
    .addOption(new Option('--encoder <name>', 'pipeline encoder: none (raw pixels), conv (the study AE), dense (default)').choices([...ENCODERS]))
    .option('--layers <sizes>', `dense AE hidden layer sizes, input side first, each ${upTo('layers')} (default 500,500,2000)`, layersArg)
    .option('--code-size <n>', `dense AE code size, ${upTo('codeSize')} (default 10)`, numberArg)
    .addOption(new Option('--loss <name>', 'dense AE loss: mse with a linear output (default), bce with a sigmoid output').choices([...AE_LOSSES]))
    .option('--umap', 'UMAP between the encoder and the clusterer (default on)')
    .option('--no-umap', 'cluster the codes directly')
    .option('--umap-neighbors <n>', `UMAP neighbours, 2–${paramMax('umapNeighbors')} (default 20)`, numberArg)
    .option('--umap-min-dist <x>', `UMAP minimum distance, 0–${paramMax('umapMinDist')} (default 0)`, numberArg)
    .option('--umap-components <n>', `UMAP embedding dimension, ${upTo('umapComponents')} (default: k)`, numberArg)
    .option('--umap-epochs <n>', `UMAP layout epochs, ${upTo('umapEpochs')} (default 200 above 10,000 points, else 500)`, numberArg)
    .addOption(new Option('--umap-init <method>', 'UMAP initial layout (default spectral)').choices([...UMAP_INITS]))
    .addOption(new Option('--protocol <name>', 'inductive: fit AE/UMAP/clusterer on the training images (pipeline default); transductive: on training + test images, without labels (n2d default)').choices([...PROTOCOLS]))
    .addOption(new Option('--umap-protocol <name>', 'same as --protocol').choices([...PROTOCOLS]).hideHelp())
    .addOption(new Option('--cluster <name>', 'pipeline clusterer (default gmm)').choices([...CLUSTERERS]))
    .addOption(new Option('--map2d <method>', '2-D map of the test images for the UI (default umap)').choices([...MAP2D_METHODS]))
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (opts, command: Command) => {
      const { json, lr, umapProtocol, ...rest } = opts as Record<string, unknown>;
      const merged = { ...rest, learningRate: lr, protocol: rest.protocol ?? umapProtocol };
      const params = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
      parseExperimentParams(params); // reject bad parameters before starting anything
      const { db, data, wasmThreads } = globals(command);
      const progress = createProgressReporter();
      const host = new EngineHost({ dbPath: db, dataDir: data, wasmThreads });
      host.on('progress', (_job, event) => (event.phase === 'warning' ? progress.warn(String(event.message)) : progress.onProgress(event)));
      const { job, result } = host.submit(params);
      // Ctrl-C cancels the run cleanly (it is stored as cancelled); a second Ctrl-C exits at once.
      const onSigint = () => {
        process.stderr.write('\nCancelling…\n');
        host.cancel(job.jobId);
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSigint);
      try {
        const run = await result;
        progress.stop();
        if (json) printJson(runSummaryJson(run));
        else if (run.losses.length > 0) process.stdout.write(`${lossTable(run)}\n\n${runReport(run)}\n`);
        else process.stdout.write(`${runReport(run)}\n`);
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
        await host.close();
      }
    });
}

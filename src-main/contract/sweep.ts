/**
 * A sweep's plan (the run count of a grid × seeds, the limits), shared with the UI, which counts the runs of the
 * sweep being edited with it. Pure: it bundles into the renderer.
 */
export { DEFAULT_MAX_RUNS, gridCombinations, MAX_SEEDS, sweepRunCount } from '../engine/experiments/sweep';

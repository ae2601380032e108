/**
 * A sweep's plan, shared with the UI: the run count and the one-line refusal of a grid before anything is sent
 * (engine/experiments/sweep.ts). Pure zod: it bundles into the renderer.
 */
export {
  DEFAULT_MAX_RUNS,
  MAX_SEEDS,
  SweepPlanError,
  gridCombinations,
  planSweep,
  sweepRunCount,
  encoderKey,
} from '../engine/experiments/sweep';
export type { SweepChildPlan, SweepPlan, SweepRequest } from '../engine/experiments/sweep';

/**
 * A sweep's plan, shared with the UI: the run count and the one-line refusal of a grid before anything is sent
 * (engine/schema/sweep.ts). Pure zod: it bundles into the renderer.
 */
export {
  DEFAULT_MAX_RUNS,
  MAX_SEEDS,
  MAX_SWEEP_NAME,
  MAX_SWEEP_RUNS,
  SweepPlanError,
  gridCombinations,
  planSweep,
  sweepRunCount,
  encoderKey,
  sweepNameProblem,
} from '../engine/schema/sweep';
export type { SweepChildPlan, SweepPlan, SweepRequest } from '../engine/schema/sweep';

/**
 * Lloyd iterations of seeded restarts, all in lockstep, then the final E-step: labels against the final centers
 * and the inertia (float64, from the cluster sums).
 *
 * Each round streams X once through one product for all restarts that need every distance, instead of once per
 * restart; converged restarts drop out. With pruning, a point's distances are only recomputed when its Elkan bounds
 * cannot prove that its center is still the closest one: restarts that need many points recomputed (always the
 * first iteration) share the full product over the device-resident X, the rows each other restart needs are
 * gathered on the CPU and multiplied by its centers in a small product. Without pruning the argMin runs on the
 * device and the only transfer per round is the label vector.
 */
import { throwIfAborted, yieldToEventLoop } from '../abort';
import type { Matrix } from '../types';
import { packCenters, scoreRawRows, type DeviceRows } from './kmeans-device';
import { applyFullScores, applyRowScores, FULL_FRACTION, moveBounds, neededPoints, type BoundsContext } from './kmeans-elkan';
import { applyLabels, centersFromSums, inertiaFromSums, squaredShift, type Restart } from './kmeans-restart';

/** The counters of KMeansFitStats that the loop updates. */
export interface LloydStats {
  deviceMs: number;
  cpuMs: number;
  rounds: number;
  distanceRows: number;
}

/** What the lockstep batches of one fit share. */
export interface LockstepContext {
  X: Matrix;
  dev: DeviceRows;
  mean: Float64Array;
  k: number;
  maxIter: number;
  /** Absolute tolerance on the total squared center shift. */
  tolAbs: number;
  /** Σ‖x − μ‖² over all points. */
  totalNorm: number;
  pruning: boolean;
  /** Elkan bookkeeping (used with pruning). */
  bounds: BoundsContext;
  /** Most rows per product of gathered rows. */
  chunkRows: number;
  stats: LloydStats;
  signal?: AbortSignal;
  emit: (r: Restart, inertia: number) => void;
}

/** The restarts of one round, by how their distances are recomputed. */
interface RoundPlan {
  /** Restarts that get every distance from the shared product over the device-resident X. */
  full: Restart[];
  /** Restarts that need fresh distances for a few points only, with those points' indices. */
  sparse: Restart[];
  sparseRows: Int32Array[];
}

/** What a round's products return: labels (no pruning) or scores of the full group, and scores of the gathered rows. */
interface RoundProducts {
  fullArg: Int32Array[] | null;
  fullScores: Float32Array[] | null;
  rowScores: Float32Array[];
}

/** Runs Lloyd's loop on `restarts` until each has converged or reached maxIter, then assigns the final labels. */
export async function lloydInLockstep(restarts: Restart[], ctx: LockstepContext): Promise<void> {
  const { stats, signal, emit } = ctx;
  let active = restarts.slice();
  while (active.length > 0) {
    throwIfAborted(signal);
    const tRound = performance.now();
    const plan = planRound(active, ctx);
    const t0 = performance.now();
    stats.cpuMs += t0 - tRound;
    const products = await roundProducts(plan, ctx);
    const t1 = performance.now();
    stats.deviceMs += t1 - t0;
    stats.rounds++;
    applyProducts(plan, products, ctx);
    for (const r of active) updateCenters(r, ctx);
    stats.cpuMs += performance.now() - t1;
    for (const r of active) emit(r, r.inertia);
    active = active.filter((r) => !r.done);
    await yieldToEventLoop();
  }
  throwIfAborted(signal);
  await finalAssignment(restarts, ctx);
}

/** Sorts the active restarts into the full product and the gathered-rows products (counting the distances). */
function planRound(active: Restart[], ctx: LockstepContext): RoundPlan {
  const { rows: n, cols: d } = ctx.X;
  const plan: RoundPlan = { full: [], sparse: [], sparseRows: [] };
  for (const r of active) {
    r.changed = 0;
    if (!ctx.pruning || !r.boundsValid) {
      plan.full.push(r);
      continue;
    }
    const rows = neededPoints(r, ctx.k, d, n);
    if (rows.length > FULL_FRACTION * n) plan.full.push(r);
    else if (rows.length > 0) {
      plan.sparse.push(r);
      plan.sparseRows.push(rows);
    }
  }
  ctx.stats.distanceRows += plan.full.length * n + plan.sparseRows.reduce((acc, rows) => acc + rows.length, 0);
  return plan;
}

/** The round's products, all in flight at once. */
async function roundProducts(plan: RoundPlan, ctx: LockstepContext): Promise<RoundProducts> {
  const { X, dev, mean, k, pruning, chunkRows } = ctx;
  const { full, sparse, sparseRows } = plan;
  const fullCenters = packCenters(
    full.map((r) => r.centers),
    k,
    X.cols,
    mean,
  );
  const [fullArg, fullScores, ...rowScores] = await Promise.all([
    full.length > 0 && !pruning ? dev.argminGroups(fullCenters, full.length, k) : null,
    full.length > 0 && pruning ? dev.scores(fullCenters, full.length * k) : null,
    ...sparse.map((r, g) => scoreRawRows(X, sparseRows[g], packCenters([r.centers], k, X.cols, mean, true), k, chunkRows)),
  ]);
  return { fullArg, fullScores, rowScores: rowScores as Float32Array[] };
}

/** New labels (and, with pruning, fresh bounds) from the round's products. */
function applyProducts(plan: RoundPlan, products: RoundProducts, ctx: LockstepContext): void {
  const { full, sparse, sparseRows } = plan;
  const { fullArg, fullScores, rowScores } = products;
  const { dev, bounds, pruning } = ctx;
  if (fullArg) {
    const assigned = { chunks: fullArg, starts: dev.starts, groups: full.length };
    for (let a = 0; a < full.length; a++) full[a].changed = applyLabels(full[a], assigned, a, ctx.X);
  }
  if (fullScores) applyFullScores(full, fullScores, dev.starts, bounds);
  for (let g = 0; g < sparse.length; g++) applyRowScores(sparse[g], sparseRows[g], rowScores[g], bounds);
  for (const r of full) r.boundsValid = pruning;
}

/** Lloyd's M-step for one restart (new centers, with pruning also the drifts of the bounds) and its stopping test. */
function updateCenters(r: Restart, ctx: LockstepContext): void {
  const { X, mean, k, maxIter, tolAbs, totalNorm, pruning } = ctx;
  const { rows: n, cols: d, data } = X;
  // Inertia of this assignment step (labels vs. the centers they were assigned to), for progress.
  const stepInertia = inertiaFromSums(r, totalNorm, mean, k, d);
  const newCenters = centersFromSums(r, data, d, k, n);
  const shiftTot = pruning ? moveBounds(r, newCenters, k, d) : squaredShift(r.centers, newCenters);
  r.centers = newCenters;
  r.iter++;
  r.inertia = stepInertia;
  if (r.changed === 0) {
    r.strict = true;
    r.done = true;
  } else if (shiftTot <= tolAbs || r.iter >= maxIter) {
    r.done = true;
  }
}

/** Final E-step: labels against the final centers (argMin on the device), inertia from the cluster sums. */
async function finalAssignment(restarts: Restart[], ctx: LockstepContext): Promise<void> {
  const { X, dev, mean, k, totalNorm, stats } = ctx;
  const d = X.cols;
  const rhs = packCenters(
    restarts.map((r) => r.centers),
    k,
    d,
    mean,
  );
  const t0 = performance.now();
  const chunks = await dev.argminGroups(rhs, restarts.length, k);
  stats.deviceMs += performance.now() - t0;
  const assigned = { chunks, starts: dev.starts, groups: restarts.length };
  for (let m = 0; m < restarts.length; m++) {
    const r = restarts[m];
    applyLabels(r, assigned, m, X);
    r.inertia = inertiaFromSums(r, totalNorm, mean, k, d);
  }
}

// The size of each cluster of a run. A labelled run's evaluation holds them; for a run without labels they are
// asked of the engine one cluster at a time (runs.clusterImages with one image answers its cluster's size).
import { api } from '../api';

/** Requests in flight at once while asking cluster by cluster. */
const CONCURRENCY = 4;

/** The recorded sizes when the run has them, else null (ask with fetchClusterSizes). */
export function recordedClusterSizes(run: { evaluation: { clusterSizes: number[] } | null } & { clusterSizes?: unknown }): number[] | null {
  if (run.evaluation) return run.evaluation.clusterSizes;
  const own = run.clusterSizes;
  return Array.isArray(own) && own.every((n) => typeof n === 'number') ? (own as number[]) : null;
}

/** Asks the engine the size of clusters 0..k-1 of a run. */
export async function fetchClusterSizes(runId: number, k: number): Promise<number[]> {
  const sizes = new Array<number>(k).fill(0);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < k) {
      const cluster = next++;
      sizes[cluster] = (await api['runs.clusterImages']({ id: runId, cluster, limit: 1 })).clusterSize;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, k) }, worker));
  return sizes;
}

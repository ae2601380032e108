import type { RunSummary } from '../contract/index';
import { describeShape } from '../engine/data/dataset';
import type { RunRecord } from '../engine/store/types';

export function summarize(run: RunRecord): RunSummary {
  return {
    id: run.id,
    task: run.task,
    status: run.status,
    params: run.params,
    backend: run.backend,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    error: run.error,
    accuracy: run.metrics?.accuracy ?? null,
    nmi: run.metrics?.nmi ?? null,
    ari: run.metrics?.ari ?? null,
    silhouette: run.metrics?.silhouette ?? null,
    dataset: run.dataset
      ? {
          name: run.dataset.name,
          labelled: run.dataset.labelled !== false,
          shape: run.dataset.shape ? describeShape(run.dataset.shape) : null,
        }
      : null,
    totalMs: run.timings?.totalMs ?? null,
    sweepId: run.sweepId ?? null,
  };
}

import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '../api';
import type { HistoryInfo, RunRecord, RunSummary } from '@contract';
import { isPipelineTask } from '../lib/format';
import { useLoader } from '../lib/loader';

/** The run history (summaries) and a cache of full run records. */
export const useRunsStore = defineStore('runs', () => {
  const list = ref<RunSummary[]>([]);
  const records = ref(new Map<number, RunRecord>());
  /** Where the history is and whether it is read-only (null until known). */
  const history = ref<HistoryInfo | null>(null);

  const { loaded, loading, error, refresh, ensureLoaded } = useLoader(async () => {
    list.value = await api['runs.list']({});
    history.value = await api['history.info']({}).catch(() => history.value);
  });

  /** A full run record; cached once the run has ended (a running run changes). */
  async function get(id: number, force = false): Promise<RunRecord> {
    const cached = records.value.get(id);
    if (cached && !force && cached.status !== 'running' && cached.status !== 'queued') return cached;
    const run = await api['runs.get']({ id });
    records.value.set(id, run);
    return run;
  }

  async function remove(id: number): Promise<boolean> {
    const { deleted } = await api['runs.delete']({ id });
    list.value = list.value.filter((r) => r.id !== id);
    records.value.delete(id);
    return deleted;
  }

  /** Updates the list from a job event without a round trip. */
  function upsert(summary: RunSummary): void {
    const i = list.value.findIndex((r) => r.id === summary.id);
    if (i >= 0) list.value.splice(i, 1, summary);
    else list.value = [summary, ...list.value];
    records.value.delete(summary.id);
  }

  function invalidate(id: number): void {
    records.value.delete(id);
  }

  /** Completed autoencoder runs: their encoders can be reused. */
  /** Completed runs with a trained conv autoencoder (the study's tasks). */
  const encoderRuns = computed(() => list.value.filter((r) => (r.task === 'ae-kmeans' || r.task === 'ae-gmm') && r.status === 'completed'));
  /** Completed pipeline / N2D runs that trained an autoencoder (reusable by a pipeline of the same architecture). */
  const pipelineEncoderRuns = computed(() =>
    list.value.filter((r) => isPipelineTask(r.task) && r.params.encoder !== 'none' && r.status === 'completed'),
  );

  return {
    list,
    loaded,
    loading,
    error,
    history,
    refresh,
    ensureLoaded,
    get,
    remove,
    upsert,
    invalidate,
    encoderRuns,
    pipelineEncoderRuns,
  };
});

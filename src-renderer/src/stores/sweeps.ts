import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, onConnectionChange } from '../api';
import type { SweepSummary } from '@contract';
import { useLoader } from '../lib/loader';

/** Whether a sweep is still going (its children queued or running). */
export const isActiveSweep = (s: Pick<SweepSummary, 'status'>): boolean => s.status === 'running' || s.status === 'queued';
/** Whether resume has something to run: a readable sweep that ended with children pending, failed or cancelled. */
export const canResume = (s: SweepSummary): boolean =>
  s.unreadable === undefined && !isActiveSweep(s) && s.completed < s.runs && ['partial', 'failed', 'cancelled'].includes(s.status);

/** The sweeps in the history, kept current by `sweep.updated` events. */
export const useSweepsStore = defineStore('sweeps', () => {
  const list = ref<SweepSummary[]>([]);
  let started = false;

  const { loaded, loading, error, refresh, ensureLoaded } = useLoader(async () => {
    list.value = await api['sweeps.list']({});
  });

  function upsert(summary: SweepSummary): void {
    const i = list.value.findIndex((s) => s.id === summary.id);
    if (i >= 0) list.value.splice(i, 1, summary);
    else list.value = [summary, ...list.value];
  }

  /** Subscribes to the sweep events once; after a reconnect (web mode) the list is fetched again. */
  function init(): void {
    if (started) return;
    started = true;
    api.on('sweep.updated', upsert);
    onConnectionChange((state) => {
      if (state === 'open' && loaded.value) void refresh();
    });
  }

  async function cancel(id: number): Promise<boolean> {
    return (await api['sweeps.cancel']({ id })).cancelled;
  }

  async function resume(id: number): Promise<boolean> {
    return (await api['sweeps.resume']({ id })).resumed;
  }

  /** Deletes a sweep and its runs. */
  async function remove(id: number): Promise<boolean> {
    const { deleted } = await api['sweeps.delete']({ id, deleteRuns: true });
    list.value = list.value.filter((s) => s.id !== id);
    return deleted;
  }

  const active = computed(() => list.value.filter(isActiveSweep));
  const byId = (id: number): SweepSummary | undefined => list.value.find((s) => s.id === id);

  return { list, loaded, loading, error, active, init, refresh, ensureLoaded, upsert, cancel, resume, remove, byId };
});

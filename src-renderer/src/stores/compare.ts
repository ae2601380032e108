import { defineStore } from 'pinia';
import { computed, ref } from 'vue';

/** The most runs and sweeps one comparison shows, together. */
export const COMPARE_MAX = 4;

/**
 * Runs and sweeps picked for comparison (2–4 together), shared by Runs, Sweeps and Compare. In the address a
 * sweep is written `s<id>`: #/compare/3,4,s2.
 */
export const useCompareStore = defineStore('compare', () => {
  const selected = ref<number[]>([]);
  const sweeps = ref<number[]>([]);
  const count = computed(() => selected.value.length + sweeps.value.length);

  function toggle(id: number): void {
    if (selected.value.includes(id)) selected.value = selected.value.filter((x) => x !== id);
    else if (count.value < COMPARE_MAX) selected.value = [...selected.value, id];
  }
  function toggleSweep(id: number): void {
    if (sweeps.value.includes(id)) sweeps.value = sweeps.value.filter((x) => x !== id);
    else if (count.value < COMPARE_MAX) sweeps.value = [...sweeps.value, id];
  }
  function set(ids: number[], sweepIds: number[] = []): void {
    selected.value = [...new Set(ids)].slice(0, COMPARE_MAX);
    sweeps.value = [...new Set(sweepIds)].slice(0, COMPARE_MAX - selected.value.length);
  }
  function clear(): void {
    selected.value = [];
    sweeps.value = [];
  }
  /** The selection as the Compare address writes it: "3,4,s2". */
  const path = computed(() => [...selected.value.map(String), ...sweeps.value.map((id) => `s${id}`)].join(','));
  return { selected, sweeps, count, path, toggle, toggleSweep, set, clear };
});

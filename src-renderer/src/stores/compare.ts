import { defineStore } from 'pinia';
import { ref } from 'vue';

/** Runs picked for comparison (2–4), shared by History and Compare. */
export const useCompareStore = defineStore('compare', () => {
  const selected = ref<number[]>([]);
  function toggle(id: number): void {
    if (selected.value.includes(id)) selected.value = selected.value.filter((x) => x !== id);
    else if (selected.value.length < 4) selected.value = [...selected.value, id];
  }
  function set(ids: number[]): void {
    selected.value = [...new Set(ids)].slice(0, 4);
  }
  function clear(): void {
    selected.value = [];
  }
  return { selected, toggle, set, clear };
});

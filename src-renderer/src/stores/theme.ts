import { defineStore } from 'pinia';
import { ref } from 'vue';

/** Light or dark, following the OS (prefers-color-scheme); charts read `dark` to pick their ECharts theme. */
export const useThemeStore = defineStore('theme', () => {
  const query = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined;
  const dark = ref(query?.matches ?? false);
  query?.addEventListener('change', (e) => {
    dark.value = e.matches;
  });
  return { dark };
});

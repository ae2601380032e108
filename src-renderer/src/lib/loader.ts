import { ref } from 'vue';
import { errorMessage } from './errors';

/**
 * What a store loads from the engine, with its state: one request at a time (a refresh asked for while one is in
 * flight shares it), `loading`, whether it has loaded once, and the last error as a message.
 */
export function useLoader(load: () => Promise<void>) {
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);
  let pending: Promise<void> | null = null;

  function refresh(): Promise<void> {
    if (pending) return pending;
    loading.value = true;
    pending = (async () => {
      try {
        await load();
        error.value = null;
        loaded.value = true;
      } catch (err) {
        error.value = errorMessage(err);
      } finally {
        loading.value = false;
        pending = null;
      }
    })();
    return pending;
  }

  async function ensureLoaded(): Promise<void> {
    if (!loaded.value) await refresh();
  }

  return { loaded, loading, error, refresh, ensureLoaded };
}

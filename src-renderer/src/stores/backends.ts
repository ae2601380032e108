import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api';
import type { BackendInfo } from '@contract';
import { errorMessage } from '../lib/errors';

const STORAGE_KEY = 'clusterbench.backends.v1';

interface Saved {
  list: BackendInfo[];
  measuredAt: string;
}

function restore(): Saved | null {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Saved | null;
    return saved && Array.isArray(saved.list) && typeof saved.measuredAt === 'string' ? saved : null;
  } catch {
    return null;
  }
}

/**
 * The tfjs backends and their measured training speed. Measuring takes a few seconds in the engine, so the
 * last measurement is kept (localStorage) and shown right away; "Measure" runs it again.
 */
export const useBackendsStore = defineStore('backends', () => {
  const saved = restore();
  const list = ref<BackendInfo[]>(saved?.list ?? []);
  const measuredAt = ref<string | null>(saved?.measuredAt ?? null);
  const loading = ref(false);
  const measuring = ref(false);
  const error = ref<string | null>(null);

  async function load(measure: boolean): Promise<void> {
    if (loading.value) return;
    loading.value = true;
    measuring.value = measure;
    try {
      const result = await api['backends.list']({ measure });
      const hasSpeeds = result.some((b) => b.imagesPerSec !== undefined);
      // A plain listing has no speeds: keep the measured ones until measured again.
      if (hasSpeeds || !measuredAt.value) list.value = result;
      if (hasSpeeds) {
        measuredAt.value = new Date().toISOString();
        try {
          localStorage.setItem(STORAGE_KEY, JSON.stringify({ list: result, measuredAt: measuredAt.value }));
        } catch {
          /* storage disabled */
        }
      }
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
      measuring.value = false;
    }
  }

  /** Shows the last measurement, or lists the backends and measures them once (when nothing is running). */
  async function ensure(engineBusy: boolean): Promise<void> {
    if (measuredAt.value || loading.value) return;
    if (!list.value.length) await load(false);
    if (!engineBusy && !measuredAt.value) await load(true);
  }

  return { list, measuredAt, loading, measuring, error, load, ensure };
});

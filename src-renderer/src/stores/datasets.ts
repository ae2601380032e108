import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, type RequestOf } from '../api';
import type { DatasetEntry, Events } from '@contract';
import { errorMessage } from '../lib/errors';
import { useLoader } from '../lib/loader';

export type AddRequest = Omit<RequestOf<'datasets.add'>, 'addId'>;

/** One add in progress: its id (to follow its progress and cancel it), files or bytes done of total. */
export interface AddState {
  addId: string;
  name: string;
  done: number;
  total: number;
  cancelling: boolean;
}

let nextAdd = 1;

/**
 * The data sets (datasets.list: the built-in Fashion-MNIST first, then those added), adding one with its progress
 * (datasets.addProgress) and cancelling it, and removing one. New experiment's picker and the Data page share it.
 */
export const useDatasetsStore = defineStore('datasets', () => {
  const list = ref<DatasetEntry[]>([]);
  const adding = ref<AddState | null>(null);
  let listening = false;

  const { loaded, loading, error, refresh, ensureLoaded } = useLoader(async () => {
    list.value = await api['datasets.list']({});
  });

  function listen(): void {
    if (listening) return;
    listening = true;
    api.on('datasets.addProgress', (p: Events['datasets.addProgress']) => {
      const a = adding.value;
      if (a && p.addId === a.addId) adding.value = { ...a, done: p.done, total: p.total };
    });
  }

  /** Adds a data set; resolves with its entry, or rejects with the engine's one line (a cancel included). */
  async function add(request: AddRequest): Promise<DatasetEntry> {
    listen();
    const addId = `add-${Date.now().toString(36)}-${nextAdd++}`;
    adding.value = { addId, name: request.name, done: 0, total: 0, cancelling: false };
    try {
      const entry = await api['datasets.add']({ ...request, addId });
      list.value = [...list.value.filter((d) => d.name !== entry.name), entry];
      void refresh();
      return entry;
    } finally {
      adding.value = null;
    }
  }

  async function cancelAdd(): Promise<void> {
    const a = adding.value;
    if (!a || a.cancelling) return;
    adding.value = { ...a, cancelling: true };
    try {
      await api['datasets.cancelAdd']({ addId: a.addId });
    } catch (err) {
      // The add may have ended meanwhile; its own answer says how.
      console.warn(`clusterbench: cancel add: ${errorMessage(err)}`);
    }
  }

  /** A light look at a path before adding it (nothing is stored). */
  function previewPath(request: RequestOf<'datasets.preview'>) {
    return api['datasets.preview'](request);
  }

  /** Removes a data set's record; resolves with how many runs had used it (they keep what they recorded). */
  async function remove(name: string): Promise<number> {
    const { runs } = await api['datasets.remove']({ name });
    list.value = list.value.filter((d) => d.name !== name);
    return runs;
  }

  const byName = (name: string): DatasetEntry | undefined => list.value.find((d) => d.name === name);
  /** The data sets a run can use (listed and readable). */
  const usable = computed(() => list.value.filter((d) => d.record !== null));

  return { list, loaded, loading, error, adding, usable, refresh, ensureLoaded, add, cancelAdd, previewPath, remove, byName };
});

import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api';
import type { DatasetSummary, Events, ImageBatch } from '@contract';
import { errorMessage } from '../lib/errors';

export const useDatasetStore = defineStore('dataset', () => {
  const summary = ref<DatasetSummary | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const samples = ref<Record<string, ImageBatch>>({});
  const samplesLoading = ref(false);
  const samplesError = ref<string | null>(null);
  const downloading = ref(false);
  const downloadError = ref<string | null>(null);
  const progress = ref<Events['dataset.downloadProgress'] | null>(null);
  let unsubscribe: (() => void) | null = null;

  async function load(force = false): Promise<void> {
    if (summary.value && !force) return;
    loading.value = true;
    try {
      summary.value = await api['dataset.info']({});
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  async function loadSamples(split: 'train' | 'test', perClass: number): Promise<void> {
    const key = `${split}:${perClass}`;
    if (samples.value[key]) return;
    samplesLoading.value = true;
    try {
      samples.value = { ...samples.value, [key]: await api['dataset.samples']({ split, perClass }) };
      samplesError.value = null;
    } catch (err) {
      samplesError.value = errorMessage(err);
    } finally {
      samplesLoading.value = false;
    }
  }

  async function download(): Promise<boolean> {
    if (downloading.value) return false;
    downloading.value = true;
    downloadError.value = null;
    progress.value = null;
    unsubscribe ??= api.on('dataset.downloadProgress', (p) => {
      progress.value = p;
    });
    try {
      await api['dataset.download']({});
      samples.value = {};
      await load(true);
      return true;
    } catch (err) {
      downloadError.value = errorMessage(err);
      return false;
    } finally {
      downloading.value = false;
    }
  }

  return {
    summary,
    loading,
    error,
    samples,
    samplesLoading,
    samplesError,
    downloading,
    downloadError,
    progress,
    load,
    loadSamples,
    download,
  };
});

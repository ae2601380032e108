import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { api } from '../api';
import {
  defaultValues,
  isFieldName,
  presetFor,
  TASK_OPTIONS,
  validate,
  valuesForTask,
  valuesFromParams,
  type FieldName,
  type FormValues,
  type Task,
} from '../lib/experiment';
import { errorInfo } from '../lib/errors';
import { useJobsStore } from './jobs';

const STORAGE_KEY = 'clusterbench.new-experiment.v1';

function restore(): FormValues {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return defaultValues('kmeans');
    const saved = JSON.parse(raw) as Partial<Record<string, unknown>>;
    const values = defaultValues(TASK_OPTIONS.includes(saved.task as Task) ? (saved.task as Task) : 'kmeans');
    for (const [key, v] of Object.entries(saved)) if (isFieldName(key) && typeof v === 'string') values[key] = v;
    return values;
  } catch {
    return defaultValues('kmeans');
  }
}

/** The New-experiment form: values remembered across sessions (localStorage), validation and submission. */
export const useExperimentStore = defineStore('experiment', () => {
  const values = ref<FormValues>(restore());
  /** Issues the engine reported (invalid-params), by field; cleared when that field changes. */
  const serverIssues = ref<Partial<Record<string, string>>>({});
  const submitError = ref<string | null>(null);
  const submitting = ref(false);
  /** Fields the user has left at least once (errors show after that, or after a submit attempt). */
  const touched = ref(new Set<string>());
  const attempted = ref(false);
  /** Set when the form was prefilled from a run ("re-run"). */
  const prefilledFrom = ref<number | null>(null);

  watch(
    values,
    (v) => {
      try {
        localStorage.setItem(STORAGE_KEY, JSON.stringify(v));
      } catch {
        /* storage full or disabled: the form still works */
      }
    },
    { deep: true },
  );

  const validation = computed(() => validate(values.value));

  function errorFor(field: FieldName): string | undefined {
    const server = serverIssues.value[field];
    if (server) return server;
    if (!attempted.value && !touched.value.has(field)) return undefined;
    return validation.value.errors[field];
  }

  function touch(field: string): void {
    touched.value = new Set([...touched.value, field]);
  }

  function clearIssue(field: string): void {
    if (serverIssues.value[field]) {
      const next = { ...serverIssues.value };
      delete next[field];
      serverIssues.value = next;
    }
  }

  function applyPreset(): void {
    values.value = { ...values.value, ...presetFor(values.value.task) };
    serverIssues.value = {};
    prefilledFrom.value = null;
  }

  function reset(): void {
    values.value = defaultValues(values.value.task);
    serverIssues.value = {};
    touched.value = new Set();
    attempted.value = false;
    prefilledFrom.value = null;
  }

  function prefill(params: Record<string, unknown>, runId: number): void {
    values.value = valuesFromParams(params);
    serverIssues.value = {};
    submitError.value = null;
    attempted.value = false;
    touched.value = new Set();
    prefilledFrom.value = runId;
  }

  /** Prefills from a job the engine rejected once it saw the data (e.g. k larger than the fit subset). */
  function prefillWithIssues(params: Record<string, unknown>, issues: { param: string; message: string }[], runId: number | null): void {
    values.value = valuesFromParams(params);
    const byField: Record<string, string> = {};
    const general: string[] = [];
    for (const issue of issues) {
      if (isFieldName(issue.param)) byField[issue.param] = issue.message;
      else general.push(issue.param ? `${issue.param}: ${issue.message}` : issue.message);
    }
    serverIssues.value = byField;
    submitError.value = general.length ? general.join('; ') : null;
    attempted.value = false;
    touched.value = new Set();
    prefilledFrom.value = runId;
  }

  /** Shows every field's error, as a start attempt does (a sweep's start goes through its own store). */
  function attempt(): void {
    attempted.value = true;
  }

  function setTask(task: Task): void {
    values.value = valuesForTask(values.value, task);
  }

  /** Starts the run; returns the job id, or null when the form or the engine rejected the params. */
  async function submit(): Promise<string | null> {
    attempted.value = true;
    submitError.value = null;
    serverIssues.value = {};
    const { ok, params } = validation.value;
    if (!ok) return null;
    submitting.value = true;
    try {
      const { jobId } = await api['runs.start']({ params });
      useJobsStore().track(jobId, params);
      attempted.value = false;
      touched.value = new Set();
      prefilledFrom.value = null;
      return jobId;
    } catch (err) {
      const info = errorInfo(err);
      const issues: Record<string, string> = {};
      const general: string[] = [];
      for (const issue of info.issues) {
        const field = issue.param.replace(/^params\./, '').split('.')[0];
        if (isFieldName(field)) issues[field] = issue.message;
        else general.push(issue.param ? `${issue.param}: ${issue.message}` : issue.message);
      }
      serverIssues.value = issues;
      submitError.value = general.length ? general.join('; ') : Object.keys(issues).length ? null : info.message;
      return null;
    } finally {
      submitting.value = false;
    }
  }

  return {
    values,
    serverIssues,
    submitError,
    submitting,
    validation,
    prefilledFrom,
    errorFor,
    touch,
    clearIssue,
    applyPreset,
    attempt,
    setTask,
    reset,
    prefill,
    prefillWithIssues,
    submit,
  };
});

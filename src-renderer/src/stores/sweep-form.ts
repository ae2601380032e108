import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { api, type RequestOf, type Responses } from '../api';
import { isFieldName, type FieldName } from '../lib/experiment';
import { errorInfo } from '../lib/errors';
import { DEFAULT_MAX_RUNS, gridParams, parseGridRow, parseMaxRuns, parseSeeds, sweepRunCount, type GridRow } from '../lib/sweep';
import { useExperimentStore } from './experiment';

const STORAGE_KEY = 'clusterbench.new-experiment.sweep.v1';
/** How long the form waits after a change before asking the engine for the plan (run count and time estimate). */
const PLAN_DELAY_MS = 300;

interface Saved {
  repeat: boolean;
  seeds: string;
  grid: GridRow[];
  /** The run limit as typed (the engine refuses a sweep with more runs). */
  maxRuns: string;
}

const fresh = (): Saved => ({ repeat: false, seeds: '0, 1, 2', grid: [], maxRuns: String(DEFAULT_MAX_RUNS) });

function restore(): Saved {
  const defaults = fresh();
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<Saved> | null;
    if (!saved) return defaults;
    return {
      repeat: saved.repeat === true,
      seeds: typeof saved.seeds === 'string' ? saved.seeds : defaults.seeds,
      maxRuns: typeof saved.maxRuns === 'string' ? saved.maxRuns : defaults.maxRuns,
      grid: Array.isArray(saved.grid)
        ? saved.grid
            .filter((r) => r && typeof r.text === 'string' && (r.param === '' || isFieldName(String(r.param))))
            .map((r) => ({ param: r.param, text: r.text }))
        : [],
    };
  } catch {
    return defaults;
  }
}

type SweepRequest = RequestOf<'sweeps.start'>;

/**
 * New experiment's sweep part: repeat over seeds and a grid of parameter values, on top of the form's values.
 * Off (no repeat, no grid row) the form starts one plain run, exactly as without it.
 */
export const useSweepFormStore = defineStore('sweepForm', () => {
  const form = useExperimentStore();
  const saved = restore();
  const repeat = ref(saved.repeat);
  const seedsText = ref(saved.seeds);
  const grid = ref<GridRow[]>(saved.grid);
  const maxRunsText = ref(saved.maxRuns);
  const submitError = ref<string | null>(null);
  const submitting = ref(false);

  watch(
    [repeat, seedsText, grid, maxRunsText],
    () => {
      try {
        const state: Saved = { repeat: repeat.value, seeds: seedsText.value, grid: grid.value, maxRuns: maxRunsText.value };
        localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
      } catch {
        /* storage full or disabled: the form still works */
      }
    },
    { deep: true },
  );

  /** A sweep rather than a single run. */
  const active = computed(() => repeat.value || grid.value.length > 0);
  const task = computed(() => form.values.task);
  const seeds = computed(() => {
    if (repeat.value) return parseSeeds(seedsText.value);
    const seed = form.validation.params.seed;
    return { ok: true as const, value: [typeof seed === 'number' ? seed : 0] };
  });
  const rows = computed(() => grid.value.map((row) => parseGridRow(row, task.value)));
  /** The form fields the sweep sets (their own value and error stand aside): the grid's, and the seed when repeated. */
  const varied = computed(
    () => new Set<FieldName>([...grid.value.map((r) => r.param).filter(isFieldName), ...(repeat.value ? (['seed'] as FieldName[]) : [])]),
  );
  const baseErrors = computed(() => Object.keys(form.validation.errors).filter((f) => !varied.value.has(f as FieldName)));

  const maxRuns = computed(() => parseMaxRuns(maxRunsText.value));

  /** The request for sweeps.plan / sweeps.start, when every part of the form reads. */
  const request = computed<SweepRequest | null>(() => {
    if (!active.value || !seeds.value.ok || !maxRuns.value.ok || baseErrors.value.length) return null;
    const values: [string, unknown[]][] = [];
    for (const [i, row] of rows.value.entries()) {
      if (!row.ok) return null;
      values.push([grid.value[i].param, row.value]);
    }
    const params = { ...form.validation.params };
    delete params.seed;
    return { params, seeds: seeds.value.value, grid: values, maxRuns: maxRuns.value.value };
  });
  const runs = computed(() => (request.value ? sweepRunCount(request.value.grid ?? [], request.value.seeds.length) : null));
  /** More runs than the limit: the engine would refuse it, so it is neither planned nor offered. */
  const overLimit = computed(() => runs.value !== null && maxRuns.value.ok && runs.value > maxRuns.value.value);
  /** The sweep that would start: its request, when it reads and is within the limit. */
  const startable = computed(() => (overLimit.value ? null : request.value));

  // The engine's plan: its run count, its time estimate, or its one-line refusal.
  const plan = ref<Responses['sweeps.plan'] | null>(null);
  const planError = ref<string | null>(null);
  let planTimer: ReturnType<typeof setTimeout> | undefined;
  let planAsked = 0;
  watch(
    startable,
    (req) => {
      clearTimeout(planTimer);
      plan.value = null;
      planError.value = null;
      submitError.value = null; // it was about the sweep as it read before
      if (!req) return;
      const asked = ++planAsked;
      planTimer = setTimeout(() => {
        api['sweeps.plan'](req).then(
          (p) => {
            if (asked === planAsked) plan.value = p;
          },
          (err) => {
            if (asked === planAsked) planError.value = errorInfo(err).message;
          },
        );
      }, PLAN_DELAY_MS);
    },
    { immediate: true },
  );

  function addRow(): void {
    const taken = new Set(grid.value.map((r) => r.param));
    const next = gridParams(task.value).find((p) => !taken.has(p)) ?? '';
    grid.value = [...grid.value, { param: next, text: next && isFieldName(next) ? String(form.values[next] ?? '') : '' }];
  }

  function removeRow(i: number): void {
    grid.value = grid.value.filter((_, j) => j !== i);
  }

  /** Back to no sweep (one plain run): no repeat, no grid, the default seeds and limit. */
  function reset(): void {
    const defaults = fresh();
    repeat.value = defaults.repeat;
    seedsText.value = defaults.seeds;
    grid.value = defaults.grid;
    maxRunsText.value = defaults.maxRuns;
    submitError.value = null;
  }

  /** Starts the sweep; returns its id, or null when the form or the engine refused it. */
  async function start(): Promise<number | null> {
    submitError.value = null;
    const req = startable.value;
    if (!req) return null;
    submitting.value = true;
    try {
      const { sweepId } = await api['sweeps.start'](req);
      return sweepId;
    } catch (err) {
      submitError.value = errorInfo(err).message;
      return null;
    } finally {
      submitting.value = false;
    }
  }

  return {
    repeat,
    seedsText,
    grid,
    maxRunsText,
    maxRuns,
    active,
    seeds,
    rows,
    varied,
    baseErrors,
    request,
    runs,
    overLimit,
    startable,
    plan,
    planError,
    submitError,
    submitting,
    addRow,
    removeRow,
    reset,
    start,
  };
});

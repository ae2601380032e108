// The New-experiment form: its fields, defaults and presets, validation and the params object sent to
// runs.start, all read from the engine's parameter schema (src-main/engine/schema/param-table.ts): a
// parameter added there gets its form field, default, range check and messages here.
import {
  checkExperimentParams,
  isParamUsed,
  isPipelineTask,
  PARAM_NAMES,
  paramChoices,
  paramDefault,
  paramKind,
  paramRange,
  paramValueText,
  specOf,
  TASKS,
  taskParamNames,
  taskTakes,
  type ParamName,
  type ParamSection,
  type TaskName,
} from '@contract/params';
import { decimalNumber } from '@contract/decimal';

export type Task = TaskName;
export const TASK_OPTIONS: readonly Task[] = TASKS;
export const isPipeline = (task: Task): boolean => isPipelineTask(task);
export type FieldName = ParamName;
export type { ParamSection };
export const isFieldName = (name: string): name is FieldName => (PARAM_NAMES as string[]).includes(name);
export const BACKEND_OPTIONS = paramChoices('backend');

/** Form values as typed (numbers as text), so a half-typed value can be shown and explained. */
export type FormValues = { task: Task } & Record<FieldName, string>;

/** A value as the form shows it: numbers as text, lists as "500, 500, 2000", switches 'true' | 'false', unset ''. */
function formText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** The task a field takes its default from: the task itself, or (a field it lacks) the first task that has it. */
const defaultsTask = (field: FieldName, task: Task): Task => (taskTakes(task, field) ? task : TASKS.find((t) => taskTakes(t, field))!);

/** A field's default, as text, while `task` is selected. */
const defaultText = (field: FieldName, task: Task): string => formText(paramDefault(field, defaultsTask(field, task)));

/** Every field at its default for a task (the fields the task lacks keep theirs for when the task changes). */
export function defaultValues(task: Task): FormValues {
  const values = { task } as FormValues;
  for (const field of PARAM_NAMES) values[field] = defaultText(field, task);
  return values;
}

/** Values when switching task: the fields whose defaults differ between the two tasks take the new task's. */
export function valuesForTask(values: FormValues, task: Task): FormValues {
  const next = { ...values, task };
  for (const field of PARAM_NAMES) {
    const after = defaultText(field, task);
    if (defaultText(field, values.task) !== after) next[field] = after;
  }
  return next;
}

/**
 * The preset the toolbar button applies: the task's recipe at its defaults (the study's settings, N2D's for the
 * pipelines), leaving the data, the seed, the backend and the encoder to reuse as they are.
 */
export function presetFor(task: Task): Partial<FormValues> {
  const recipe = taskParamNames(task).filter((field) => specOf(field).preset !== false);
  return Object.fromEntries(recipe.map((field) => [field, defaultText(field, task)]));
}

/** The preset in words, for its button's tooltip: "k (clusters) 10, Epochs 50, …". */
export function presetSummary(task: Task): string {
  const preset = presetFor(task);
  const shown = activeFields({ ...defaultValues(task), ...preset }).filter((field) => field in preset);
  return shown.map((field) => `${specOf(field).label} ${paramValueText(field, paramDefault(field, task), '-')}`).join(', ');
}

/** The task's field texts read as values (not yet checked), for deciding which components are in use. */
function readAll(values: FormValues): Record<string, unknown> {
  const params: Record<string, unknown> = { task: values.task };
  for (const field of taskParamNames(values.task)) {
    const read = readField(field, values[field] ?? '', values.task);
    if ('value' in read) params[field] = read.value;
  }
  return params;
}

/** The fields a run of these values uses: its task's, less unused components and, with a reused encoder, training. */
export function activeFields(values: FormValues): FieldName[] {
  const params = readAll(values);
  return taskParamNames(values.task).filter((field) => isParamUsed(field, params));
}

/** The fields the form shows: the active ones, and the training settings while an encoder is reused (disabled). */
export function shownFields(values: FormValues): FieldName[] {
  return activeFields({ ...values, reuseEncoder: '' });
}

/** The shown fields of one section of the form, in the table's order. */
export const inSection = (fields: FieldName[], section: ParamSection): FieldName[] => fields.filter((f) => specOf(f).section === section);
export const isAdvanced = (field: FieldName): boolean => specOf(field).advanced === true;
/** Autoencoder training settings (disabled while an earlier run's encoder is reused). */
export const isTrainingField = (field: FieldName): boolean => specOf(field).section === 'training';

// ---- How a field looks, from its description in the table.

export const fieldLabel = (field: FieldName): string => specOf(field).formLabel ?? specOf(field).label;

/** "Number of clusters, 2–1000"; "…; empty = off" where an empty field means something. */
export function fieldHint(field: FieldName): string {
  const { help, unset } = specOf(field);
  const range = paramRange(field);
  return `${help[0].toUpperCase()}${help.slice(1)}${range ? `, ${range}` : ''}${unset ? `; empty = ${unset}` : ''}`;
}

/** What an empty field means ("off", "all 60,000"), or a list's default as an example. */
export function fieldPlaceholder(field: FieldName): string | undefined {
  return specOf(field).unset ?? (paramKind(field) === 'list' ? formText(paramDefault(field, defaultsTask(field, 'pipeline'))) : undefined);
}

/** The options of a choice or a switch, with the table's labels; empty for a text field. */
export function fieldOptions(field: FieldName): { value: string; label: string }[] {
  const labels: Record<string, string> | undefined = specOf(field).choices;
  if (labels) return Object.entries(labels).map(([value, label]) => ({ value, label }));
  return paramChoices(field).map((value) => ({ value, label: value }));
}

export const isListField = (field: FieldName): boolean => paramKind(field) === 'list';

// ---- Validation: the text of a field read as its value, then the schema's own checks.

export type Read = { value: unknown } | { error: string };

/** A number as the CLI reads it: decimal only ("0x10" is not 16); NaN otherwise, which the schema calls "must be a number". */
export const formNumber = (text: string): number => decimalNumber(text) ?? NaN;

/** A field's text as a value for the schema: numbers (NaN for "abc": the schema says "must be a number"), lists… */
export function readField(field: FieldName, text: string, task: Task): Read {
  const t = text.trim();
  if (t === '') {
    // Empty: null where null is a setting (patience off), absent where absent is (all images), else required.
    const fallback = paramDefault(field, defaultsTask(field, task));
    return fallback === null || fallback === undefined ? { value: fallback } : { error: 'required' };
  }
  switch (paramKind(field)) {
    case 'int':
    case 'number':
      return { value: formNumber(t) };
    case 'list':
      return {
        value: t
          .split(/[,\s]+/)
          .filter((p) => p !== '')
          .map(formNumber),
      };
    case 'switch':
      return { value: t === 'true' ? true : t === 'false' ? false : t };
    default:
      return { value: t };
  }
}

export interface Validation {
  params: Record<string, unknown>;
  errors: Partial<Record<FieldName, string>>;
  ok: boolean;
}

/** Validates the fields the task uses, with the engine's schema and messages, and builds the params for runs.start. */
export function validate(values: FormValues): Validation {
  const params: Record<string, unknown> = { task: values.task };
  const errors: Partial<Record<FieldName, string>> = {};
  for (const field of activeFields(values)) {
    const read = readField(field, String(values[field] ?? ''), values.task);
    if ('error' in read) errors[field] = read.error;
    else if (read.value !== undefined) params[field] = read.value;
  }
  const checked = checkExperimentParams(params);
  if (!checked.ok) for (const { param, message } of checked.issues) if (isFieldName(param)) errors[param] ??= message;
  dataSizeChecks(params, errors);
  return { params, errors, ok: Object.keys(errors).length === 0 };
}

/** Checks the engine makes once it has loaded the data, made early where the form knows the subset sizes. */
function dataSizeChecks(params: Record<string, unknown>, errors: Partial<Record<FieldName, string>>): void {
  const k = params.k as number | undefined;
  const fit = params.trainLimit as number | undefined;
  if (!errors.k && !errors.trainLimit && k !== undefined && fit !== undefined && k > fit) {
    errors.k = `must be ≤ the fit subset (${fit})`;
  }
  const bs = params.batchSize as number | undefined;
  const val = params.valSplit as number | undefined;
  const transductive = params.protocol === 'transductive';
  const aeFit = transductive ? (fit !== undefined && params.testLimit !== undefined ? fit + (params.testLimit as number) : undefined) : fit;
  if (!errors.batchSize && bs !== undefined && aeFit !== undefined && params.reuseEncoder === undefined) {
    const trainCount = aeFit - Math.floor(aeFit * (val ?? 0));
    if (bs > trainCount) errors.batchSize = `must be ≤ the ${trainCount} training images left after the validation split`;
  }
}

/** Form values from a stored run's params (for "re-run with the same settings"). */
export function valuesFromParams(params: Record<string, unknown>): FormValues {
  const task = (TASKS as readonly unknown[]).includes(params.task) ? (params.task as Task) : 'kmeans';
  const values = defaultValues(task);
  for (const field of PARAM_NAMES) if (params[field] !== undefined) values[field] = formText(params[field]);
  return values;
}

/**
 * The building blocks of every parameter schema (the estimators' own and the experiment table that composes them),
 * and how an estimator checks the parameters it is given against its schema. Pure zod: the renderer bundles it.
 */
import { z } from 'zod';

// Every number has a maximum, so that no parameter can ask for unbounded work or memory.
export const num = (min: number, max: number) =>
  z.number({ error: 'must be a number' }).finite('must be a finite number').min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
export const int = (min: number, max: number) => num(min, max).int('must be an integer');
/** A positive number (a rate), at most `max`. */
export const rate = (max: number) =>
  z.number({ error: 'must be a number' }).finite('must be a finite number').gt(0, 'must be > 0').max(max, `must be ≤ ${max}`);
/** Like scikit-learn's random_state: 0 … 2³² − 1. */
export const seed = () => int(0, 2 ** 32 - 1);
/** The id of a stored run: an identifier, not an amount of work. */
export const runId = () => z.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be ≥ 1');

/** How people see a parameter: its name in run details and exports, in the form, and what it does (CLI help, hints). */
export interface ParamText {
  label: string;
  /** A shorter name inside its form card, where the card already says e.g. "GMM". */
  formLabel?: string;
  /** What it does, as a phrase: the CLI help and the form hint add the range and the default. */
  help: string;
}

/** A parameter schema with its description attached (zod metadata), read back by {@link textOf}. */
export const described = <T extends z.ZodType>(schema: T, text: ParamText): T => schema.meta({ ...text });

/** The description {@link described} attached, if any. */
export function textOf(schema: z.ZodType): ParamText | undefined {
  const meta = schema.meta() as Partial<ParamText> | undefined;
  return meta?.label !== undefined && meta.help !== undefined ? (meta as ParamText) : undefined;
}

/** An estimator's parameters: one schema per parameter, with its default. */
export type ParamShape = Record<string, z.ZodType>;
export type ParamsOf<S extends ParamShape> = z.output<z.ZodObject<S>>;

export const shown = (value: unknown): string =>
  typeof value === 'string' ? `'${value}'` : Array.isArray(value) ? `[${value.join(', ')}]` : String(value);

/**
 * Validates an estimator's parameters against its shape and fills in the defaults (absent and undefined values),
 * like scikit-learn's `_validate_params`: an unknown name is a TypeError, a bad value a RangeError, each one line
 * naming the estimator, the parameter and the value.
 */
export function parseEstimatorParams<S extends ParamShape>(estimator: string, shape: S, params: unknown = {}): ParamsOf<S> {
  if (params === null || typeof params !== 'object') throw new TypeError(`${estimator} params must be an object`);
  const result = z.strictObject(shape).safeParse(params);
  if (result.success) return result.data as ParamsOf<S>;
  const issue = result.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    throw new TypeError(`Unknown ${estimator} parameter "${issue.keys[0]}" (expected one of ${Object.keys(shape).join(', ')})`);
  }
  const name = String(issue.path[0]);
  throw new RangeError(`${estimator} ${name} ${issue.message}, got ${shown((params as Record<string, unknown>)[name])}`);
}

/** What is wrong with one parameter's value ("must be ≥ 2, got 1"), or undefined when its schema takes it. */
export function paramIssue(schema: z.ZodType, value: unknown): string | undefined {
  const result = schema.safeParse(value);
  return result.success ? undefined : `${result.error.issues[0].message}, got ${shown(value)}`;
}

/** The same schema with another default (a task's or a preset's own). */
export function withDefault<T extends z.ZodType>(schema: T, value: z.output<T>): z.ZodDefault<z.ZodType<z.output<T>>> {
  let inner: z.ZodType = schema;
  if (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
  return (inner as z.ZodType<z.output<T>>).default(value as never);
}

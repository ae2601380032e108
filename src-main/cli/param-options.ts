// The `run` command's parameter flags, generated from the parameter table: one flag per parameter (the
// kebab-case name unless the table names another, e.g. --lr), --no-… for switches, hidden aliases for older
// spellings; the help says what it does, its range and its default, all read from the schema.
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  PARAM_NAMES,
  paramChoices,
  paramDefaultText,
  paramKind,
  paramRange,
  specOf,
  type ParamKind,
  type ParamName,
} from '../engine/schema/params';
import { decimalNumber, numberArg } from './args';

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A parameter's flag name, without the dashes: `lr` for learningRate, else the kebab-case name. */
export const paramFlag = (name: ParamName): string => specOf(name).cli?.flag ?? kebab(name);

/** "500,500,2000" → [500, 500, 2000]; the sizes themselves are checked by the parameter schema. */
export function listArg(value: string): number[] {
  const numbers = value.split(',').map((p) => decimalNumber(p.trim()));
  if (numbers.some((n) => n === undefined)) {
    throw new InvalidArgumentError(`expected comma-separated layer sizes such as 500,500,2000, got "${value}"`);
  }
  return numbers as number[];
}

const PARSERS: Partial<Record<ParamKind, (value: string) => unknown>> = { int: numberArg, number: numberArg, list: listArg };
const METAVARS: Record<ParamKind, string> = { int: 'n', number: 'x', list: 'list', choice: 'name', switch: '', text: 'name' };

/** The help of a parameter's flag: "number of clusters, 2–1000 (default 10)". */
export function paramHelp(name: ParamName): string {
  const range = paramRange(name);
  const fallback = paramDefaultText(name);
  return `${specOf(name).help}${range ? `, ${range}` : ''}${fallback ? ` (default ${fallback})` : ''}`;
}

/** One flag and the parameter it sets. */
interface ParamFlag {
  option: Option;
  param: ParamName;
}

/** An option that takes a value: a number (strict), a list, or one of the choices. */
function valueOption(name: ParamName, flag: string, help: string): Option {
  const kind = paramKind(name);
  const option = new Option(`--${flag} <${specOf(name).cli?.metavar ?? METAVARS[kind]}>`, help);
  const parse = PARSERS[kind];
  return kind === 'choice' ? option.choices(paramChoices(name)) : parse ? option.argParser(parse) : option;
}

function flagsOf(name: ParamName): ParamFlag[] {
  const { cli } = specOf(name);
  const flag = paramFlag(name);
  if (paramKind(name) === 'switch') {
    return [
      { option: new Option(`--${flag}`, paramHelp(name)), param: name },
      { option: new Option(`--no-${flag}`, cli?.negate ?? `not ${specOf(name).help}`), param: name },
    ];
  }
  const flags = [{ option: valueOption(name, flag, paramHelp(name)), param: name }];
  if (cli?.alias) flags.push({ option: valueOption(name, cli.alias, `same as --${flag}`).hideHelp(), param: name });
  return flags;
}

/** The parameter a name stands for: its flag (without dashes, aliases too) or its own name; undefined when none. */
export function paramNamed(text: string): ParamName | undefined {
  return PARAM_NAMES.find((name) => text === name || text === paramFlag(name) || text === specOf(name).cli?.alias);
}

const SWITCH_VALUES: Record<string, boolean> = { on: true, true: true, yes: true, off: false, false: false, no: false };

/** A value for a parameter written as its flag takes it ("10", "1e-3", "full", "500,500,2000"; switches: on / off). */
export function parseParamValue(name: ParamName, text: string): unknown {
  const kind = paramKind(name);
  if (kind === 'switch') {
    const value = SWITCH_VALUES[text.trim().toLowerCase()];
    if (value === undefined) throw new InvalidArgumentError(`expected on or off, got "${text}"`);
    return value;
  }
  if (kind === 'choice') {
    const choices = paramChoices(name);
    if (!choices.includes(text)) throw new InvalidArgumentError(`"${text}" is not one of: ${choices.join(', ')}`);
    return text;
  }
  return (PARSERS[kind] ?? ((v: string) => v))(text);
}

/** Every parameter flag, in the table's order. */
export const paramFlags = (): ParamFlag[] => PARAM_NAMES.flatMap(flagsOf);

/**
 * Adds a flag for every parameter to `command`; returns what reads its parsed options back into a params object
 * (only the parameters given: the engine fills in each task's defaults).
 */
export function addParamOptions(command: Command): (opts: Record<string, unknown>) => Record<string, unknown> {
  const flags = paramFlags();
  for (const { option } of flags) command.addOption(option);
  return (opts) => {
    const params: Record<string, unknown> = {};
    for (const { option, param } of flags) {
      const value = opts[option.attributeName()];
      // A parameter's own flag comes before its alias: the own flag wins when both are given.
      if (value !== undefined && params[param] === undefined) params[param] = value;
    }
    return params;
  };
}

/**
 * The Run tab's form as data: what each parameter's field shows, checking what the user typed,
 * and the `POST nbops/runs` body it makes. No DOM here.
 *
 * Values go to the server as the user typed them (it parses them like `nbops run -p NAME
 * VALUE`, with the same messages), booleans as JSON. Only fields that differ from the
 * notebook's default are sent, so a default the notebook computes (an expression) is never
 * replaced by its source text.
 */
import type { JSONValue } from '@lumino/coreutils';

import type { IParameter, IRunRequest, ParamValue } from './tokens';

export type FormMode = 'run' | 'sweep';

/** The input a field gets in a single run. */
export type InputKind = 'int' | 'float' | 'bool' | 'text';

/** What the user set up: one text per parameter (bools: `true`, `false`, `true,false`). */
export interface IFormValues {
  mode: FormMode;
  values: Map<string, string>;
  /** Runs at a time (sweeps). */
  parallel: string;
  /** Kernel name; empty: the notebook's. */
  kernel: string;
  /** Seconds a cell may run; empty: no limit. */
  timeout: string;
}

export const DEFAULT_PARALLEL = '2';
export const MAX_PARALLEL = 64;

const INT = /^[+-]?\d+(?:_\d+)*$/;
const SPECIAL_FLOAT = /^[+-]?(?:inf|infinity|nan)$/i;
/** Characters of Python literals with structure: such a text is one value, never split. */
const STRUCTURE = /[[\]{}()'"]/;

function isFloatText(text: string): boolean {
  const t = text.trim();
  if (SPECIAL_FLOAT.test(t)) {
    return true;
  }
  return t !== '' && Number.isFinite(Number(t.replace(/(\d)_(?=\d)/g, '$1')));
}

/** The field's input in a single run: number inputs only for plain finite numbers. */
export function inputKind(p: IParameter): InputKind {
  if (p.type === 'int' && typeof p.default === 'number' && Number.isInteger(p.default)) {
    return 'int';
  }
  if (p.type === 'float' && typeof p.default === 'number' && Number.isFinite(p.default)) {
    return 'float';
  }
  if (p.type === 'bool') {
    return 'bool';
  }
  return 'text';
}

/** The text a field starts with: the default as the user would type it. */
export function defaultText(p: IParameter): string {
  switch (p.type) {
    case 'int':
    case 'float':
      return typeof p.default === 'number' ? String(p.default) : p.default_source;
    case 'bool':
      return p.default === true ? 'true' : 'false';
    case 'str':
      return typeof p.default === 'string' ? p.default : p.default_source;
    default:
      return p.default_source;
  }
}

/** The form with every field at its default. */
export function defaultValues(parameters: IParameter[]): Map<string, string> {
  return new Map(parameters.map(p => [p.name, defaultText(p)]));
}

/** A human description of the type, for labels and tooltips. */
export function typeWords(p: IParameter): string {
  switch (p.type) {
    case 'int':
      return 'a whole number (int)';
    case 'float':
      return 'a number (float)';
    case 'bool':
      return 'true or false (bool)';
    case 'str':
      return 'text (str)';
    case 'list':
    case 'tuple':
      return `a ${p.type}: JSON or a Python literal such as [1, 2]`;
    case 'dict':
      return 'a dict: JSON or a Python literal such as {"key": 1}';
    default:
      return 'a Python literal or JSON value (None, 3, "text", [1, 2]...)';
  }
}

/** What one field holds: its values (one in a single run) or what is wrong with it. */
export interface IFieldCheck {
  /** Differs from the notebook's default (then it is sent). */
  changed: boolean;
  values: ParamValue[];
  error: string | null;
}

function same(p: IParameter, text: string): boolean {
  return text.trim() === defaultText(p).trim() && (p.type !== 'str' || text === defaultText(p));
}

function checkOne(p: IParameter, text: string): string | null {
  const t = text.trim();
  switch (p.type) {
    case 'int':
      if (t === '') {
        return 'a whole number is needed';
      }
      return INT.test(t) ? null : `${JSON.stringify(text)} is not a whole number`;
    case 'float':
      if (t === '') {
        return 'a number is needed';
      }
      return isFloatText(t) ? null : `${JSON.stringify(text)} is not a number`;
    case 'bool':
      return /^(true|false|yes|no|1|0)$/i.test(t) ? null : 'true or false';
    case 'str':
      return null;
    default:
      return t === '' ? 'a value is needed (write None for None)' : null;
  }
}

function boolValue(text: string): boolean {
  return /^(true|yes|1)$/i.test(text.trim());
}

function single(p: IParameter, text: string): ParamValue {
  return p.type === 'bool' ? boolValue(text) : text;
}

/** A field of a single run. */
function checkRun(p: IParameter, text: string): IFieldCheck {
  const changed = !same(p, text);
  const error = changed ? checkOne(p, text) : null;
  return { changed, values: error ? [] : [single(p, text)], error };
}

/** A text that is a JSON list: its items, else `null`. */
function jsonList(text: string): JSONValue[] | null {
  const t = text.trim();
  if (!t.startsWith('[')) {
    return null;
  }
  try {
    const value = JSON.parse(t) as JSONValue;
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * The values of a sweep field: comma-separated, or a JSON list (for texts with commas:
 * `["a,b", "c"]`; for lists and dicts: `[[1, 2], [3]]`). A field left at its default is one
 * value, never split.
 */
export function splitValues(
  p: IParameter,
  text: string
): { values: string[] | JSONValue[]; error: string | null } {
  const t = text.trim();
  if (p.type === 'bool') {
    const picks = t === '' ? [] : t.split(',').map(s => s.trim());
    return picks.length === 0
      ? { values: [], error: 'tick true, false or both' }
      : { values: picks, error: null };
  }
  if (p.type === 'list' || p.type === 'tuple' || p.type === 'dict') {
    const items = jsonList(t);
    const nested =
      items !== null &&
      items.length > 0 &&
      items.every(item =>
        p.type === 'dict'
          ? typeof item === 'object' && item !== null && !Array.isArray(item)
          : Array.isArray(item)
      );
    return nested ? { values: items, error: null } : { values: [text], error: null };
  }
  if (p.type === 'int' || p.type === 'float' || p.type === 'str') {
    if (t.startsWith('[')) {
      const items = jsonList(t);
      if (items === null) {
        return {
          values: [],
          error: 'starts with [ but is not a JSON list: write 1, 2, 3 or ["a", "b"]'
        };
      }
      return { values: items, error: items.length === 0 ? 'the list is empty' : null };
    }
  } else if (STRUCTURE.test(t)) {
    return { values: [text], error: null }; // a literal with structure: one value
  }
  const pieces = t.split(',').map(s => s.trim());
  if (pieces.some(piece => piece === '')) {
    return {
      values: [],
      error:
        t === ''
          ? 'give one value or several separated by commas'
          : 'an empty value between commas (for an empty text use a JSON list: ["", "x"])'
    };
  }
  return { values: pieces, error: null };
}

/** A field of a sweep: one or more values. */
function checkSweep(p: IParameter, text: string): IFieldCheck {
  if (same(p, text)) {
    return { changed: false, values: [single(p, text)], error: null };
  }
  const split = splitValues(p, text);
  if (split.error) {
    return { changed: true, values: [], error: split.error };
  }
  const values: ParamValue[] = [];
  const seen = new Set<string>();
  for (const item of split.values) {
    if (typeof item === 'string') {
      const error = checkOne(p, item);
      if (error) {
        return { changed: true, values: [], error };
      }
    }
    const value = typeof item === 'string' ? single(p, item) : item;
    const key = JSON.stringify(value);
    if (seen.has(key)) {
      return {
        changed: true,
        values: [],
        error: `${typeof item === 'string' ? item : key} is given twice`
      };
    }
    seen.add(key);
    values.push(value);
  }
  return { changed: true, values, error: null };
}

export function checkField(p: IParameter, text: string, mode: FormMode): IFieldCheck {
  return mode === 'run' ? checkRun(p, text) : checkSweep(p, text);
}

/** The form checked: the request it makes, or why it cannot be sent. */
export interface IFormCheck {
  request: IRunRequest | null;
  fields: Map<string, IFieldCheck>;
  /** Problems not about one parameter (parallel, timeout, a sweep of one run). */
  problems: string[];
  /** How many runs it starts. */
  runs: number;
  /** The parameters that vary, with their number of values. */
  axes: Array<[string, number]>;
}

export function checkForm(path: string, parameters: IParameter[], form: IFormValues): IFormCheck {
  const fields = new Map<string, IFieldCheck>();
  const problems: string[] = [];
  const values: { [name: string]: ParamValue } = {};
  const grid: { [name: string]: ParamValue[] } = {};
  const axes: Array<[string, number]> = [];
  let valid = true;
  for (const p of parameters) {
    const check = checkField(p, form.values.get(p.name) ?? defaultText(p), form.mode);
    fields.set(p.name, check);
    if (check.error) {
      valid = false;
    } else if (check.changed) {
      if (check.values.length > 1) {
        grid[p.name] = check.values;
        axes.push([p.name, check.values.length]);
      } else {
        values[p.name] = check.values[0];
      }
    }
  }
  const runs = axes.reduce((n, [, k]) => n * k, 1);

  const request: IRunRequest = { path };
  if (Object.keys(values).length > 0) {
    request.parameters = values;
  }
  if (form.mode === 'sweep') {
    if (axes.length === 0 && valid) {
      problems.push(
        'Give at least one parameter two or more values (separated by commas) to sweep.'
      );
      valid = false;
    } else if (axes.length > 0) {
      request.grid = grid;
    }
    const parallel = form.parallel.trim();
    if (!/^\d+$/.test(parallel) || Number(parallel) < 1 || Number(parallel) > MAX_PARALLEL) {
      problems.push(`Parallel runs: a whole number from 1 to ${MAX_PARALLEL}.`);
      valid = false;
    } else {
      request.parallel = Number(parallel);
    }
  }
  const kernel = form.kernel.trim();
  if (kernel) {
    request.kernel = kernel;
  }
  const timeout = form.timeout.trim();
  if (timeout) {
    const seconds = Number(timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      problems.push('Cell timeout: a number of seconds above 0, or empty for no limit.');
      valid = false;
    } else {
      request.timeout = seconds;
    }
  }
  return { request: valid ? request : null, fields, problems, runs, axes };
}

/** The parameter a server message is about (`parameter 'alpha' expects ...`), if any. */
export function parameterInMessage(message: string, names: string[]): string | null {
  for (const name of names) {
    if (message.includes(`'${name}'`) || message.includes(`"${name}"`)) {
      return name;
    }
  }
  return null;
}

/** The form's text for a value of a single run, from a sweep field (its first value). */
export function firstValue(p: IParameter, text: string): string {
  if (same(p, text)) {
    return text;
  }
  const split = splitValues(p, text);
  if (split.error || split.values.length <= 1) {
    return p.type === 'bool' ? (boolValue(text.split(',')[0] ?? '') ? 'true' : 'false') : text;
  }
  const first = split.values[0];
  return typeof first === 'string' ? first : JSON.stringify(first);
}

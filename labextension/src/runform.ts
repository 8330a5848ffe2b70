/**
 * The Run tab's form as data: what each parameter's field shows (its input, its default text,
 * its type in words) and the form as the server checks it. No DOM here.
 *
 * The server reads the texts (`POST nbops/runs/validate`: like `nbops run -p NAME VALUE` and
 * `--grid NAME=VALUES`, with the same messages) and answers the exact `POST nbops/runs` body;
 * this module only builds what is sent. An nbops older than the front end has no check
 * endpoint: `fallbackRequest` then sends the texts as they are and `POST nbops/runs` says what
 * is wrong (a 400 naming the parameter).
 */
import type { IParameter, IRunForm, IRunFormCheck, IRunRequest, ParamValue } from './tokens';

/** `pipeline`: one run of the module `nbops modularize` generated (`nbops run --pipeline`). */
export type FormMode = 'run' | 'sweep' | 'pipeline';

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
/** The pause in typing before the form is checked (ms). */
export const CHECK_DELAY = 250;

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

/** The field still holds its default text (then it shows no reset, and is not sent). */
export function isDefault(p: IParameter, text: string): boolean {
  const start = defaultText(p);
  return p.type === 'str' ? text === start : text.trim() === start.trim();
}

/** The body of `POST nbops/runs/validate`: every field's text as typed. */
export function toRunForm(path: string, form: IFormValues): IRunForm {
  return {
    path,
    mode: form.mode,
    fields: Object.fromEntries(form.values),
    parallel: form.mode === 'sweep' ? form.parallel : null,
    kernel: form.kernel.trim() === '' ? null : form.kernel,
    timeout: form.timeout.trim() === '' ? null : form.timeout
  };
}

/** The parameters a sweep varies, with their number of values (`[['A', 2]]`). */
export function axes(check: IRunFormCheck): Array<[string, number]> {
  return Object.entries(check.request?.grid ?? {}).map(([name, values]) => [name, values.length]);
}

/**
 * The text of a field when a sweep becomes a single run: its first value as the server read
 * it (`check`, the sweep's last check), else the text as it is (a bool: its first choice).
 */
export function firstValue(p: IParameter, text: string, check: IRunFormCheck | null): string {
  const values = check?.fields?.[p.name]?.values;
  if (values && values.length > 1) {
    const first = values[0];
    return typeof first === 'string' ? first : JSON.stringify(first);
  }
  if (p.type === 'bool') {
    return (text.split(',')[0] ?? '').trim().toLowerCase() === 'true' ? 'true' : 'false';
  }
  return text;
}

/**
 * The request of a server without `POST nbops/runs/validate` (an older nbops): the changed
 * fields' texts as typed (booleans as JSON), a sweep's fields split on commas. That server
 * checks them when the run starts.
 */
export function fallbackRequest(
  path: string,
  parameters: IParameter[],
  form: IFormValues
): IRunRequest {
  const request: IRunRequest = { path };
  const values: { [name: string]: ParamValue } = {};
  const grid: { [name: string]: ParamValue[] } = {};
  for (const p of parameters) {
    const text = form.values.get(p.name) ?? defaultText(p);
    if (isDefault(p, text)) {
      continue;
    }
    const pieces =
      form.mode === 'sweep' && !text.trim().startsWith('[')
        ? text.split(',').map(s => s.trim())
        : [text];
    const typed = pieces.map(t => (p.type === 'bool' ? /^(true|yes|1)$/i.test(t.trim()) : t));
    if (typed.length > 1) {
      grid[p.name] = typed;
    } else {
      values[p.name] = typed[0];
    }
  }
  if (Object.keys(values).length > 0) {
    request.parameters = values;
  }
  if (Object.keys(grid).length > 0) {
    request.grid = grid;
  }
  const number = (text: string): number | null =>
    text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : null;
  const parallel = number(form.parallel);
  if (form.mode === 'sweep' && parallel !== null) {
    request.parallel = parallel;
  }
  if (form.mode === 'pipeline') {
    request.pipeline = true; // the module runs in Python: no kernel
  } else if (form.kernel.trim()) {
    request.kernel = form.kernel.trim();
  }
  const timeout = number(form.timeout);
  if (timeout !== null) {
    request.timeout = timeout;
  }
  return request;
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

/** The Run form as data (`src/runform.ts`): what is sent to the server's check, and the fallback. */
import { describe, expect, test } from 'vitest';

import {
  axes,
  defaultValues,
  fallbackRequest,
  firstValue,
  isDefault,
  toRunForm,
  type IFormValues
} from '../src/runform';
import type { IParameter, IRunFormCheck } from '../src/tokens';

function param(
  name: string,
  type: IParameter['type'],
  value: IParameter['default'],
  source: string
): IParameter {
  return { name, type, default: value, default_source: source } as IParameter;
}

const PARAMS = [
  param('alpha', 'float', 0.5, '0.5'),
  param('n', 'int', 3, '3'),
  param('flag', 'bool', false, 'False'),
  param('name', 'str', 'a b', "'a b'")
];

function form(mode: 'run' | 'sweep' | 'pipeline', values: { [name: string]: string }): IFormValues {
  const all = defaultValues(PARAMS);
  for (const [k, v] of Object.entries(values)) {
    all.set(k, v);
  }
  return { mode, values: all, parallel: '2', kernel: '', timeout: '' };
}

describe('the form sent to POST nbops/runs/validate', () => {
  test('every text as typed; parallel only in a sweep; blank options are null', () => {
    expect(toRunForm('n.ipynb', form('run', { alpha: ' 0.7' }))).toEqual({
      path: 'n.ipynb',
      mode: 'run',
      fields: { alpha: ' 0.7', n: '3', flag: 'false', name: 'a b' },
      parallel: null,
      kernel: null,
      timeout: null
    });
    const sweep = { ...form('sweep', { n: '1, 2' }), kernel: 'python3', timeout: '30' };
    expect(toRunForm('n.ipynb', sweep)).toMatchObject({
      mode: 'sweep',
      parallel: '2',
      kernel: 'python3',
      timeout: '30'
    });
  });

  test('a field at its default (a text exactly, a number up to spaces)', () => {
    expect(isDefault(PARAMS[0], ' 0.5 ')).toBe(true);
    expect(isDefault(PARAMS[0], '0.50')).toBe(false);
    expect(isDefault(PARAMS[3], 'a b')).toBe(true);
    expect(isDefault(PARAMS[3], 'a b ')).toBe(false);
  });
});

describe("what the server's check says", () => {
  const check: IRunFormCheck = {
    ok: true,
    errors: {},
    request: { path: 'n.ipynb', grid: { n: ['1', '2'], flag: ['true', 'false'] }, parallel: 2 },
    runs: 4,
    fields: {
      n: { value: null, values: [1, 2], changed: true },
      flag: { value: null, values: [true, false], changed: true },
      alpha: { value: 0.5, values: null, changed: false }
    }
  };

  test('the axes of a sweep', () => {
    expect(axes(check)).toEqual([
      ['n', 2],
      ['flag', 2]
    ]);
  });

  test("a sweep becoming a single run takes each field's first value as the server read it", () => {
    expect(firstValue(PARAMS[1], '1, 2', check)).toBe('1');
    expect(firstValue(PARAMS[2], 'true,false', check)).toBe('true');
    expect(firstValue(PARAMS[0], '0.5', check)).toBe('0.5');
    // no answer (or an invalid form): the text stays, a bool takes its first choice
    expect(firstValue(PARAMS[1], '1, x', null)).toBe('1, x');
    expect(firstValue(PARAMS[2], 'false,true', null)).toBe('false');
  });
});

describe('an older nbops without the check: the request sends the texts', () => {
  test('a single run: changed fields only, bools as JSON', () => {
    const request = fallbackRequest('n.ipynb', PARAMS, form('run', { alpha: '[1,', flag: 'true' }));
    expect(request).toEqual({ path: 'n.ipynb', parameters: { alpha: '[1,', flag: true } });
  });

  test('a sweep: split on commas, a JSON list kept whole, options as numbers', () => {
    const values = { ...form('sweep', { n: '1, 2', name: '["x,y", "z"]' }), timeout: '30' };
    expect(fallbackRequest('n.ipynb', PARAMS, values)).toEqual({
      path: 'n.ipynb',
      parameters: { name: '["x,y", "z"]' },
      grid: { n: ['1', '2'] },
      parallel: 2,
      timeout: 30
    });
  });
});

describe('the pipeline mode', () => {
  test('is sent as such; the fallback asks for the pipeline, without a kernel', () => {
    const f = { ...form('pipeline', { alpha: '2' }), kernel: 'python3' };
    expect(toRunForm('nb.ipynb', f).mode).toBe('pipeline');
    expect(fallbackRequest('nb.ipynb', PARAMS, f)).toEqual({
      path: 'nb.ipynb',
      parameters: { alpha: '2' },
      pipeline: true
    });
  });
  test('takes one value per field, commas included', () => {
    const request = fallbackRequest('nb.ipynb', PARAMS, form('pipeline', { name: 'a, b' }));
    expect(request.grid).toBeUndefined();
    expect(request.parameters).toEqual({ name: 'a, b' });
  });
});

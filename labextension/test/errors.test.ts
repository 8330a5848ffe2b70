/** The panels' one error box and unsaved-changes bar. */
import { describe, expect, test, vi } from 'vitest';

import { NbopsApiError } from '../src/api';
import { errorNode, explain, unsavedBar } from '../src/panels/errors';

const text = (node: HTMLElement, cls: string) => node.querySelector(`.${cls}`)?.textContent ?? null;

describe('explain', () => {
  test('no server extension, an older server, 403 and the network get their own words', () => {
    const missing = new NbopsApiError({ status: 404, message: 'x', error: 'server_missing' });
    expect(explain(missing, 'start the run', 'run', 'F').message).toBe(
      'Cannot start the run: the nbops server extension is not available.'
    );
    const older = new NbopsApiError({ status: 404, message: 'no such nbops endpoint' });
    const o = explain(older, 'score', 'hackathon', 'F');
    expect(o.message).toContain('no hackathon endpoints');
    expect(o.hint).toContain('pip install -U nbops');
    const forbidden = new NbopsApiError({ status: 403, message: 'refused', error: 'HTTPError' });
    expect(explain(forbidden, 'run', 'run', 'ask your admin')).toEqual({
      message: 'Not allowed to run: the Jupyter server refused (403). refused',
      hint: 'ask your admin'
    });
    const withHint = new NbopsApiError({ status: 403, message: 'm', hint: 'the server says' });
    expect(explain(withHint, 'run', 'run', 'F').hint).toBe('the server says');
    const network = new NbopsApiError({ status: 0, message: 'offline', error: 'network' });
    expect(explain(network, 'run', 'run', 'F')).toEqual({
      message: 'offline',
      hint: 'Is the Jupyter server still running?'
    });
    const plain = new NbopsApiError({ status: 400, message: 'bad', hint: 'h' });
    expect(explain(plain, 'run', 'run', 'F')).toEqual({ message: 'bad', hint: 'h' });
  });
});

describe('errorNode', () => {
  test('message, where (file and 1-based cell) and hint, with the error on data attributes', () => {
    const e = new NbopsApiError({
      status: 422,
      message: 'cannot parse',
      error: 'NotebookError',
      path: 'a/n.ipynb',
      cell: 2,
      hint: 'fix it'
    });
    const node = errorNode(e, 'nbops-error nbops-x');
    expect(node.className).toBe('nbops-error nbops-x');
    expect(node.getAttribute('role')).toBe('alert');
    expect([node.dataset.error, node.dataset.status]).toEqual(['NotebookError', '422']);
    expect(text(node, 'nbops-error-message')).toBe('cannot parse');
    expect(text(node, 'nbops-error-where')).toBe('a/n.ipynb, cell 3');
    expect(text(node, 'nbops-error-hint')).toBe('fix it');
  });

  test('no where and no hint when the error has none; words replace the message', () => {
    const e = new NbopsApiError({ status: 500, message: 'boom' });
    const node = errorNode(e, 'nbops-run-error', { message: 'said otherwise', hint: null });
    expect(text(node, 'nbops-error-message')).toBe('said otherwise');
    expect(node.querySelector('.nbops-error-where')).toBeNull();
    expect(node.querySelector('.nbops-error-hint')).toBeNull();
  });
});

describe('unsavedBar', () => {
  test('hidden at first, its button saves', () => {
    const onSave = vi.fn();
    const bar = unsavedBar('nbops-run', 'Unsaved changes. ', onSave);
    expect(bar.className).toBe('nbops-run-unsaved');
    expect(bar.hidden).toBe(true);
    expect(bar.textContent).toContain('Unsaved changes.');
    bar.querySelector<HTMLButtonElement>('.nbops-run-save')!.click();
    expect(onSave).toHaveBeenCalledTimes(1);
  });
});

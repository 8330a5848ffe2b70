/**
 * The panels' error box and unsaved-changes bar, one of each.
 *
 * An error box says what went wrong, where (the file, the cell) and what to do:
 *   .nbops-error-message, .nbops-error-where, .nbops-error-hint   (role=alert; data-error and
 *   data-status carry the error's class and HTTP status for tests and styles)
 * `explain` rewords what every tab meets the same way: no server extension, an older server
 * without the tab's endpoints, a 403, the network.
 */
import { isMissingEndpoint, type NbopsApiError } from '../api';
import { el } from './dom';

/** What an error box shows. */
export interface IErrorWords {
  message: string;
  hint: string | null;
}

/**
 * The words for an error of a tab's action `what` ("start the run"): `area` names the tab's
 * endpoints ("run", "hackathon") for an older server, `forbidden` is the hint for a 403.
 */
export function explain(
  error: NbopsApiError,
  what: string,
  area: string,
  forbidden: string
): IErrorWords {
  if (error.serverMissing) {
    return {
      message: `Cannot ${what}: the nbops server extension is not available.`,
      hint: error.hint
    };
  }
  if (isMissingEndpoint(error)) {
    return {
      message: `Cannot ${what}: this nbops server has no ${area} endpoints (an older nbops).`,
      hint:
        'Upgrade nbops in the Python environment that runs Jupyter (`pip install -U nbops`), ' +
        'then restart JupyterLab.'
    };
  }
  if (error.status === 403) {
    return {
      message: `Not allowed to ${what}: the Jupyter server refused (403). ${error.message}`,
      hint: error.hint ?? forbidden
    };
  }
  if (error.status === 0 && error.error === 'network') {
    return { message: error.message, hint: error.hint ?? 'Is the Jupyter server still running?' };
  }
  return { message: error.message, hint: error.hint };
}

/** The error box (class `className`); `words` replace the error's own message and hint. */
export function errorNode(
  error: NbopsApiError,
  className: string,
  words: IErrorWords = { message: error.message, hint: error.hint }
): HTMLElement {
  const node = el('div', className);
  node.dataset.error = error.error;
  node.dataset.status = String(error.status);
  node.setAttribute('role', 'alert');
  node.append(el('div', 'nbops-error-message', words.message));
  const where: string[] = [];
  if (error.path) {
    where.push(error.path);
  }
  if (error.cell !== null && error.cell !== undefined) {
    where.push(`cell ${error.cell + 1}`); // the error body's `cell` is a 0-based index
  }
  if (where.length > 0) {
    node.append(el('div', 'nbops-error-where', where.join(', ')));
  }
  if (words.hint) {
    node.append(el('div', 'nbops-error-hint', words.hint));
  }
  return node;
}

/**
 * The bar shown while the notebook has unsaved changes: `text` and a "Save now" button
 * (classes `${prefix}-unsaved` and `${prefix}-save`); hidden until the panel shows it.
 */
export function unsavedBar(prefix: string, text: string, onSave: () => void): HTMLElement {
  const bar = el('div', `${prefix}-unsaved`);
  bar.append(el('span', undefined, text));
  const save = el('button', `jp-Button jp-mod-minimal ${prefix}-save`, 'Save now');
  save.type = 'button';
  save.addEventListener('click', onSave);
  bar.append(save);
  bar.hidden = true;
  return bar;
}

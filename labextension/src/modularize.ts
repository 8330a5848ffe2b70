/**
 * The "Modularize" action: ask the server for the plan (dry run), show it in a dialog the user
 * confirms, write the files, open the generated module.
 *
 * The server does all the work (`POST nbops/modularize`); nothing is written before the user
 * clicks "Write files". Errors are shown as the server's message and hint.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import * as api from './api';
import { NbopsApiError, NbopsConflictError } from './api';
import {
  conflicts,
  hasErrors,
  ModularizePreview,
  WRITE_BUTTON_CLASS,
  WRITE_WITH_ERRORS_CLASS,
  type IModularizePreviewOptions
} from './panels/modularize';
import type { IModularizePlan } from './tokens';

/** Notebooks with a modularize under way (one at a time per notebook). */
const busy = new Set<string>();

export function isModularizing(panel: NotebookPanel | null): boolean {
  return panel !== null && busy.has(panel.context.localPath);
}

function toApiError(reason: unknown): NbopsApiError {
  if (reason instanceof NbopsApiError) {
    return reason;
  }
  return new NbopsApiError({
    status: 0,
    error: 'client',
    message: String((reason as Error)?.message ?? reason)
  });
}

/** The error in plain words: what went wrong, where, and what to do about it. */
export async function showModularizeError(reason: unknown): Promise<void> {
  const error = toApiError(reason);
  const body = new Widget();
  body.addClass('nbops-modularize-error');
  body.node.dataset.error = error.error;
  body.node.dataset.status = String(error.status);
  const message = document.createElement('div');
  message.className = 'nbops-error-message';
  message.textContent = error.message;
  body.node.append(message);
  if (error.path) {
    const where = document.createElement('div');
    where.className = 'nbops-error-where';
    where.textContent = error.cell !== null ? `${error.path}, cell ${error.cell + 1}` : error.path;
    body.node.append(where);
  }
  if (error.hint) {
    const hint = document.createElement('div');
    hint.className = 'nbops-error-hint';
    hint.textContent = error.hint;
    body.node.append(hint);
  }
  await showDialog({
    title: 'Modularize failed',
    body,
    buttons: [Dialog.okButton({ label: 'OK' })]
  });
}

/** Show the plan; resolve with `force` when the user confirms, `null` when they cancel. */
async function preview(
  plan: IModularizePlan,
  options: IModularizePreviewOptions
): Promise<{ force: boolean } | null> {
  const body = new ModularizePreview(plan, options);
  // with errors in the plan, "Write files" is neither the default (Enter cancels) nor
  // styled as the accept button
  const errors = hasErrors(plan);
  const write = errors
    ? Dialog.createButton({
        label: 'Write files',
        accept: false,
        className: `${WRITE_BUTTON_CLASS} ${WRITE_WITH_ERRORS_CLASS}`,
        caption: 'The plan has errors: read them before writing'
      })
    : Dialog.okButton({
        label: 'Write files',
        className: WRITE_BUTTON_CLASS,
        caption: 'Write the files listed'
      });
  const result = await showDialog({
    title: `Modularize ${plan.notebook}`,
    body,
    buttons: [Dialog.cancelButton({ label: 'Cancel' }), write],
    defaultButton: errors ? 0 : 1
  });
  if (!result.button.className.split(' ').includes(WRITE_BUTTON_CLASS)) {
    return null;
  }
  const value = result.value ?? body.getValue();
  // Enter in the dialog resolves with the default button even while it is disabled
  const force = value.force;
  if (conflicts(plan).length > 0 && !force) {
    return null;
  }
  return { force };
}

/** Await `work`, with a progress notification only when it takes a while. */
async function withProgress<T>(message: string, work: Promise<T>): Promise<T> {
  let id: string | null = null;
  const timer = window.setTimeout(() => {
    id = Notification.emit(message, 'in-progress', { autoClose: false });
  }, 700);
  try {
    return await work;
  } finally {
    window.clearTimeout(timer);
    if (id !== null) {
      Notification.dismiss(id);
    }
  }
}

function written(plan: IModularizePlan): string {
  const changed = plan.files.filter(f => f.action !== 'unchanged');
  const n = changed.length;
  const files = `${n} file${n === 1 ? '' : 's'}`;
  return n === 0 ? 'nothing to write (all files unchanged)' : `wrote ${files}`;
}

/**
 * Modularize the saved notebook of `panel`: preview, confirm, write, open the module.
 *
 * Resolves with the plan carried out, or `null` when the user cancelled or it failed (the
 * failure is shown to the user).
 */
export async function modularizeNotebook(
  app: JupyterFrontEnd,
  panel: NotebookPanel
): Promise<IModularizePlan | null> {
  const path = panel.context.localPath;
  if (busy.has(path)) {
    return null;
  }
  busy.add(path);
  app.commands.notifyCommandChanged();
  try {
    let plan = await withProgress(
      `Planning the modules of ${path}…`,
      api.modularize({ path, dry_run: true })
    );
    let note: string | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const choice = await preview(plan, { unsaved: panel.context.model.dirty, note });
      if (!choice) {
        return null;
      }
      let done: IModularizePlan;
      try {
        done = await withProgress(
          `Writing the modules of ${path}…`,
          api.modularize({ path, dry_run: false, force: choice.force })
        );
      } catch (reason) {
        if (reason instanceof NbopsConflictError) {
          // a file changed between the preview and the write: show the new plan
          plan = reason.plan;
          note = 'Files changed since the preview: check them again.';
          continue;
        }
        throw reason;
      }
      const module = done.files.find(f => f.kind === 'module');
      let opened = false;
      if (module) {
        try {
          await app.commands.execute('docmanager:open', { path: module.path });
          opened = true;
        } catch (reason) {
          console.warn(`nbops: could not open ${module.path}`, reason);
        }
      }
      Notification.success(
        `Modularized ${done.notebook}: ${written(done)}` +
          (module && opened ? `; opened ${module.path}` : ''),
        { autoClose: 6000 }
      );
      return done;
    }
    return null;
  } catch (reason) {
    await showModularizeError(reason);
    return null;
  } finally {
    busy.delete(path);
    app.commands.notifyCommandChanged();
  }
}

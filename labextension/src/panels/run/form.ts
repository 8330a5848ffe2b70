/**
 * The Run tab's form view: one typed input per parameter of the saved notebook's parameters
 * cell (`GET nbops/params`), with its default and help text. "Sweep" turns every field into a
 * comma-separated list of values (one run per combination) and adds "parallel runs".
 *
 * The server checks the texts as they are typed (`POST nbops/runs/validate`, 250 ms after
 * typing stops, the latest answer wins: `LatestCheck`): the form shows each field's error
 * under it, enables Run / Sweep only when the form is valid, shows the run count, and posts
 * exactly the `request` of the answer for what is typed when the user starts.
 *
 * CSS classes (stable hooks for browser tests):
 *   .nbops-run-params-section                        this view
 *   .nbops-run-params-message                        no parameters cell: why and how to fix
 *   .nbops-run-params-note                           a note about the parameters cell
 *   .nbops-run-tracking-missing                      the run extra (papermill, MLflow) is not
 *                                                    installed on the server: Run / Sweep
 *                                                    disabled, the install line
 *   .nbops-run-goto-cell                             go to the parameters cell
 *   .nbops-run-form[data-mode]                       the form: data-mode="run" | "sweep"
 *   .nbops-run-mode-run, .nbops-run-mode-sweep       the mode switch (role=radio)
 *   .nbops-run-field[data-name][data-type][data-changed][data-invalid]   one parameter
 *     input.nbops-run-input                          its input (checkboxes in a sweep of a bool:
 *                                                    input.nbops-run-bool[data-value])
 *     .nbops-run-help, .nbops-run-field-error        help text; what is wrong with the value
 *     .nbops-run-field-reset                         back to the default (when changed)
 *   input.nbops-run-parallel                         parallel runs (sweeps)
 *   .nbops-run-executor-field                        where the runs execute (a server that
 *                                                    lists executors):
 *     select.nbops-run-executor                      local / dask (an executor not installed:
 *                                                    a disabled option with its install line)
 *     .nbops-run-scheduler-field, input.nbops-run-scheduler   dask's scheduler address (shown
 *                                                    for dask only; empty: a local cluster)
 *   input.nbops-run-kernel, input.nbops-run-timeout  options
 *     .nbops-run-option[data-invalid] .nbops-run-field-error   what is wrong with an option
 *   .nbops-run-problems                              form-level problems (the server's check)
 *   .nbops-run-check-note[data-reason]               not checked as typed: "unavailable" (an
 *                                                    older nbops), "failed" (the check's error)
 *   .nbops-run-form-error[data-error][data-status][data-parameter]   the server refused
 *   .nbops-run-reset, .nbops-run-count               reset to defaults; how many runs
 *   .nbops-run-submit[data-mode]                     "Run" / "Sweep"
 */
import type { NotebookPanel } from '@jupyterlab/notebook';

import * as api from '../../api';
import { isMissingEndpoint, toApiError, type NbopsApiError } from '../../api';
import { LatestCheck, type Outcome } from '../../latest';
import {
  axes,
  CHECK_DELAY,
  DEFAULT_PARALLEL,
  defaultText,
  defaultValues,
  fallbackRequest,
  firstValue,
  inputKind,
  isDefault,
  MAX_PARALLEL,
  parameterInMessage,
  toRunForm,
  typeWords,
  type FormMode,
  type IFormValues
} from '../../runform';
import type { IRunsState, RunsModel } from '../../runs';
import type {
  IJob,
  IParameter,
  IParamsResponse,
  IRunForm,
  IRunFormCheck,
  IRunRequest
} from '../../tokens';
import { el, plural } from '../dom';
import { serverExtras, type IMissing } from '../../extras';
import { runErrorNode, runMissing } from './common';
import {
  executorChoices,
  executorDefaults,
  executorFields,
  takesScheduler,
  type IExecutorChoice
} from './executor';

export interface IFormViewOptions {
  model: RunsModel;
  /** Make a cell (0-based index) of the notebook the active one. */
  onGoToCell: (panel: NotebookPanel, index: number) => void;
  /** A job was started from the form. */
  onStarted: (job: IJob) => void;
}

/** The form of one notebook: what the user typed, kept while they switch notebooks. */
interface IFormState extends IFormValues {
  params: IParamsResponse;
  optionsOpen: boolean;
  /** The executor chosen; undefined: the server lists none (an older nbops). */
  executor?: string;
  /** Dask's scheduler address as typed; empty: a local cluster. */
  scheduler: string;
}

interface IFieldNodes<I extends HTMLElement = HTMLInputElement> {
  root: HTMLElement;
  inputs: I[];
  error: HTMLElement;
  reset?: HTMLButtonElement;
}

/** The fields of the form that are not parameters (keys of the server's `errors`). */
type OptionKey = 'parallel' | 'kernel' | 'timeout' | 'executor' | 'scheduler';

/** Where a field's error goes: under it, its inputs marked invalid. */
function markField(nodes: IFieldNodes<HTMLElement>, message: string | null): void {
  nodes.root.dataset.invalid = String(message !== null);
  nodes.error.hidden = message === null;
  nodes.error.textContent = message ?? '';
  for (const input of nodes.inputs) {
    input.setAttribute('aria-invalid', String(message !== null));
  }
}

let instances = 0;

export class RunFormView {
  /** The section to put in the panel. */
  readonly node: HTMLElement;

  constructor(options: IFormViewOptions) {
    this._options = options;
    this._uid = `nbops-run-${++instances}`;
    const paramsSection = el('section', 'nbops-run-section nbops-run-params-section');
    const paramsHeading = el('h3', 'nbops-run-heading');
    paramsHeading.append(el('span', undefined, 'Parameters'));
    this._cellLink = el('button', 'jp-Button jp-mod-minimal nbops-run-goto-cell');
    this._cellLink.type = 'button';
    this._cellLink.hidden = true;
    this._cellLink.addEventListener('click', () => {
      const panel = this._options.model.current;
      const cell = this._formParams?.cell;
      if (panel && cell) {
        this._options.onGoToCell(panel, cell - 1);
      }
    });
    paramsHeading.append(this._cellLink);
    this._paramsBox = el('div', 'nbops-run-params-box');
    paramsSection.append(paramsHeading, this._paramsBox);
    this.node = paramsSection;
    // which extras the server has: Run is disabled, with the install line, without `run`
    void serverExtras.load().then(() => this._show());
  }

  dispose(): void {
    this._checker.dispose();
  }

  /** No notebook: forget which form is shown. */
  clear(): void {
    this._formPath = null;
    this._formParams = null;
  }

  render(path: string, state: IRunsState): void {
    const params = state.params;
    if (!params) {
      this._formPath = null;
      this._formParams = null;
      this._cellLink.hidden = true;
      this._paramsBox.replaceChildren();
      if (state.paramsError) {
        this._paramsBox.append(runErrorNode(state.paramsError, 'read the parameters'));
      } else {
        const loading = el('div', 'nbops-run-loading');
        loading.append(
          el('span', 'nbops-run-spinner'),
          el('span', undefined, 'Reading the parameters cell…')
        );
        this._paramsBox.append(loading);
      }
      return;
    }
    const form = this._formState(path, params);
    if (this._formPath !== path || this._formParams !== params || this._formMode !== form.mode) {
      this._buildForm(path, form);
    }
    this._show();
  }

  /** The form of `path`, carried over to new parameters where a field did not change. */
  private _formState(path: string, params: IParamsResponse): IFormState {
    const old = this._forms.get(path);
    if (old && old.params === params) {
      return old;
    }
    const values = defaultValues(params.parameters);
    if (old) {
      for (const p of params.parameters) {
        const before = old.params.parameters.find(q => q.name === p.name);
        const value = old.values.get(p.name);
        if (
          before &&
          value !== undefined &&
          before.type === p.type &&
          before.default_source === p.default_source
        ) {
          values.set(p.name, value);
        }
      }
    }
    const defaults = executorDefaults(params.executors);
    const form: IFormState = {
      params,
      mode: old?.mode ?? 'run',
      values,
      parallel: old?.parallel ?? DEFAULT_PARALLEL,
      kernel: old?.kernel ?? '',
      timeout: old?.timeout ?? '',
      optionsOpen: old?.optionsOpen ?? false,
      executor: params.executors ? (old?.executor ?? defaults.executor) : undefined,
      scheduler: old?.scheduler ?? defaults.scheduler
    };
    if (params.parameters.length === 0) {
      form.mode = 'run';
    }
    this._forms.set(path, form);
    return form;
  }

  private _buildForm(path: string, form: IFormState): void {
    const params = form.params;
    this._formPath = path;
    this._formParams = params;
    this._formMode = form.mode;
    this._fields.clear();
    this._optionFields.clear();
    this._outcome = null;
    const box = this._paramsBox;
    box.replaceChildren();

    if (params.cell !== null) {
      this._cellLink.hidden = false;
      this._cellLink.textContent = `cell ${params.cell}`;
      this._cellLink.title = `Go to the parameters cell (cell ${params.cell})`;
    } else {
      this._cellLink.hidden = true;
    }

    if (params.cell === null) {
      const message = el(
        'div',
        'nbops-run-params-message',
        params.message ||
          'This notebook has no parameters cell: tag the cell that sets its values `parameters`.'
      );
      message.setAttribute('role', 'note');
      box.append(message);
    } else if (params.message) {
      box.append(el('div', 'nbops-run-params-note', params.message));
    }
    // without the run extra (papermill, MLflow) the server refuses runs (503): filled by _show
    this._missing = el('div', 'nbops-run-tracking-missing');
    this._missing.setAttribute('role', 'note');
    this._missing.hidden = true;
    box.append(this._missing);

    const formNode = el('form', 'nbops-run-form');
    formNode.noValidate = true;
    formNode.dataset.mode = form.mode;
    formNode.setAttribute('aria-label', `Run ${path}`);
    formNode.addEventListener('submit', event => {
      event.preventDefault();
      void this._submit();
    });

    const hasParams = params.parameters.length > 0;
    formNode.append(this._modeSwitch(form, hasParams));
    if (form.mode === 'pipeline') {
      formNode.append(
        el(
          'div',
          'nbops-run-pipeline-hint',
          'Pipeline: runs the module Modularize generated for this notebook (its steps as ' +
            'Dask tasks with the dask executor), tracked beside the notebook runs.'
        )
      );
    }
    if (hasParams) {
      if (form.mode === 'sweep') {
        formNode.append(
          el(
            'div',
            'nbops-run-sweep-hint',
            'Sweep: give a field several values separated by commas (2, 4, 8); one run per ' +
              'combination. Values with commas: a JSON list, such as ["a,b", "c"] or [[1, 2], [3]].'
          )
        );
      }
      const fields = el('div', 'nbops-run-fields');
      for (const p of params.parameters) {
        fields.append(this._field(form, p));
      }
      formNode.append(fields);
    } else if (params.cell !== null) {
      formNode.append(
        el(
          'div',
          'nbops-run-params-note',
          'The parameters cell assigns no values: the run uses the notebook as it is.'
        )
      );
    }

    if (form.mode === 'sweep') {
      formNode.append(this._parallelField(form));
    }
    if (form.executor !== undefined) {
      formNode.append(this._executorField(form));
    }
    formNode.append(this._optionsSection(form));

    this._problems = el('ul', 'nbops-run-problems');
    this._checkNote = el('div', 'nbops-run-check-note');
    this._checkNote.hidden = true;
    this._formError = el('div', 'nbops-run-form-error-box');
    const actions = el('div', 'nbops-run-actions');
    this._reset = el('button', 'nbops-run-reset', 'Reset to defaults');
    this._reset.type = 'button';
    this._reset.title = "Put every field back to the notebook's default";
    this._reset.addEventListener('click', () => {
      form.values = defaultValues(params.parameters);
      this._options.model.clearSubmitError(path);
      this._buildForm(path, form);
      this._show();
    });
    this._reset.hidden = !hasParams;
    this._count = el('span', 'nbops-run-count');
    this._submitButton = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-accept nbops-run-submit',
      form.mode === 'sweep'
        ? 'Sweep'
        : form.mode === 'pipeline'
          ? 'Run pipeline'
          : hasParams
            ? 'Run'
            : 'Run as is'
    );
    this._submitButton.type = 'submit';
    this._submitButton.dataset.mode = form.mode;
    actions.append(this._reset, this._count, this._submitButton);
    formNode.append(this._problems, this._checkNote, this._formError, actions);
    box.append(formNode);
    this._check(0);
  }

  private _modeSwitch(form: IFormState, hasParams: boolean): HTMLElement {
    const group = el('div', 'nbops-run-modes');
    group.setAttribute('role', 'radiogroup');
    group.setAttribute('aria-label', 'Run, sweep or pipeline');
    const modes: Array<[FormMode, string, string]> = [
      ['run', 'Single run', 'One run of the notebook with these values'],
      ['sweep', 'Sweep', 'Several values per field: one run per combination, some in parallel'],
      [
        'pipeline',
        'Pipeline',
        'One run of the module Modularize generated for this notebook (nbops run --pipeline)'
      ]
    ].filter(([mode]) => hasParams || mode !== 'sweep') as Array<[FormMode, string, string]>;
    const buttons: HTMLButtonElement[] = [];
    for (const [mode, label, title] of modes) {
      const b = el('button', `nbops-run-mode nbops-run-mode-${mode}`, label);
      b.type = 'button';
      b.title = title;
      b.setAttribute('role', 'radio');
      b.setAttribute('aria-checked', String(form.mode === mode));
      b.tabIndex = form.mode === mode ? 0 : -1;
      b.addEventListener('click', () => this._setMode(form, mode));
      buttons.push(b);
      group.append(b);
    }
    group.addEventListener('keydown', event => {
      if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(event.key)) {
        event.preventDefault();
        const order = modes.map(([mode]) => mode);
        const step = ['ArrowLeft', 'ArrowUp'].includes(event.key) ? -1 : 1;
        const at = order.indexOf(form.mode);
        const next = order[(at + step + order.length) % order.length];
        this._setMode(form, next);
        this._paramsBox.querySelector<HTMLButtonElement>(`.nbops-run-mode-${next}`)?.focus();
      }
    });
    return group;
  }

  private _setMode(form: IFormState, mode: FormMode): void {
    if (form.mode === mode || !this._formPath) {
      return;
    }
    if (mode !== 'sweep') {
      // a single run (of the notebook or the pipeline) takes each field's first value
      for (const p of form.params.parameters) {
        const text = form.values.get(p.name) ?? defaultText(p);
        form.values.set(p.name, firstValue(p, text, this._outcome?.answer ?? null));
      }
    }
    form.mode = mode;
    this._options.model.clearSubmitError(this._formPath);
    this._buildForm(this._formPath, form);
    this._show();
  }

  private _field(form: IFormState, p: IParameter): HTMLElement {
    const id = `${this._uid}-${p.name}`;
    const root = el('div', 'nbops-run-field');
    root.dataset.name = p.name;
    root.dataset.type = p.type;
    const tip = [`${p.name}: ${typeWords(p)}`, `default: ${p.default_source}`];
    if (p.help) {
      tip.push(p.help);
    }
    root.title = tip.join('\n');

    const label = el('label', 'nbops-run-label');
    label.htmlFor = id;
    label.id = `${id}-label`;
    label.append(el('code', 'nbops-run-name', p.name), el('span', 'nbops-run-type', p.type));
    const reset = el('button', 'jp-Button jp-mod-minimal nbops-run-field-reset', '↺');
    reset.type = 'button';
    reset.title = `Back to the default: ${p.default_source}`;
    reset.setAttribute('aria-label', `Reset ${p.name} to its default`);
    const top = el('div', 'nbops-run-field-top');
    top.append(label, reset);

    const control = el('div', 'nbops-run-control');
    const inputs: HTMLInputElement[] = [];
    const value = form.values.get(p.name) ?? defaultText(p);
    const kind = inputKind(p);
    const update = (text: string) => {
      form.values.set(p.name, text);
      this._edited();
    };

    if (kind === 'bool' && form.mode === 'run') {
      const input = el('input', 'nbops-run-input');
      input.type = 'checkbox';
      input.id = id;
      input.checked = /^(true|yes|1)$/i.test(value.trim());
      const state = el('span', 'nbops-run-bool-state', input.checked ? 'true' : 'false');
      input.addEventListener('change', () => {
        state.textContent = input.checked ? 'true' : 'false';
        update(input.checked ? 'true' : 'false');
      });
      control.append(input, state);
      inputs.push(input);
    } else if (kind === 'bool') {
      // a sweep of a bool: tick one or both
      const group = el('div', 'nbops-run-bool-group');
      group.setAttribute('role', 'group');
      group.setAttribute('aria-labelledby', label.id);
      const picked = new Set(value.split(',').map(s => s.trim().toLowerCase()));
      label.htmlFor = `${id}-true`;
      for (const choice of ['true', 'false']) {
        const item = el('label', 'nbops-run-bool-choice');
        const input = el('input', 'nbops-run-input nbops-run-bool');
        input.type = 'checkbox';
        input.id = `${id}-${choice}`;
        input.dataset.value = choice;
        input.checked = picked.has(choice);
        input.addEventListener('change', () => {
          update(
            inputs
              .filter(i => i.checked)
              .map(i => i.dataset.value)
              .join(',')
          );
        });
        item.append(input, document.createTextNode(` ${choice}`));
        group.append(item);
        inputs.push(input);
      }
      control.append(group);
    } else {
      const input = el('input', 'nbops-run-input');
      input.id = id;
      input.spellcheck = false;
      input.autocomplete = 'off';
      if (form.mode === 'run' && (kind === 'int' || kind === 'float')) {
        input.type = 'number';
        input.step = kind === 'int' ? '1' : 'any';
        input.inputMode = kind === 'int' ? 'numeric' : 'decimal';
      } else {
        input.type = 'text';
        if (form.mode === 'sweep') {
          input.placeholder = `${defaultText(p) || '""'}, …`;
        } else if (p.type === 'str') {
          input.placeholder = '(empty text)';
        }
      }
      input.value = value;
      // a number input holds '' while what is typed is not a number: "a number is needed"
      input.addEventListener('input', () => update(input.value));
      control.append(input);
      inputs.push(input);
    }

    const describedBy: string[] = [];
    if (p.help) {
      const help = el('div', 'nbops-run-help', p.help);
      help.id = `${id}-help`;
      describedBy.push(help.id);
      root.append(top, control, help);
    } else {
      root.append(top, control);
    }
    const error = el('div', 'nbops-run-field-error');
    error.id = `${id}-error`;
    error.hidden = true;
    describedBy.push(error.id);
    root.append(error);
    for (const input of inputs) {
      input.setAttribute('aria-describedby', describedBy.join(' '));
    }

    reset.addEventListener('click', () => {
      const text = defaultText(p);
      form.values.set(p.name, text);
      if (inputs.length === 1 && inputs[0].type === 'checkbox') {
        inputs[0].checked = text === 'true';
        inputs[0].dispatchEvent(new Event('change'));
        return;
      }
      if (inputs.length === 2) {
        for (const input of inputs) {
          input.checked = input.dataset.value === text;
        }
      } else {
        inputs[0].value = text;
      }
      update(text);
      inputs[0].focus();
    });

    this._fields.set(p.name, { root, inputs, error, reset });
    return root;
  }

  private _parallelField(form: IFormState): HTMLElement {
    const id = `${this._uid}-parallel`;
    const root = el('div', 'nbops-run-option nbops-run-parallel-field');
    const label = el('label', 'nbops-run-label');
    label.htmlFor = id;
    label.append(el('span', undefined, 'Parallel runs'));
    const input = el('input', 'nbops-run-input nbops-run-parallel');
    input.id = id;
    input.type = 'number';
    input.min = '1';
    input.max = String(MAX_PARALLEL);
    input.step = '1';
    input.value = form.parallel;
    input.addEventListener('input', () => {
      form.parallel = input.value;
      this._edited();
    });
    const help = el('div', 'nbops-run-help', 'Runs at a time, each in its own kernel.');
    help.id = `${id}-help`;
    const error = this._optionError(id);
    input.setAttribute('aria-describedby', `${help.id} ${error.id}`);
    root.append(label, input, help, error);
    this._optionFields.set('parallel', { root, inputs: [input], error });
    return root;
  }

  /** The executor select and, for dask, the scheduler address. */
  private _executorField(form: IFormState): HTMLElement {
    const id = `${this._uid}-executor`;
    const root = el('div', 'nbops-run-option nbops-run-executor-field');
    const label = el('label', 'nbops-run-label', 'Executor');
    label.htmlFor = id;
    const select = el('select', 'nbops-run-input nbops-run-executor');
    select.id = id;
    const choices = executorChoices(form.params.executors);
    if (!choices.some(c => c.name === form.executor)) {
      // the project names an executor this server does not have: the check says so
      choices.push({ name: form.executor ?? '', disabled: true, install: null });
    }
    for (const choice of choices) {
      select.append(this._executorOption(choice));
    }
    select.value = form.executor ?? '';
    const help = el(
      'div',
      'nbops-run-help',
      'Where the runs execute: local kernels, or one Dask task per run.'
    );
    help.id = `${id}-help`;
    const error = this._optionError(id);
    select.setAttribute('aria-describedby', `${help.id} ${error.id}`);
    root.append(label, select, help, error);
    this._optionFields.set('executor', { root, inputs: [select], error });

    const schedulerId = `${this._uid}-scheduler`;
    const schedulerRow = el('div', 'nbops-run-option nbops-run-scheduler-field');
    const schedulerLabel = el('label', 'nbops-run-label', 'Scheduler');
    schedulerLabel.htmlFor = schedulerId;
    const input = el('input', 'nbops-run-input nbops-run-scheduler');
    input.id = schedulerId;
    input.type = 'text';
    input.spellcheck = false;
    input.placeholder = 'local cluster';
    input.value = form.scheduler;
    input.addEventListener('input', () => {
      form.scheduler = input.value;
      this._edited();
    });
    const schedulerHelp = el(
      'div',
      'nbops-run-help',
      'The Dask scheduler (tcp://HOST:8786); empty: a cluster on this machine for these runs.'
    );
    schedulerHelp.id = `${schedulerId}-help`;
    const schedulerError = this._optionError(schedulerId);
    input.setAttribute('aria-describedby', `${schedulerHelp.id} ${schedulerError.id}`);
    schedulerRow.append(schedulerLabel, input, schedulerHelp, schedulerError);
    schedulerRow.hidden = !takesScheduler(form.executor);
    this._optionFields.set('scheduler', {
      root: schedulerRow,
      inputs: [input],
      error: schedulerError
    });

    select.addEventListener('change', () => {
      form.executor = select.value;
      schedulerRow.hidden = !takesScheduler(form.executor);
      this._edited();
    });
    const box = el('div', 'nbops-run-executor-box');
    box.append(root, schedulerRow);
    return box;
  }

  private _executorOption(choice: IExecutorChoice): HTMLOptionElement {
    const text = choice.install ? `${choice.name} (not installed: ${choice.install})` : choice.name;
    const option = el('option', undefined, text);
    option.value = choice.name;
    option.disabled = choice.disabled;
    if (choice.install) {
      option.title = `Install it in the Python environment that runs Jupyter: ${choice.install}`;
    }
    return option;
  }

  private _optionsSection(form: IFormState): HTMLElement {
    const details = el('details', 'nbops-run-options');
    details.open = form.optionsOpen;
    this._details = details;
    details.addEventListener('toggle', () => {
      form.optionsOpen = details.open;
    });
    details.append(el('summary', undefined, 'Kernel and timeout'));
    const row = (key: 'kernel' | 'timeout', text: string, help: string): HTMLElement => {
      const id = `${this._uid}-${key}`;
      const root = el('div', 'nbops-run-option');
      const label = el('label', 'nbops-run-label', text);
      label.htmlFor = id;
      const input = el('input', `nbops-run-input nbops-run-${key}`);
      input.id = id;
      input.type = key === 'timeout' ? 'number' : 'text';
      if (key === 'timeout') {
        input.min = '0';
        input.step = 'any';
        input.placeholder = 'no limit';
      } else {
        input.placeholder = "the notebook's";
        input.spellcheck = false;
      }
      input.value = form[key];
      input.addEventListener('input', () => {
        form[key] = input.value;
        this._edited();
      });
      const helpNode = el('div', 'nbops-run-help', help);
      helpNode.id = `${id}-help`;
      const error = this._optionError(id);
      input.setAttribute('aria-describedby', `${helpNode.id} ${error.id}`);
      root.append(label, input, helpNode, error);
      this._optionFields.set(key, { root, inputs: [input], error });
      return root;
    };
    details.append(
      row('kernel', 'Kernel', 'Kernel name (jupyter kernelspec list); empty: the notebook’s.'),
      row('timeout', 'Cell timeout (s)', 'Seconds one cell may run; empty: no limit.')
    );
    return details;
  }

  /** An option's error node, under its input. */
  private _optionError(id: string): HTMLDivElement {
    const error = el('div', 'nbops-run-field-error');
    error.id = `${id}-error`;
    error.hidden = true;
    return error;
  }

  /** The user changed a value: check the form after a pause in typing. */
  private _edited(): void {
    if (this._formPath) {
      this._options.model.clearSubmitError(this._formPath);
    }
    this._check(CHECK_DELAY);
    this._show();
  }

  /** Ask the server to check the form shown (after `delay` ms; latest answer wins). */
  private _check(delay: number): void {
    const path = this._formPath;
    const form = path ? this._forms.get(path) : undefined;
    if (path && form && !this._unavailable) {
      const body = { ...toRunForm(path, form), ...executorFields(form.executor, form.scheduler) };
      this._checker.schedule(body, delay);
    }
  }

  private _onOutcome(outcome: Outcome<IRunForm, IRunFormCheck>): void {
    if (outcome.error !== null && isMissingEndpoint(toApiError(outcome.error))) {
      this._unavailable = true; // an older nbops: POST nbops/runs checks the values
    }
    if (outcome.query.path === this._formPath && outcome.query.mode === this._formMode) {
      this._outcome = outcome;
      this._show();
    }
  }

  /** What the server cannot do and its install line (`.nbops-run-tracking-missing`). */
  private _showMissing(missing: IMissing | null): void {
    const node = this._missing;
    const text = missing ? `${missing.message}|${missing.install}` : '';
    if (!node || node.dataset.text === text) {
      return;
    }
    node.dataset.text = text;
    node.hidden = missing === null;
    node.replaceChildren();
    if (missing) {
      node.append(
        document.createTextNode(
          `${missing.message}. Install it in the Python environment that runs Jupyter: `
        ),
        el('code', undefined, missing.install),
        document.createTextNode(', then restart JupyterLab.')
      );
    }
  }

  /** Show the latest check: each field's error, the form's, the run count; enable Run. */
  private _show(): void {
    const path = this._formPath;
    const params = this._formParams;
    const form = path ? this._forms.get(path) : undefined;
    if (!path || !params || !form) {
      return;
    }
    const state = this._options.model.state(path);
    const outcome = this._outcome;
    const check = outcome?.answer ?? null;
    const errors: { [field: string]: string } = check?.errors ?? {};
    const serverError = state.submitError;
    const names = params.parameters.map(p => p.name);
    const blamed =
      serverError && serverError.status === 400
        ? parameterInMessage(serverError.message, names)
        : null;

    let changed = 0;
    for (const p of params.parameters) {
      const nodes = this._fields.get(p.name);
      if (!nodes) {
        continue;
      }
      const edited = !isDefault(p, form.values.get(p.name) ?? defaultText(p));
      changed += edited ? 1 : 0;
      nodes.root.dataset.changed = String(edited);
      if (nodes.reset) {
        nodes.reset.hidden = !edited;
      }
      markField(nodes, errors[p.name] ?? (blamed === p.name ? serverError!.message : null));
    }
    for (const [key, nodes] of this._optionFields) {
      const message = errors[key] ?? null;
      markField(nodes, message);
      if (message !== null && (key === 'kernel' || key === 'timeout') && this._details) {
        this._details.open = true;
      }
    }

    // the form's own error, and any about a field the form does not show
    const problems = Object.entries(errors)
      .filter(([field]) => !this._fields.has(field) && !this._optionFields.has(field as OptionKey))
      .map(([, message]) => message);
    const text = problems.join('\n');
    if (this._problems.dataset.text !== text) {
      this._problems.dataset.text = text;
      this._problems.replaceChildren(...problems.map(message => el('li', undefined, message)));
    }
    this._showCheckNote(outcome);

    if (this._shownSubmitError !== serverError) {
      this._shownSubmitError = serverError;
      this._formError.replaceChildren();
    }
    if (serverError && this._formError.childElementCount === 0) {
      const node = runErrorNode(serverError, 'start the run');
      node.classList.add('nbops-run-form-error');
      if (blamed) {
        node.dataset.parameter = blamed;
      }
      this._formError.append(node);
    }

    const sweep = form.mode === 'sweep';
    const runs = check?.ok ? check.runs : 0;
    if (sweep) {
      const varying = check?.ok ? axes(check) : [];
      this._count.textContent =
        varying.length > 0
          ? `${plural(runs, 'run')} (${varying.map(([n, k]) => `${n} × ${k}`).join(', ')})`
          : '';
    } else {
      this._count.textContent = changed > 0 ? `${plural(changed, 'value')} changed` : 'defaults';
    }
    const untracked = runMissing(params, serverExtras.current);
    this._showMissing(untracked);
    // a failed check (not an answer) does not block: Run asks again
    const checking = outcome === null && !this._unavailable;
    const invalid = check !== null && !check.ok;
    this._submitButton.disabled =
      checking || invalid || state.submitting || !this._options.model.current || !!untracked;
    this._submitButton.textContent = state.submitting
      ? 'Starting…'
      : sweep
        ? runs > 1
          ? `Sweep ${runs} runs`
          : 'Sweep'
        : form.mode === 'pipeline'
          ? 'Run pipeline'
          : params.parameters.length > 0
            ? 'Run'
            : 'Run as is';
    this._submitButton.title = untracked
      ? `${untracked.message}: ${untracked.install}`
      : checking
        ? 'Checking the values…'
        : invalid
          ? 'Fix the fields marked in red first'
          : sweep
            ? runs > 0
              ? `Start ${plural(runs, 'run')} of the saved notebook in the background`
              : 'Start the sweep of the saved notebook in the background'
            : form.mode === 'pipeline'
              ? 'Run the generated pipeline with these values in the background'
              : 'Run the saved notebook with these values in the background';
  }

  /** Why the values are not checked as they are typed: an older server, or a failed check. */
  private _showCheckNote(outcome: Outcome<IRunForm, IRunFormCheck> | null): void {
    const error = outcome?.error ? toApiError(outcome.error) : null;
    const signature = this._unavailable
      ? 'unavailable'
      : error
        ? `${error.status} ${error.message}`
        : '';
    if (this._checkNote.dataset.signature === signature) {
      return;
    }
    this._checkNote.dataset.signature = signature;
    this._checkNote.replaceChildren();
    this._checkNote.hidden = signature === '';
    if (this._unavailable) {
      this._checkNote.dataset.reason = 'unavailable';
      this._checkNote.setAttribute('role', 'note');
      this._checkNote.append(
        el(
          'div',
          'nbops-error-message',
          'This nbops server cannot check the values before a run (an older nbops): they are ' +
            'checked when the run starts.'
        ),
        el(
          'div',
          'nbops-error-hint',
          'Upgrade nbops in the Python environment that runs Jupyter (`pip install -U nbops`) ' +
            'and restart JupyterLab to see what is wrong as you type.'
        )
      );
    } else if (error) {
      this._checkNote.dataset.reason = 'failed';
      this._checkNote.removeAttribute('role');
      this._checkNote.append(runErrorNode(error, 'check the values'));
    }
  }

  private async _submit(): Promise<void> {
    const path = this._formPath;
    const params = this._formParams;
    const form = path ? this._forms.get(path) : undefined;
    if (!path || !params || !form || runMissing(params, serverExtras.current)) {
      return;
    }
    if (this._options.model.state(path).submitting) {
      return;
    }
    let request: IRunRequest | null = null;
    if (!this._unavailable) {
      if (this._outcome?.error) {
        this._check(0); // the last check failed: ask again
      }
      // the answer of what is typed now, never an older one
      const outcome = await this._checker.flush();
      if (!outcome || this._formPath !== path || outcome.query.path !== path) {
        return;
      }
      if (outcome.answer) {
        if (!outcome.answer.ok || !outcome.answer.request) {
          this._focusInvalid();
          return;
        }
        request = outcome.answer.request;
      } else if (!this._unavailable) {
        return; // the check failed: its error is shown
      }
    }
    const job = await this._options.model.start(
      request ?? fallbackRequest(path, params.parameters, form)
    );
    if (!job) {
      // the server refused: point at the parameter it names
      const error = this._options.model.state(path).submitError;
      const blamed = error
        ? parameterInMessage(
            error.message,
            params.parameters.map(p => p.name)
          )
        : null;
      const nodes = blamed ? this._fields.get(blamed) : undefined;
      nodes?.inputs[0]?.focus();
      return;
    }
    this._options.onStarted(job);
  }

  /** Focus the first field marked invalid. */
  private _focusInvalid(): void {
    const bad = [...this._fields.values(), ...this._optionFields.values()].find(
      f => f.root.dataset.invalid === 'true'
    );
    bad?.inputs[0]?.focus();
  }

  private _options: IFormViewOptions;
  private _uid: string;
  private _forms = new Map<string, IFormState>();
  private _formPath: string | null = null;
  private _formParams: IParamsResponse | null = null;
  private _formMode: FormMode = 'run';
  private _shownSubmitError: NbopsApiError | null = null;
  private _fields = new Map<string, IFieldNodes>();
  private _optionFields = new Map<OptionKey, IFieldNodes<HTMLElement>>();
  private _checker = new LatestCheck<IRunForm, IRunFormCheck>({
    check: api.validateRun,
    onOutcome: outcome => this._onOutcome(outcome),
    delay: CHECK_DELAY
  });
  /** The latest check of the form shown (its texts may be older than what is typed). */
  private _outcome: Outcome<IRunForm, IRunFormCheck> | null = null;
  /** The server has no `POST nbops/runs/validate` (an older nbops). */
  private _unavailable = false;
  private _details: HTMLDetailsElement | null = null;
  private _checkNote!: HTMLDivElement;
  private _cellLink: HTMLButtonElement;
  private _paramsBox: HTMLDivElement;
  private _missing: HTMLDivElement | null = null;
  private _problems!: HTMLUListElement;
  private _formError!: HTMLDivElement;
  private _reset!: HTMLButtonElement;
  private _count!: HTMLSpanElement;
  private _submitButton!: HTMLButtonElement;
}

/**
 * The "Run" tab of the nbops sidebar: run the current notebook with parameters (papermill on
 * the server, tracked in MLflow), follow the runs still going, and browse its run history.
 *
 * - The form comes from the saved notebook's parameters cell (`GET nbops/params`): one typed
 *   input per parameter with its default and help text. "Sweep" turns every field into a
 *   comma-separated list of values (one run per combination) and adds "parallel runs".
 * - Running jobs show a progress bar (done / failed / running of total) and a Stop button;
 *   `RunsModel` polls them. After a reload `GET nbops/runs` brings them back.
 * - The history lists the notebook's runs (sweeps with their runs nested): status, parameters,
 *   metrics, duration. A click opens the executed notebook; "MLflow" opens the run's page in
 *   the MLflow UI (`nbops ui`, setting `mlflowUiUrl`).
 *
 * Plain Lumino widget + DOM. Stable hooks for browser tests:
 *   .nbops-run-panel                                 this tab
 *   .nbops-run-notebook[data-path]                   the notebook it follows
 *   .nbops-run-refresh                               read parameters and history again
 *   .nbops-run-unsaved, .nbops-run-save              unsaved changes (runs use the saved file)
 *   .nbops-run-status                                one-line summary (aria-live)
 *   .nbops-run-params-message                        no parameters cell: why and how to fix
 *   .nbops-run-params-note                           a note about the parameters cell
 *   .nbops-run-tracking-missing                      MLflow is not installed on the server:
 *                                                    Run / Sweep disabled, the install hint
 *   .nbops-run-goto-cell                             go to the parameters cell
 *   .nbops-run-form[data-mode]                       the form: data-mode="run" | "sweep"
 *   .nbops-run-mode-run, .nbops-run-mode-sweep       the mode switch (role=radio)
 *   .nbops-run-field[data-name][data-type][data-changed][data-invalid]   one parameter
 *     input.nbops-run-input                          its input (checkboxes in a sweep of a bool:
 *                                                    input.nbops-run-bool[data-value])
 *     .nbops-run-help, .nbops-run-field-error        help text; what is wrong with the value
 *     .nbops-run-field-reset                         back to the default (when changed)
 *   input.nbops-run-parallel                         parallel runs (sweeps)
 *   input.nbops-run-kernel, input.nbops-run-timeout  options
 *   .nbops-run-problems                              form-level problems
 *   .nbops-run-form-error[data-error][data-status][data-parameter]   the server refused
 *   .nbops-run-reset, .nbops-run-count               reset to defaults; how many runs
 *   .nbops-run-submit[data-mode]                     "Run" / "Sweep"
 *   .nbops-run-job[data-job-id][data-kind][data-state]   a job (running, or just ended)
 *     .nbops-run-progress[role=progressbar]          done / failed / running of total
 *     .nbops-run-stop                                Stop (running jobs)
 *   .nbops-run-history                               the run history
 *     .nbops-run-when                                when a run started (date and time)
 *   .nbops-run-sweep[data-run-id][data-status]       a sweep (its runs nested)
 *   .nbops-run-record[data-run-id][data-status][data-output]   a run; click opens `output`
 *     .nbops-run-record-params, .nbops-run-metric[data-name][data-value], .nbops-run-duration
 *     .nbops-run-open, a.nbops-run-mlflow            open the executed notebook; its MLflow page
 *   .nbops-run-error[data-error][data-status]        an error (data-error="server_missing"
 *                                                    without the server extension)
 *   .nbops-run-tracking                              the tracking store and the MLflow UI
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { isMissingEndpoint, type NbopsApiError } from '../api';
import {
  checkForm,
  DEFAULT_PARALLEL,
  defaultText,
  defaultValues,
  firstValue,
  inputKind,
  MAX_PARALLEL,
  parameterInMessage,
  typeWords,
  type FormMode,
  type IFormCheck,
  type IFormValues
} from '../runform';
import type { IRunsState, RunsModel } from '../runs';
import type {
  IJob,
  IParameter,
  IParamsResponse,
  IRunRecord,
  IRunRequest,
  IRunsResponse,
  ISettings
} from '../tokens';
import { button, el, plural } from './dom';

export interface IRunPanelOptions {
  model: RunsModel;
  /** The current settings (`mlflowUiUrl`). */
  settings: () => ISettings;
  /** Open a root-relative path in JupyterLab (an executed notebook). */
  onOpen: (path: string) => void;
  /** Make a cell (0-based index) of the notebook the active one. */
  onGoToCell: (panel: NotebookPanel, index: number) => void;
  /** Save the notebook (runs use the saved file). */
  onSave: (panel: NotebookPanel) => void;
}

/** The form of one notebook: what the user typed, kept while they switch notebooks. */
interface IFormState extends IFormValues {
  params: IParamsResponse;
  optionsOpen: boolean;
}

interface IFieldNodes {
  root: HTMLElement;
  inputs: HTMLInputElement[];
  error: HTMLElement;
  reset: HTMLButtonElement;
}

// -- formatting ------------------------------------------------------------------------------

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '';
  }
  if (seconds < 10) {
    return `${seconds.toFixed(1)} s`;
  }
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  const s = Math.round(seconds);
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  }
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function formatNumber(value: number | null): string {
  if (value === null) {
    return 'NaN'; // the server sends NaN and infinities as null
  }
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  return String(Number(value.toPrecision(4)));
}

/**
 * A moment as `2026-12-06 18:20` in the browser's time zone (always with its date: a history
 * spans days); `title` is the full date and time with seconds and the time zone.
 */
export function formatWhen(iso: string | null): { text: string; title: string } {
  if (!iso) {
    return { text: '', title: '' };
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return { text: iso, title: iso };
  }
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const text = `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const title = date.toLocaleString([], {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short'
  });
  return { text, title };
}

/** Why runs cannot start on this server (MLflow missing), or null when they can. */
function trackingMissing(params: IParamsResponse | null): string | null {
  const tracking = params?.tracking;
  if (!tracking || tracking.available) {
    return null;
  }
  const message = tracking.message || 'MLflow is not installed on the Jupyter server';
  return tracking.hint ? `${message}: ${tracking.hint}` : message;
}

function elapsed(job: IJob): number | null {
  const start = Date.parse(job.started);
  const end = job.ended ? Date.parse(job.ended) : Date.now();
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, (end - start) / 1000);
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function paramsText(params: { [name: string]: unknown }): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${valueText(value)}`)
    .join(' · ');
}

function requestText(request: IRunRequest | undefined): string {
  if (!request) {
    return '';
  }
  const parts = Object.entries(request.parameters ?? {}).map(
    ([name, value]) => `${name}=${valueText(value)}`
  );
  for (const [name, values] of Object.entries(request.grid ?? {})) {
    parts.push(`${name} ∈ {${values.map(valueText).join(', ')}}`);
  }
  return parts.length > 0 ? parts.join(' · ') : 'defaults';
}

/** A job that could not do its work (not one whose runs failed: those have no `error`). */
function failedToWork(job: IJob): boolean {
  return job.state === 'failed' && job.error !== null;
}

function statusClass(status: string): string {
  return `nbops-run-badge nbops-run-badge-${status.toLowerCase().replace(/[^a-z]/g, '')}`;
}

/** The MLflow UI's page of a run. */
export function mlflowRunUrl(base: string, record: IRunRecord): string {
  const root = base.trim().replace(/\/+$/, '');
  return (
    `${root}/#/experiments/${encodeURIComponent(record.experiment_id)}` +
    `/runs/${encodeURIComponent(record.run_id)}`
  );
}

/** An error in plain words: what went wrong and what to do. */
export function runErrorNode(error: NbopsApiError, what: string): HTMLElement {
  const node = el('div', 'nbops-run-error');
  node.dataset.error = error.error;
  node.dataset.status = String(error.status);
  node.setAttribute('role', 'alert');
  let message = error.message;
  let hint = error.hint;
  if (error.serverMissing) {
    message = `Cannot ${what}: the nbops server extension is not available.`;
  } else if (isMissingEndpoint(error)) {
    message = `Cannot ${what}: this nbops server has no run endpoints (an older nbops).`;
    hint =
      'Upgrade nbops in the Python environment that runs Jupyter (`pip install -U nbops`), ' +
      'then restart JupyterLab.';
  } else if (error.status === 403) {
    message = `Not allowed to ${what}: the Jupyter server refused (403). ${error.message}`;
    hint =
      hint ??
      'Your Jupyter user may not run notebooks here, or the session expired: reload the page ' +
        'and log in again.';
  } else if (error.status === 0 && error.error === 'network') {
    hint = hint ?? 'Is the Jupyter server still running?';
  }
  node.append(el('div', 'nbops-error-message', message));
  if (error.path) {
    node.append(el('div', 'nbops-error-where', error.path));
  }
  if (hint) {
    node.append(el('div', 'nbops-error-hint', hint));
  }
  return node;
}

let instances = 0;

// -- the panel -------------------------------------------------------------------------------

export class RunPanel extends Widget {
  constructor(options: IRunPanelOptions) {
    super();
    this._options = options;
    this._uid = `nbops-run-${++instances}`;
    this.id = 'nbops-run-tabpanel';
    this.addClass('nbops-run-panel');
    this.title.label = 'Run';
    this.title.caption = 'Run the notebook with parameters';
    this._build();

    const model = options.model;
    model.changed.connect((_, path) => {
      if (path === this._path()) {
        this._render();
      }
    }, this);
    model.currentChanged.connect(() => {
      this._watch(model.current);
      if (this.isVisible) {
        this._load();
      }
      this._render();
    }, this);
    this._watch(model.current);
    this._render();
  }

  /** The number of running jobs of the current notebook (for the tab's badge). */
  get runningChanged(): ISignal<this, number> {
    return this._runningChanged;
  }

  /** The settings changed (the MLflow URL): draw the links again. */
  refreshSettings(): void {
    this._recordCache.clear();
    this._sweepCache.clear();
    this._tracking.dataset.signature = '';
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._watch(null);
    Signal.clearData(this);
    super.dispose();
  }

  protected onAfterShow(): void {
    this._load();
    this._render();
  }

  // -- what to show ----------------------------------------------------------------------------

  private _path(): string | null {
    return this._options.model.current?.context.localPath ?? null;
  }

  /** Read the parameters (first time, or after an error) and the history (every time). */
  private _load(): void {
    const path = this._path();
    if (!path) {
      return;
    }
    const model = this._options.model;
    const state = model.state(path);
    if ((!state.params || state.paramsError) && !state.paramsLoading) {
      void model.loadParams(path);
    }
    void model.loadHistory(path);
  }

  /** Follow the current notebook's dirty flag and path. */
  private _watch(panel: NotebookPanel | null): void {
    if (this._watched === panel) {
      return;
    }
    if (this._watched) {
      this._watched.context.model?.stateChanged.disconnect(this._onModelState, this);
      this._watched.context.pathChanged.disconnect(this._onPath, this);
    }
    this._watched = panel;
    if (panel) {
      panel.context.pathChanged.connect(this._onPath, this);
      void panel.context.ready.then(() => {
        if (this._watched === panel && !panel.isDisposed) {
          panel.context.model.stateChanged.connect(this._onModelState, this);
          this._renderUnsaved();
        }
      });
    }
  }

  private _onModelState(_: unknown, change: { name: string }): void {
    if (change.name === 'dirty') {
      this._renderUnsaved();
    }
  }

  private _onPath(): void {
    if (this.isVisible) {
      this._load();
    }
    this._render();
  }

  // -- skeleton --------------------------------------------------------------------------------

  private _build(): void {
    const header = el('div', 'nbops-run-header');
    this._notebook = el('div', 'nbops-run-notebook');
    this._refresh = el('button', 'jp-Button jp-mod-minimal nbops-run-refresh', '↻');
    this._refresh.type = 'button';
    this._refresh.title = 'Read the parameters cell and the run history again';
    this._refresh.setAttribute('aria-label', this._refresh.title);
    this._refresh.addEventListener('click', () => {
      const path = this._path();
      if (path) {
        void this._options.model.load(path);
      }
    });
    header.append(this._notebook, this._refresh);

    this._unsaved = el('div', 'nbops-run-unsaved');
    this._unsaved.append(el('span', undefined, 'Unsaved changes: runs use the saved notebook. '));
    const save = el('button', 'jp-Button jp-mod-minimal nbops-run-save', 'Save now');
    save.type = 'button';
    save.addEventListener('click', () => {
      const panel = this._options.model.current;
      if (panel) {
        this._options.onSave(panel);
      }
    });
    this._unsaved.append(save);
    this._unsaved.hidden = true;

    this._status = el('div', 'nbops-run-status');
    this._status.setAttribute('aria-live', 'polite');
    this._status.setAttribute('role', 'status');

    const body = el('div', 'nbops-run-body');

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

    this._activity = el('section', 'nbops-run-section nbops-run-activity');
    this._activity.setAttribute('aria-label', 'Runs going on');
    this._jobsList = el('ul', 'nbops-run-jobs');
    this._activity.append(el('h3', 'nbops-run-heading', 'Running'), this._jobsList);
    this._activity.hidden = true;

    const history = el('section', 'nbops-run-section nbops-run-history-section');
    const historyHeading = el('h3', 'nbops-run-heading');
    historyHeading.append(el('span', undefined, 'History'));
    this._historyCount = el('span', 'nbops-run-count-badge');
    this._historySpinner = el('span', 'nbops-run-spinner');
    this._historySpinner.setAttribute('aria-label', 'Loading the history');
    this._historySpinner.hidden = true;
    historyHeading.append(this._historyCount, this._historySpinner);
    this._historyError = el('div', 'nbops-run-history-error');
    this._historyList = el('ul', 'nbops-run-history');
    this._historyList.setAttribute('aria-label', 'Run history');
    this._historyEmpty = el('div', 'nbops-run-empty');
    this._tracking = el('div', 'nbops-run-tracking');
    history.append(
      historyHeading,
      this._historyError,
      this._historyList,
      this._historyEmpty,
      this._tracking
    );

    body.append(paramsSection, this._activity, history);
    this._body = body;
    this.node.append(header, this._unsaved, this._status, body);
  }

  // -- rendering ---------------------------------------------------------------------------------

  private _render(): void {
    if (this.isDisposed) {
      return;
    }
    const panel = this._options.model.current;
    const path = this._path();
    if (!panel || !path) {
      this._notebook.textContent = 'No notebook open';
      this._notebook.title = '';
      delete this._notebook.dataset.path;
      this._refresh.disabled = true;
      this._unsaved.hidden = true;
      this._setStatus('Open a notebook to run it with parameters.');
      this._body.hidden = true;
      this._formPath = null;
      this._formParams = null;
      this._runningChanged.emit(0);
      return;
    }
    this._body.hidden = false;
    this._refresh.disabled = false;
    this._notebook.textContent = path;
    this._notebook.title = path;
    this._notebook.dataset.path = path;
    this._renderUnsaved();

    const state = this._options.model.state(path);
    this._renderParams(path, state);
    const jobs = this._visibleJobs(path, state);
    this._renderJobs(jobs);
    this._renderHistory(state);
    this._renderStatus(state, jobs);
    this._runningChanged.emit(jobs.filter(j => j.state === 'running').length);
  }

  private _renderUnsaved(): void {
    const panel = this._options.model.current;
    this._unsaved.hidden = !(panel && panel.context.isReady && panel.context.model.dirty);
  }

  private _setStatus(text: string): void {
    if (this._status.textContent !== text) {
      this._status.textContent = text;
    }
  }

  private _renderStatus(state: IRunsState, jobs: IJob[]): void {
    const running = jobs.filter(j => j.state === 'running');
    if (state.submitting) {
      this._setStatus('Starting…');
    } else if (running.length > 0) {
      const parts = running.map(job =>
        job.kind === 'sweep'
          ? `sweep ${job.done} of ${job.total} done` +
            (job.failed > 0 ? `, ${job.failed} failed` : '')
          : 'run in progress'
      );
      this._setStatus(`Running: ${parts.join('; ')}.`);
    } else if (state.jobs.length > 0 && state.jobs[0].state !== 'running') {
      // the newest job of this server ended: say how (announced by screen readers)
      const job = state.jobs[0];
      const what = job.kind === 'sweep' ? 'Sweep' : 'Run';
      const counts =
        job.kind === 'sweep'
          ? `: ${job.done - job.failed} finished, ${job.failed} failed of ${job.total}`
          : '';
      this._setStatus(`${what} ${job.state}${counts}.`);
    } else {
      this._setStatus('');
    }
  }

  // -- the form ----------------------------------------------------------------------------------

  private _renderParams(path: string, state: IRunsState): void {
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
    this._validate();
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
    const form: IFormState = {
      params,
      mode: old?.mode ?? 'run',
      values,
      parallel: old?.parallel ?? DEFAULT_PARALLEL,
      kernel: old?.kernel ?? '',
      timeout: old?.timeout ?? '',
      optionsOpen: old?.optionsOpen ?? false
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
    if (params.tracking && !params.tracking.available) {
      // runs are tracked in MLflow: without it the server refuses them (503)
      const missing = el('div', 'nbops-run-tracking-missing');
      missing.setAttribute('role', 'note');
      missing.append(
        document.createTextNode(
          `${params.tracking.message || 'MLflow is not installed on the Jupyter server'}. ` +
            'Install it in the Python environment that runs Jupyter: '
        ),
        el('code', undefined, params.tracking.hint || 'pip install nbops[tracking]'),
        document.createTextNode(', then restart JupyterLab.')
      );
      box.append(missing);
    }

    const formNode = el('form', 'nbops-run-form');
    formNode.noValidate = true;
    formNode.dataset.mode = form.mode;
    formNode.setAttribute('aria-label', `Run ${path}`);
    formNode.addEventListener('submit', event => {
      event.preventDefault();
      void this._submit();
    });

    const hasParams = params.parameters.length > 0;
    if (hasParams) {
      formNode.append(this._modeSwitch(form));
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
    formNode.append(this._optionsSection(form));

    this._problems = el('ul', 'nbops-run-problems');
    this._formError = el('div', 'nbops-run-form-error-box');
    const actions = el('div', 'nbops-run-actions');
    this._reset = el('button', 'nbops-run-reset', 'Reset to defaults');
    this._reset.type = 'button';
    this._reset.title = "Put every field back to the notebook's default";
    this._reset.addEventListener('click', () => {
      form.values = defaultValues(params.parameters);
      this._options.model.clearSubmitError(path);
      this._buildForm(path, form);
      this._validate();
    });
    this._reset.hidden = !hasParams;
    this._count = el('span', 'nbops-run-count');
    this._submitButton = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-accept nbops-run-submit',
      form.mode === 'sweep' ? 'Sweep' : hasParams ? 'Run' : 'Run as is'
    );
    this._submitButton.type = 'submit';
    this._submitButton.dataset.mode = form.mode;
    actions.append(this._reset, this._count, this._submitButton);
    formNode.append(this._problems, this._formError, actions);
    box.append(formNode);
  }

  private _modeSwitch(form: IFormState): HTMLElement {
    const group = el('div', 'nbops-run-modes');
    group.setAttribute('role', 'radiogroup');
    group.setAttribute('aria-label', 'Run or sweep');
    const modes: Array<[FormMode, string, string]> = [
      ['run', 'Single run', 'One run with these values'],
      ['sweep', 'Sweep', 'Several values per field: one run per combination, some in parallel']
    ];
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
        const next: FormMode = form.mode === 'run' ? 'sweep' : 'run';
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
    if (mode === 'run') {
      // a single run takes each field's first value
      for (const p of form.params.parameters) {
        form.values.set(p.name, firstValue(p, form.values.get(p.name) ?? defaultText(p)));
      }
    }
    form.mode = mode;
    this._options.model.clearSubmitError(this._formPath);
    this._buildForm(this._formPath, form);
    this._validate();
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
      if (this._formPath) {
        this._options.model.clearSubmitError(this._formPath);
      }
      this._validate();
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
      this._validate();
    });
    const help = el('div', 'nbops-run-help', 'Runs at a time, each in its own kernel.');
    help.id = `${id}-help`;
    input.setAttribute('aria-describedby', help.id);
    root.append(label, input, help);
    return root;
  }

  private _optionsSection(form: IFormState): HTMLElement {
    const details = el('details', 'nbops-run-options');
    details.open = form.optionsOpen;
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
        this._validate();
      });
      const helpNode = el('div', 'nbops-run-help', help);
      helpNode.id = `${id}-help`;
      input.setAttribute('aria-describedby', helpNode.id);
      root.append(label, input, helpNode);
      return root;
    };
    details.append(
      row('kernel', 'Kernel', 'Kernel name (jupyter kernelspec list); empty: the notebook’s.'),
      row('timeout', 'Cell timeout (s)', 'Seconds one cell may run; empty: no limit.')
    );
    return details;
  }

  /** Check the form, mark the fields, enable or disable the submit button. */
  private _validate(): IFormCheck | null {
    const path = this._formPath;
    const params = this._formParams;
    if (!path || !params) {
      return null;
    }
    const form = this._forms.get(path)!;
    const check = checkForm(path, params.parameters, form);
    const state = this._options.model.state(path);
    const serverError = state.submitError;
    const names = params.parameters.map(p => p.name);
    const blamed =
      serverError && serverError.status === 400
        ? parameterInMessage(serverError.message, names)
        : null;

    for (const p of params.parameters) {
      const nodes = this._fields.get(p.name);
      const field = check.fields.get(p.name);
      if (!nodes || !field) {
        continue;
      }
      const message = field.error ?? (blamed === p.name ? serverError!.message : null);
      nodes.root.dataset.changed = String(field.changed);
      nodes.root.dataset.invalid = String(message !== null);
      nodes.reset.hidden = !field.changed;
      nodes.error.hidden = message === null;
      nodes.error.textContent = message ?? '';
      for (const input of nodes.inputs) {
        input.setAttribute('aria-invalid', String(message !== null));
      }
    }

    const problems = check.problems.join('\n');
    if (this._problems.dataset.text !== problems) {
      this._problems.dataset.text = problems;
      this._problems.replaceChildren(...check.problems.map(text => el('li', undefined, text)));
    }

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
    if (sweep) {
      this._count.textContent =
        check.axes.length > 0
          ? `${plural(check.runs, 'run')} ` +
            `(${check.axes.map(([n, k]) => `${n} × ${k}`).join(', ')})`
          : '';
    } else {
      const changed = [...check.fields.values()].filter(f => f.changed).length;
      this._count.textContent = changed > 0 ? `${plural(changed, 'value')} changed` : 'defaults';
    }
    const untracked = trackingMissing(params);
    const blocked =
      check.request === null ||
      state.submitting ||
      !this._options.model.current ||
      untracked !== null;
    this._submitButton.disabled = blocked;
    this._submitButton.textContent = state.submitting
      ? 'Starting…'
      : sweep
        ? check.runs > 1
          ? `Sweep ${check.runs} runs`
          : 'Sweep'
        : params.parameters.length > 0
          ? 'Run'
          : 'Run as is';
    this._submitButton.title = untracked
      ? untracked
      : check.request
        ? sweep
          ? `Start ${plural(check.runs, 'run')} of the saved notebook in the background`
          : 'Run the saved notebook with these values in the background'
        : 'Fix the fields marked in red first';
    return check;
  }

  private async _submit(): Promise<void> {
    const check = this._validate();
    const path = this._formPath;
    if (!check || !path || trackingMissing(this._formParams)) {
      return;
    }
    if (!check.request) {
      const bad = [...this._fields.values()].find(f => f.root.dataset.invalid === 'true');
      bad?.inputs[0]?.focus();
      return;
    }
    const job = await this._options.model.start(check.request);
    if (!job) {
      // the server refused: point at the parameter it names
      const state = this._options.model.state(path);
      const error = state.submitError;
      const blamed =
        error && this._formParams
          ? parameterInMessage(
              error.message,
              this._formParams.parameters.map(p => p.name)
            )
          : null;
      const nodes = blamed ? this._fields.get(blamed) : undefined;
      nodes?.inputs[0]?.focus();
      return;
    }
    // show the new job (below the form when it is long)
    requestAnimationFrame(() => {
      this._jobsList
        .querySelector<HTMLElement>(`.nbops-run-job[data-job-id="${CSS.escape(job.id)}"]`)
        ?.scrollIntoView({ block: 'nearest' });
    });
  }

  // -- running jobs ------------------------------------------------------------------------------

  /** Running jobs, jobs that just ended (until the history has their runs), and errors. */
  private _visibleJobs(path: string, state: IRunsState): IJob[] {
    const model = this._options.model;
    return state.jobs.filter(
      job =>
        job.path === path &&
        (job.state === 'running' ||
          model.settling(job.id) ||
          (failedToWork(job) && !this._dismissed.has(job.id)))
    );
  }

  private _renderJobs(jobs: IJob[]): void {
    this._activity.hidden = jobs.length === 0;
    const nodes = jobs.map(job => this._job(job));
    replaceIfChanged(this._jobsList, nodes);
  }

  /** A job's entry; rebuilt only when the job changed (the elapsed time is updated in place). */
  private _job(job: IJob): HTMLElement {
    const request = this._options.model.request(job.id);
    const stopping = this._stopping.has(job.id) && job.state === 'running';
    const signature = JSON.stringify([job, request ?? null, stopping]);
    const cached = this._jobCache.get(job.id);
    if (cached && cached.signature === signature) {
      cached.duration.textContent = formatDuration(elapsed(job));
      return cached.node;
    }
    const li = el('li', 'nbops-run-job');
    li.dataset.jobId = job.id;
    li.dataset.kind = job.kind;
    li.dataset.state = job.state;

    const top = el('div', 'nbops-run-job-top');
    top.append(el('span', statusClass(job.state), job.state));
    const title = job.kind === 'sweep' ? `Sweep of ${plural(job.total, 'run')}` : 'Run';
    top.append(el('span', 'nbops-run-job-title', title));
    const duration = el('span', 'nbops-run-duration', formatDuration(elapsed(job)));
    duration.title = `started ${formatWhen(job.started).title}`;
    top.append(duration);
    if (job.state === 'running') {
      const stop = button(
        'jp-mod-warn nbops-run-stop',
        stopping ? 'Stopping…' : 'Stop',
        'Stop: no new runs start, running kernels are stopped, finished runs stay recorded'
      );
      stop.disabled = stopping;
      stop.addEventListener('click', async () => {
        this._stopping.add(job.id);
        this._render();
        const error = await this._options.model.cancel(job);
        if (error) {
          this._stopping.delete(job.id);
          this._jobErrors.set(job.id, error);
          this._render();
        }
      });
      top.append(stop);
    } else if (failedToWork(job)) {
      const dismiss = el('button', 'jp-Button jp-mod-minimal nbops-run-dismiss', '×');
      dismiss.type = 'button';
      dismiss.title = 'Hide this message';
      dismiss.setAttribute('aria-label', 'Hide this message');
      dismiss.addEventListener('click', () => {
        this._dismissed.add(job.id);
        this._render();
      });
      top.append(dismiss);
    }
    li.append(top);

    const what = requestText(request);
    if (what) {
      const params = el('div', 'nbops-run-record-params', what);
      params.title = what;
      li.append(params);
    }

    // progress of total: finished | failed | running (`done` counts every run that ended,
    // `failed` those of them that did not finish)
    const total = Math.max(job.total, 1);
    const finished = Math.max(0, job.done - job.failed);
    const bar = el('div', 'nbops-run-progress');
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', String(job.total));
    bar.setAttribute('aria-valuenow', String(job.done));
    const counts = [`${job.done} of ${job.total} ended`];
    if (job.failed > 0) {
      counts.push(`${job.failed} failed`);
    }
    if (job.running > 0) {
      counts.push(`${job.running} running`);
    }
    bar.setAttribute('aria-valuetext', counts.join(', '));
    bar.setAttribute('aria-label', `Progress of the ${job.kind}`);
    for (const [kind, n] of [
      ['done', finished],
      ['failed', job.failed],
      ['running', job.running]
    ] as Array<[string, number]>) {
      if (n > 0) {
        const segment = el('div', `nbops-run-progress-${kind}`);
        segment.style.width = `${(100 * n) / total}%`;
        bar.append(segment);
      }
    }
    li.append(bar);
    li.append(el('div', 'nbops-run-job-counts', counts.join(' · ')));

    if (job.error) {
      const error = el('div', 'nbops-run-job-error', job.error);
      error.setAttribute('role', 'alert');
      li.append(error);
    }
    const stopError = this._jobErrors.get(job.id);
    if (stopError) {
      li.append(runErrorNode(stopError, 'stop the job'));
    }
    this._jobCache.set(job.id, { signature, node: li, duration });
    return li;
  }

  // -- history -----------------------------------------------------------------------------------

  private _renderHistory(state: IRunsState): void {
    this._historySpinner.hidden = !state.historyLoading;
    this._historyError.replaceChildren();
    if (state.historyError) {
      this._historyError.append(runErrorNode(state.historyError, 'read the run history'));
    }
    const history = state.history;
    if (!history) {
      this._historyCount.textContent = '';
      replaceIfChanged(this._historyList, []);
      this._historyEmpty.textContent = '';
      this._tracking.replaceChildren();
      return;
    }
    const children = new Map<string, IRunRecord[]>();
    const ids = new Set(history.runs.map(r => r.run_id));
    for (const record of history.runs) {
      if (record.parent_run_id && ids.has(record.parent_run_id)) {
        const list = children.get(record.parent_run_id) ?? [];
        list.push(record);
        children.set(record.parent_run_id, list);
      }
    }
    const nodes: HTMLElement[] = [];
    let shown = 0;
    for (const record of history.runs) {
      if (record.parent_run_id && ids.has(record.parent_run_id)) {
        continue; // nested under its sweep
      }
      const kids = children.get(record.run_id);
      nodes.push(kids ? this._sweep(history, record, kids) : this._record(history, record));
      shown += kids ? kids.length : 1;
    }
    replaceIfChanged(this._historyList, nodes);
    this._historyCount.textContent = history.runs.length > 0 ? String(shown) : '';
    const missing = history.tracking.available === false;
    this._historyEmpty.textContent =
      history.runs.length > 0
        ? ''
        : missing
          ? `${history.tracking.message || 'MLflow is not installed'}: no history to show ` +
            `(${history.tracking.hint || 'pip install nbops[tracking]'}).`
          : 'No runs of this notebook yet.';
    this._historyEmpty.hidden = history.runs.length > 0;
    this._renderTracking(history);
  }

  private _renderTracking(history: IRunsResponse): void {
    const base = this._options.settings().mlflowUiUrl;
    const signature = JSON.stringify([history.tracking, base]);
    if (this._tracking.dataset.signature === signature) {
      return;
    }
    this._tracking.dataset.signature = signature;
    this._tracking.replaceChildren();
    const store = el('div', 'nbops-run-tracking-store');
    store.append(document.createTextNode('Tracked in '));
    const uri = el('code', undefined, history.tracking.uri);
    store.append(uri);
    const ui = el('div', 'nbops-run-tracking-ui');
    ui.append(document.createTextNode('MLflow links open '));
    const link = el('a', 'nbops-run-mlflow-home', base);
    link.href = base;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    ui.append(link, document.createTextNode(': start the UI with '));
    ui.append(el('code', undefined, history.tracking.ui_command || 'nbops ui'));
    ui.append(document.createTextNode(' (the URL is the "MLflow UI URL" setting).'));
    this._tracking.append(store, ui);
  }

  private _sweep(history: IRunsResponse, record: IRunRecord, kids: IRunRecord[]): HTMLElement {
    const collapsed = this._collapsed.has(record.run_id);
    const base = this._options.settings().mlflowUiUrl;
    const signature = JSON.stringify([
      record,
      kids,
      collapsed,
      base,
      formatWhen(record.start_time).text
    ]);
    const cached = this._sweepCache.get(record.run_id);
    if (cached && cached.signature === signature) {
      return cached.node;
    }
    const li = el('li', 'nbops-run-sweep');
    li.dataset.runId = record.run_id;
    li.dataset.status = record.status;
    const top = el('div', 'nbops-run-sweep-top');
    const toggle = el(
      'button',
      'jp-Button jp-mod-minimal nbops-run-sweep-toggle',
      collapsed ? '▸' : '▾'
    );
    toggle.type = 'button';
    toggle.setAttribute('aria-expanded', String(!collapsed));
    toggle.setAttribute('aria-label', `${collapsed ? 'Show' : 'Hide'} the runs of this sweep`);
    toggle.addEventListener('click', () => {
      if (this._collapsed.has(record.run_id)) {
        this._collapsed.delete(record.run_id);
      } else {
        this._collapsed.add(record.run_id);
      }
      this._render();
    });
    const failed = kids.filter(k => k.status === 'FAILED').length;
    top.append(
      toggle,
      el('span', statusClass(record.status), record.status),
      el(
        'span',
        'nbops-run-job-title',
        `Sweep · ${plural(kids.length, 'run')}${failed > 0 ? `, ${failed} failed` : ''}`
      )
    );
    const duration = formatDuration(record.duration_s);
    if (duration) {
      top.append(el('span', 'nbops-run-duration', duration));
    }
    li.append(top);
    li.append(this._recordBottom(record, base, history));
    const ul = el('ul', 'nbops-run-sweep-children');
    ul.hidden = collapsed;
    for (const kid of kids) {
      ul.append(this._record(history, kid));
    }
    li.append(ul);
    this._sweepCache.set(record.run_id, { signature, node: li });
    return li;
  }

  private _record(history: IRunsResponse, record: IRunRecord): HTMLElement {
    const base = this._options.settings().mlflowUiUrl;
    const signature = JSON.stringify([record, base, formatWhen(record.start_time).text]);
    const cached = this._recordCache.get(record.run_id);
    if (cached && cached.signature === signature) {
      return cached.node;
    }
    const li = el('li', 'nbops-run-record');
    li.dataset.runId = record.run_id;
    li.dataset.status = record.status;
    if (record.output) {
      li.dataset.output = record.output;
    }

    const top = el('div', 'nbops-run-record-top');
    top.append(el('span', statusClass(record.status), record.status));
    const params = paramsText(record.params);
    const paramsNode = el('span', 'nbops-run-record-params', params || 'defaults');
    paramsNode.title = params
      ? Object.entries(record.params)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n')
      : 'the notebook’s defaults';
    top.append(paramsNode);
    const duration = formatDuration(record.duration_s);
    if (duration) {
      top.append(el('span', 'nbops-run-duration', duration));
    }
    li.append(top);

    const metrics = Object.entries(record.metrics).sort(([a], [b]) => a.localeCompare(b));
    if (metrics.length > 0) {
      const box = el('div', 'nbops-run-record-metrics');
      for (const [name, value] of metrics.slice(0, 6)) {
        const metric = el('span', 'nbops-run-metric');
        metric.dataset.name = name;
        metric.dataset.value = String(value);
        metric.title = `${name} = ${value}`;
        metric.append(
          el('span', 'nbops-run-metric-name', name),
          el('span', 'nbops-run-metric-value', formatNumber(value))
        );
        box.append(metric);
      }
      if (metrics.length > 6) {
        const more = el('span', 'nbops-run-metric-more', `+${metrics.length - 6}`);
        more.title = metrics
          .slice(6)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n');
        box.append(more);
      }
      li.append(box);
    }

    if (record.status === 'FAILED') {
      const tags = record.tags;
      const parts: string[] = [];
      if (tags['nbops.failed_cell']) {
        parts.push(`cell ${tags['nbops.failed_cell']}`);
      }
      const error = [tags['nbops.error_name'], tags['nbops.error_message']]
        .filter(Boolean)
        .join(': ');
      if (error) {
        parts.push(error);
      }
      if (parts.length > 0) {
        const node = el('div', 'nbops-run-record-error', `Failed in ${parts.join(': ')}`);
        node.title = node.textContent ?? '';
        li.append(node);
      }
    }

    li.append(this._recordBottom(record, base, history));

    if (record.output) {
      const output = record.output;
      li.classList.add('nbops-clickable');
      li.title = `Open the executed notebook ${output}`;
      li.addEventListener('click', () => this._options.onOpen(output));
    } else {
      li.title = 'The executed notebook is not under the Jupyter root (or was not written)';
    }
    this._recordCache.set(record.run_id, { signature, node: li });
    return li;
  }

  private _recordBottom(record: IRunRecord, base: string, history: IRunsResponse): HTMLElement {
    const bottom = el('div', 'nbops-run-record-bottom');
    const when = formatWhen(record.start_time);
    if (when.text) {
      const t = el('span', 'nbops-run-when', when.text);
      t.title = [`started ${when.title}`, record.name, `MLflow run ${record.run_id}`]
        .filter(Boolean)
        .join('\n');
      bottom.append(t);
    }
    const actions = el('span', 'nbops-run-record-actions');
    if (record.output) {
      const output = record.output;
      const open = el('button', 'jp-Button jp-mod-minimal nbops-run-open', 'Notebook');
      open.type = 'button';
      open.title = `Open the executed notebook ${output}`;
      open.addEventListener('click', event => {
        event.stopPropagation();
        this._options.onOpen(output);
      });
      actions.append(open);
    }
    if (record.experiment_id) {
      const link = el('a', 'nbops-run-mlflow', 'MLflow ↗');
      link.href = mlflowRunUrl(base, record);
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      link.title =
        `Open this run in the MLflow UI at ${base} (a new browser tab; the UI must be ` +
        `running: ${history.tracking.ui_command || 'nbops ui'})`;
      link.addEventListener('click', event => event.stopPropagation());
      actions.append(link);
    }
    bottom.append(actions);
    return bottom;
  }

  private _options: IRunPanelOptions;
  private _uid: string;
  private _watched: NotebookPanel | null = null;
  private _forms = new Map<string, IFormState>();
  private _formPath: string | null = null;
  private _formParams: IParamsResponse | null = null;
  private _formMode: FormMode = 'run';
  private _shownSubmitError: NbopsApiError | null = null;
  private _stopping = new Set<string>();
  private _fields = new Map<string, IFieldNodes>();
  private _collapsed = new Set<string>();
  private _dismissed = new Set<string>();
  private _jobCache = new Map<
    string,
    { signature: string; node: HTMLElement; duration: HTMLElement }
  >();
  private _jobErrors = new Map<string, NbopsApiError>();
  private _sweepCache = new Map<string, { signature: string; node: HTMLElement }>();
  private _recordCache = new Map<string, { signature: string; node: HTMLElement }>();
  private _runningChanged = new Signal<this, number>(this);

  private _notebook!: HTMLDivElement;
  private _refresh!: HTMLButtonElement;
  private _unsaved!: HTMLDivElement;
  private _status!: HTMLDivElement;
  private _body!: HTMLDivElement;
  private _cellLink!: HTMLButtonElement;
  private _paramsBox!: HTMLDivElement;
  private _activity!: HTMLElement;
  private _jobsList!: HTMLUListElement;
  private _historyCount!: HTMLSpanElement;
  private _historySpinner!: HTMLSpanElement;
  private _historyError!: HTMLDivElement;
  private _historyList!: HTMLUListElement;
  private _historyEmpty!: HTMLDivElement;
  private _tracking!: HTMLDivElement;
  private _problems!: HTMLUListElement;
  private _formError!: HTMLDivElement;
  private _reset!: HTMLButtonElement;
  private _count!: HTMLSpanElement;
  private _submitButton!: HTMLButtonElement;
}

/** Put `nodes` in `parent` unless they are already its children in that order (keeps focus). */
function replaceIfChanged(parent: HTMLElement, nodes: HTMLElement[]): void {
  const current = Array.from(parent.children);
  if (current.length === nodes.length && current.every((node, i) => node === nodes[i])) {
    return;
  }
  parent.replaceChildren(...nodes);
}

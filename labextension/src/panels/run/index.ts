/**
 * The "Run" tab of the nbops sidebar: run the current notebook with parameters (papermill on
 * the server, tracked in MLflow), follow the runs still going, and browse its run history.
 *
 * A thin panel over three views, each with its own DOM and state: the form (`form.ts`), the
 * jobs going on (`jobs.ts`) and the history (`history.ts`). It follows the current notebook
 * (its path and unsaved changes, from the model's `NotebookStore`) and draws the views when
 * `RunsModel` says the notebook's state changed. Plain Lumino widget + DOM.
 *
 * CSS classes of the panel itself (stable hooks for browser tests; the views list theirs):
 *   .nbops-run-panel                                 this tab
 *   .nbops-run-notebook[data-path]                   the notebook it follows
 *   .nbops-run-refresh                               read parameters and history again
 *   .nbops-run-unsaved, .nbops-run-save              unsaved changes (runs use the saved file)
 *   .nbops-run-status                                one-line summary (aria-live)
 *   .nbops-run-body                                  the three views
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { IRunsState, RunsModel } from '../../runs';
import type { IJob, ISettings } from '../../tokens';
import { el } from '../dom';
import { unsavedBar } from '../errors';
import { RunFormView } from './form';
import { RunHistoryView } from './history';
import { RunJobsView } from './jobs';

export { formatDuration, formatNumber, formatWhen, mlflowRunUrl, runErrorNode } from './common';

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

export class RunPanel extends Widget {
  constructor(options: IRunPanelOptions) {
    super();
    this._options = options;
    this.id = 'nbops-run-tabpanel';
    this.addClass('nbops-run-panel');
    this.title.label = 'Run';
    this.title.caption = 'Run the notebook with parameters';

    const model = options.model;
    this._jobs = new RunJobsView({ model, onChange: () => this._render() });
    this._form = new RunFormView({
      model,
      onGoToCell: options.onGoToCell,
      onStarted: job => this._jobs.reveal(job.id)
    });
    this._history = new RunHistoryView({ settings: options.settings, onOpen: options.onOpen });
    this._build();

    model.changed.connect((_, path) => {
      if (path === this._path()) {
        this._render();
      }
    }, this);
    model.currentChanged.connect(() => {
      if (this.isVisible) {
        this._load();
      }
      this._render();
    }, this);
    model.store.changed.connect((_, what) => {
      if (what === 'path') {
        if (this.isVisible) {
          this._load();
        }
        this._render();
      } else if (what === 'dirty' || what === 'ready') {
        this._renderUnsaved();
      }
    }, this);
    this._render();
  }

  /** The number of running jobs of the current notebook (for the tab's badge). */
  get runningChanged(): ISignal<this, number> {
    return this._runningChanged;
  }

  /** The settings changed (the MLflow URL): draw the links again. */
  refreshSettings(): void {
    this._history.refreshSettings();
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._form.dispose();
    Signal.clearData(this);
    super.dispose();
  }

  protected onAfterShow(): void {
    this._load();
    this._render();
  }

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

    this._unsaved = unsavedBar(
      'nbops-run',
      'Unsaved changes: runs use the saved notebook. ',
      () => {
        const panel = this._options.model.current;
        if (panel) {
          this._options.onSave(panel);
        }
      }
    );

    this._status = el('div', 'nbops-run-status');
    this._status.setAttribute('aria-live', 'polite');
    this._status.setAttribute('role', 'status');

    this._body = el('div', 'nbops-run-body');
    this._body.append(this._form.node, this._jobs.node, this._history.node);
    this.node.append(header, this._unsaved, this._status, this._body);
  }

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
      this._form.clear();
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
    this._form.render(path, state);
    const jobs = this._jobs.visibleJobs(path, state);
    this._jobs.render(jobs);
    this._history.render(state);
    this._renderStatus(state, jobs);
    this._runningChanged.emit(jobs.filter(j => j.state === 'running').length);
  }

  private _renderUnsaved(): void {
    this._unsaved.hidden = !this._options.model.store.current.dirty;
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
          : `${job.kind} in progress`
      );
      this._setStatus(`Running: ${parts.join('; ')}.`);
    } else if (state.jobs.length > 0 && state.jobs[0].state !== 'running') {
      // the newest job of this server ended: say how (announced by screen readers)
      const job = state.jobs[0];
      const what =
        job.kind === 'sweep' ? 'Sweep' : job.kind === 'pipeline' ? 'Pipeline run' : 'Run';
      const counts =
        job.kind === 'sweep'
          ? `: ${job.done - job.failed} finished, ${job.failed} failed of ${job.total}`
          : '';
      this._setStatus(`${what} ${job.state}${counts}.`);
    } else {
      this._setStatus('');
    }
  }

  private _options: IRunPanelOptions;
  private _form: RunFormView;
  private _jobs: RunJobsView;
  private _history: RunHistoryView;
  private _runningChanged = new Signal<this, number>(this);
  private _notebook!: HTMLDivElement;
  private _refresh!: HTMLButtonElement;
  private _unsaved!: HTMLElement;
  private _status!: HTMLDivElement;
  private _body!: HTMLDivElement;
}

/**
 * Per-notebook run state for the Run tab: the parameters cell, this server's jobs, the run
 * history, and the polling that follows running jobs.
 *
 * Runs execute in the background on the server (`POST nbops/runs`); this model only asks.
 * After a page reload `GET nbops/runs` lists the jobs still going and polling resumes, so
 * nothing here has to survive the page. The Run tab reads from and acts through one
 * `RunsModel`, except the form's value check (`POST nbops/runs/validate`, panels/run/form.ts),
 * which is the form's own.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

import * as api from './api';
import { toApiError, type NbopsApiError } from './api';
import { isActive, JobPoller } from './poll';
import type { NotebookStore } from './store';
import type { IJob, IParamsResponse, IRunRequest, IRunsResponse } from './tokens';

/** How many history records to ask for. */
export const HISTORY_LIMIT = 50;

/** What the Run tab knows about one notebook (by root-relative path). */
export interface IRunsState {
  params: IParamsResponse | null;
  paramsError: NbopsApiError | null;
  paramsLoading: boolean;
  history: IRunsResponse | null;
  historyError: NbopsApiError | null;
  historyLoading: boolean;
  /** This server's jobs for the notebook, newest first, kept up to date while running. */
  jobs: IJob[];
  /** A `POST nbops/runs` is under way. */
  submitting: boolean;
  /** Why the last start failed (a 400 names the parameter). */
  submitError: NbopsApiError | null;
}

interface IEntry {
  state: IRunsState;
  paramsRequest: Promise<void> | null;
  historyRequest: Promise<void> | null;
  /** Another history refresh was asked for while one was under way. */
  historyAgain: boolean;
}

/** Runs of a sweep that ended (`done` and `failed`): a change refreshes the history. */
function progress(job: IJob): number {
  return job.done + job.failed;
}

export class RunsModel {
  /**
   * @param store - the notebooks: the Run tab follows the current one; a saved notebook's
   *   parameters are read again.
   * @param pollInterval - how often to ask for a running job's progress (ms).
   */
  constructor(store: NotebookStore, pollInterval: () => number) {
    this._store = store;
    this._poller = new JobPoller<IJob>({
      fetch: id => api.getJob(id),
      interval: pollInterval,
      onJob: (job, previous) => {
        this._jobSeen(job);
        if (isActive(job) && progress(job) !== progress(previous)) {
          // a run of the sweep ended: its record (metrics, link) is in the store now
          void this.loadHistory(job.path);
        }
      },
      onEnd: job => void this._settle(job),
      // the server forgot it (restarted): the history has what was recorded
      onLost: (id, last) => this._jobLost(last.path, id)
    });
    store.saved.connect(this._onSaved, this);
    store.changed.connect((_, what) => {
      if (what === 'current') {
        this._currentChanged.emit(this.current);
      }
    }, this);
  }

  /** The notebook store the model follows (the panel reads the path and dirty flag there). */
  get store(): NotebookStore {
    return this._store;
  }

  /** The notebook the Run tab follows: the current notebook. */
  get current(): NotebookPanel | null {
    return this._store.current.panel;
  }

  get currentChanged(): ISignal<this, NotebookPanel | null> {
    return this._currentChanged;
  }

  /** Emitted with the path whose state changed. */
  get changed(): ISignal<this, string> {
    return this._changed;
  }

  state(path: string): IRunsState {
    return this._entry(path).state;
  }

  /** Whether anything was asked for this notebook yet. */
  known(path: string): boolean {
    return this._entries.has(path);
  }

  /** The notebook's jobs that are still running. */
  running(path: string): IJob[] {
    return this._entries.get(path)?.state.jobs.filter(job => job.state === 'running') ?? [];
  }

  /**
   * Jobs that ended but whose runs the shown history does not list yet (its refresh is
   * under way): still shown with the running ones, so nothing blinks out.
   */
  settling(id: string): boolean {
    return this._settling.has(id);
  }

  /** What this page asked a job to do (jobs started elsewhere, or before a reload: `undefined`). */
  request(id: string): IRunRequest | undefined {
    return this._requests.get(id);
  }

  /** Read the saved notebook's parameters cell (again). */
  loadParams(path: string): Promise<void> {
    const entry = this._entry(path);
    if (!entry.paramsRequest) {
      this._update(path, { paramsLoading: true });
      entry.paramsRequest = (async () => {
        try {
          const params = await api.getParams(path);
          this._update(path, { params, paramsError: null, paramsLoading: false });
        } catch (reason) {
          this._update(path, { paramsError: toApiError(reason), paramsLoading: false });
        } finally {
          entry.paramsRequest = null;
        }
      })();
    }
    return entry.paramsRequest;
  }

  /**
   * Ask for this server's jobs and the run history of the notebook; resume polling the
   * jobs still running. Calls while one is under way make one more afterwards.
   */
  loadHistory(path: string): Promise<void> {
    const entry = this._entry(path);
    if (entry.historyRequest) {
      entry.historyAgain = true;
      return entry.historyRequest;
    }
    this._update(path, { historyLoading: true });
    entry.historyRequest = (async () => {
      do {
        entry.historyAgain = false;
        try {
          const history = await api.listRuns(path, HISTORY_LIMIT);
          const jobs = this._mergeJobs(entry.state.jobs, history.jobs);
          this._update(path, { history, jobs, historyError: null });
          for (const job of jobs) {
            this._track(job); // the ones still going
          }
        } catch (reason) {
          this._update(path, { historyError: toApiError(reason) });
        }
      } while (entry.historyAgain);
      entry.historyRequest = null;
      this._update(path, { historyLoading: false });
    })();
    return entry.historyRequest;
  }

  /** Parameters and history, for a notebook the Run tab starts to show. */
  load(path: string): Promise<void> {
    return Promise.all([this.loadParams(path), this.loadHistory(path)]).then(() => undefined);
  }

  /**
   * Start a run or a sweep. Resolves with the job, or `null` when the server refused
   * (`submitError` says why).
   */
  async start(request: IRunRequest): Promise<IJob | null> {
    const path = request.path;
    this._update(path, { submitting: true, submitError: null });
    let job: IJob;
    try {
      job = await api.startRun(request);
    } catch (reason) {
      this._update(path, { submitting: false, submitError: toApiError(reason) });
      return null;
    }
    this._requests.set(job.id, request);
    const entry = this._entry(path);
    this._update(path, {
      submitting: false,
      jobs: [job, ...entry.state.jobs.filter(j => j.id !== job.id)]
    });
    if (isActive(job)) {
      this._track(job);
    } else {
      void this._settle(job);
    }
    return job;
  }

  /** Clear the last start error (the user edited the form). */
  clearSubmitError(path: string): void {
    if (this._entries.get(path)?.state.submitError) {
      this._update(path, { submitError: null });
    }
  }

  /** Stop a running job; its polling shows when it has stopped. */
  async cancel(job: IJob): Promise<NbopsApiError | null> {
    try {
      const answer = await api.cancelJob(job.id);
      this._jobSeen(answer);
      return null;
    } catch (reason) {
      return toApiError(reason);
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._poller.dispose();
    Signal.disconnectReceiver(this);
    Signal.clearData(this);
  }

  private _entry(path: string): IEntry {
    let entry = this._entries.get(path);
    if (!entry) {
      entry = {
        state: {
          params: null,
          paramsError: null,
          paramsLoading: false,
          history: null,
          historyError: null,
          historyLoading: false,
          jobs: [],
          submitting: false,
          submitError: null
        },
        paramsRequest: null,
        historyRequest: null,
        historyAgain: false
      };
      this._entries.set(path, entry);
    }
    return entry;
  }

  private _update(path: string, change: Partial<IRunsState>): void {
    if (this._disposed) {
      return;
    }
    const entry = this._entry(path);
    entry.state = { ...entry.state, ...change };
    this._changed.emit(path);
  }

  /** The server's list wins; a job only this page knows of (just started) stays. */
  private _mergeJobs(mine: IJob[], theirs: IJob[]): IJob[] {
    const ids = new Set(theirs.map(job => job.id));
    const merged = [...theirs];
    for (const job of mine) {
      if (!ids.has(job.id)) {
        merged.push(job);
      }
    }
    return merged.sort((a, b) => b.started.localeCompare(a.started));
  }

  /** A saved notebook may have new parameters: read them again if the tab has them. */
  private _onSaved(_: NotebookStore, panel: NotebookPanel): void {
    const path = panel.context.localPath;
    if (this._entries.get(path)?.state.params) {
      void this.loadParams(path);
    }
  }

  /** Poll a job still going until it ends (once per job, however often asked). */
  private _track(job: IJob): void {
    if (!this._disposed) {
      this._poller.track(job);
    }
  }

  /** Replace the job in its notebook's list. */
  private _jobSeen(job: IJob): void {
    const entry = this._entry(job.path);
    const jobs = entry.state.jobs.some(j => j.id === job.id)
      ? entry.state.jobs.map(j => (j.id === job.id ? job : j))
      : [job, ...entry.state.jobs];
    this._update(job.path, { jobs });
  }

  private _jobLost(path: string, id: string): void {
    const entry = this._entry(path);
    const jobs = entry.state.jobs.map(j =>
      j.id === id && isActive(j)
        ? {
            ...j,
            state: 'failed' as const,
            error:
              'The server no longer knows this job (was it restarted?). ' +
              'The history below lists what was recorded.'
          }
        : j
    );
    this._update(path, { jobs });
    void this.loadHistory(path);
  }

  /** A job ended: keep showing it until the history with its runs is in. */
  private async _settle(job: IJob): Promise<void> {
    this._settling.add(job.id);
    try {
      await this.loadHistory(job.path);
    } finally {
      this._settling.delete(job.id);
      this._changed.emit(job.path);
    }
  }

  private _store: NotebookStore;
  private _poller: JobPoller<IJob>;
  private _entries = new Map<string, IEntry>();
  private _settling = new Set<string>();
  private _requests = new Map<string, IRunRequest>();
  private _disposed = false;
  private _changed = new Signal<this, string>(this);
  private _currentChanged = new Signal<this, NotebookPanel | null>(this);
}

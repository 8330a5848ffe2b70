/**
 * Per-notebook run state for the Run tab: the parameters cell, this server's jobs, the run
 * history, and the polling that follows running jobs.
 *
 * Runs execute in the background on the server (`POST nbops/runs`); this model only asks.
 * After a page reload `GET nbops/runs` lists the jobs still going and polling resumes, so
 * nothing here has to survive the page. The Run tab reads from and acts through one
 * `RunsModel`; it never calls the REST API itself.
 */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { ISignal, Signal } from '@lumino/signaling';

import * as api from './api';
import { toApiError, type NbopsApiError } from './api';
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

interface IPoll {
  path: string;
  timer: number | null;
  /** Consecutive failed polls (network trouble): the delay doubles, up to 10 s. */
  failures: number;
  /** `done` and `failed` when last seen: a change refreshes the history. */
  progress: number;
}

const MAX_POLL_DELAY = 10_000;

export class RunsModel {
  /**
   * @param tracker - the notebooks: a saved notebook's parameters are read again.
   * @param pollInterval - how often to ask for a running job's progress (ms).
   */
  constructor(tracker: INotebookTracker, pollInterval: () => number) {
    this._tracker = tracker;
    this._pollInterval = pollInterval;
    tracker.widgetAdded.connect((_, panel) => this._attach(panel));
    tracker.forEach(panel => this._attach(panel));
    tracker.currentChanged.connect(() => this._currentChanged.emit(this.current));
  }

  /** The notebook the Run tab follows: the tracker's current notebook. */
  get current(): NotebookPanel | null {
    const widget = this._tracker.currentWidget;
    return widget && !widget.isDisposed ? widget : null;
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
            if (job.state === 'running') {
              this._track(job);
            }
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
    if (job.state === 'running') {
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
    for (const poll of this._polls.values()) {
      if (poll.timer !== null) {
        window.clearTimeout(poll.timer);
      }
    }
    this._polls.clear();
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
  private _attach(panel: NotebookPanel): void {
    const onSave = (_: unknown, state: DocumentRegistry.SaveState) => {
      const path = panel.context.localPath;
      if (state === 'completed' && this._entries.get(path)?.state.params) {
        void this.loadParams(path);
      }
    };
    panel.context.saveState.connect(onSave);
    panel.disposed.connect(() => panel.context.saveState.disconnect(onSave));
  }

  // -- polling -------------------------------------------------------------------------------

  /** Poll a running job until it ends (once per job, however often asked). */
  private _track(job: IJob): void {
    if (this._polls.has(job.id) || this._disposed) {
      return;
    }
    const poll: IPoll = {
      path: job.path,
      timer: null,
      failures: 0,
      progress: job.done + job.failed
    };
    this._polls.set(job.id, poll);
    this._schedule(job.id, poll);
  }

  private _schedule(id: string, poll: IPoll): void {
    const base = Math.max(250, this._pollInterval());
    const delay = Math.min(MAX_POLL_DELAY, base * 2 ** poll.failures);
    poll.timer = window.setTimeout(() => void this._pollOnce(id, poll), delay);
  }

  private async _pollOnce(id: string, poll: IPoll): Promise<void> {
    poll.timer = null;
    let job: IJob;
    try {
      job = await api.getJob(id);
    } catch (reason) {
      if (this._disposed) {
        return;
      }
      const error = toApiError(reason);
      if (error.status === 404) {
        // the server forgot it (restarted): the history has what was recorded
        this._polls.delete(id);
        this._jobLost(poll.path, id);
        return;
      }
      poll.failures = Math.min(poll.failures + 1, 6);
      this._schedule(id, poll);
      return;
    }
    if (this._disposed) {
      return;
    }
    poll.failures = 0;
    this._jobSeen(job);
    if (job.state === 'running') {
      const progress = job.done + job.failed;
      if (progress !== poll.progress) {
        // a run of the sweep ended: its record (metrics, link) is in the store now
        poll.progress = progress;
        void this.loadHistory(job.path);
      }
      this._schedule(id, poll);
    } else {
      this._polls.delete(id);
      void this._settle(job);
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
      j.id === id && j.state === 'running'
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

  private _tracker: INotebookTracker;
  private _pollInterval: () => number;
  private _entries = new Map<string, IEntry>();
  private _polls = new Map<string, IPoll>();
  private _settling = new Set<string>();
  private _requests = new Map<string, IRunRequest>();
  private _disposed = false;
  private _changed = new Signal<this, string>(this);
  private _currentChanged = new Signal<this, NotebookPanel | null>(this);
}

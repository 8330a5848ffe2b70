/**
 * Per-notebook hackathon state for the Hackathon tab: the exercise the notebook belongs to,
 * the team, the saved scorecard, and the scoring job with the polling that follows it.
 *
 * Scoring runs on the server, in a separate process with the exercise's time limit
 * (`POST nbops/hackathon/score`); this model only asks. After a page reload
 * `GET nbops/hackathon` brings back the saved scorecard and a job still running, and polling
 * resumes, so nothing here has to survive the page. The tab reads from and acts through one
 * `HackathonModel`; it never calls the REST API itself.
 *
 * Jobs belong to an exercise checkout (one scoring at a time each), so every notebook of the
 * same exercise sees the same job.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

import * as api from './api';
import { toApiError, type NbopsApiError } from './api';
import { isActive, JobPoller } from './poll';
import type { NotebookStore } from './store';
import type { IHackathonInfo, IScoreJob, IScorecard } from './tokens';

/** What the Hackathon tab knows about one notebook (by root-relative path). */
export interface IHackathonState {
  /** `GET nbops/hackathon`; `exercise` null: the notebook is in no exercise. */
  info: IHackathonInfo | null;
  loading: boolean;
  /** Why `GET nbops/hackathon` failed (a broken `hackathon.toml` is a 400). */
  error: NbopsApiError | null;
  /** A `POST nbops/hackathon/score` is under way. */
  starting: boolean;
  /** Why the last "Score now" was refused (no team, already scoring, not allowed). */
  startError: NbopsApiError | null;
}

interface IEntry {
  state: IHackathonState;
  request: Promise<void> | null;
  /** Another load was asked for while one was under way. */
  again: boolean;
}

export class HackathonModel {
  /**
   * @param store - the notebooks: the tab follows the current one.
   * @param pollInterval - how often to ask for a running scoring's state (ms).
   */
  constructor(store: NotebookStore, pollInterval: () => number) {
    this._store = store;
    this._poller = new JobPoller<IScoreJob>({
      fetch: id => api.getScoreJob(id),
      interval: pollInterval,
      onJob: job => this._jobSeen(job, true),
      // the saved card, as a page reload would show it
      onEnd: job => this._reloadExercise(job.exercise),
      // the server forgot it (restarted): what it saved is what a reload shows
      onLost: (id, last) => this._jobLost(last.exercise, id)
    });
    store.changed.connect((_, what) => {
      if (what === 'current') {
        this._currentChanged.emit(this.current);
      }
    }, this);
  }

  /** The notebook store the model follows (the tab reads the path and dirty flag there). */
  get store(): NotebookStore {
    return this._store;
  }

  /** The notebook the tab follows: the current notebook. */
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

  state(path: string): IHackathonState {
    return this._entry(path).state;
  }

  /** Whether anything was asked for this notebook yet. */
  known(path: string): boolean {
    return this._entries.has(path);
  }

  /** The notebook's exercise folder (root-relative), once known. */
  exercise(path: string): string | null {
    return this._entries.get(path)?.state.info?.exercise?.root ?? null;
  }

  /** The newest scoring job of the notebook's checkout. */
  job(path: string): IScoreJob | null {
    const exercise = this.exercise(path);
    return exercise === null ? null : (this._jobs.get(exercise) ?? null);
  }

  /** Whether the notebook's checkout is being scored. */
  running(path: string): boolean {
    return this.job(path)?.state === 'running';
  }

  /**
   * The scorecard to show: of the newest job when it ended well (it may be of a team
   * chosen by hand), else the one the server saved for the checkout's team.
   */
  card(path: string): IScorecard | null {
    const job = this.job(path);
    if (job?.state === 'finished' && job.card) {
      return job.card;
    }
    return this._entries.get(path)?.state.info?.card ?? null;
  }

  /**
   * Ask which exercise the notebook belongs to, its team, card and job; resume polling a
   * job still running. Calls while one is under way make one more afterwards.
   */
  load(path: string): Promise<void> {
    const entry = this._entry(path);
    if (entry.request) {
      entry.again = true;
      return entry.request;
    }
    this._update(path, { loading: true });
    entry.request = (async () => {
      do {
        entry.again = false;
        try {
          const info = await api.getHackathon(path);
          this._update(path, { info, error: null });
          if (info.exercise && info.job) {
            this._jobSeen(info.job, false);
          }
        } catch (reason) {
          this._update(path, { info: null, error: toApiError(reason) });
        }
      } while (entry.again);
      entry.request = null;
      this._update(path, { loading: false });
    })();
    return entry.request;
  }

  /**
   * Score the notebook as `team` (default: its folder team, else the one of its checkout's
   * `team/<name>` branch).
   * Resolves with the job, or `null` when the server refused (`startError` says why).
   */
  async score(path: string, team?: string | null): Promise<IScoreJob | null> {
    this._update(path, { starting: true, startError: null });
    let job: IScoreJob;
    try {
      job = await api.startScore(team ? { path, team } : { path });
    } catch (reason) {
      const error = toApiError(reason);
      this._update(path, { starting: false, startError: error });
      if (error.status === 409) {
        void this.load(path); // the running job: follow it
      }
      return null;
    }
    this._update(path, { starting: false });
    this._jobSeen(job, true);
    return job;
  }

  /**
   * Stop a running scoring (`DELETE nbops/hackathon/jobs/{id}`: the server answers once it
   * has ended), then ask again, as a reload would, so every notebook of the checkout shows
   * the job stopped. Rejects with the API error when the server refused; asks again anyway.
   */
  async cancel(path: string, jobId: string): Promise<void> {
    try {
      await api.cancelHackathonJob(jobId);
    } finally {
      await this.load(path);
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
        state: { info: null, loading: false, error: null, starting: false, startError: null },
        request: null,
        again: false
      };
      this._entries.set(path, entry);
    }
    return entry;
  }

  private _update(path: string, change: Partial<IHackathonState>): void {
    if (this._disposed) {
      return;
    }
    const entry = this._entry(path);
    entry.state = { ...entry.state, ...change };
    this._changed.emit(path);
  }

  /** Every notebook of the exercise: they all show its job. */
  private _emitExercise(exercise: string): void {
    for (const [path, entry] of this._entries) {
      if (entry.state.info?.exercise?.root === exercise) {
        this._changed.emit(path);
      }
    }
  }

  /**
   * Keep the job as the exercise's newest (an older one never replaces a newer one) and
   * poll it while it runs. `fresh`: just started here (the server's list may not have it).
   */
  private _jobSeen(job: IScoreJob, fresh: boolean): void {
    if (this._disposed) {
      return;
    }
    const known = this._jobs.get(job.exercise);
    if (!fresh && known && known.id !== job.id && known.started > job.started) {
      return;
    }
    this._jobs.set(job.exercise, job);
    this._emitExercise(job.exercise);
    this._poller.track(job); // while it is going
  }

  private _jobLost(exercise: string, id: string): void {
    const job = this._jobs.get(exercise);
    if (job && job.id === id && isActive(job)) {
      this._jobs.set(exercise, {
        ...job,
        state: 'failed',
        error: 'The server no longer knows this scoring (was it restarted?). Score again.'
      });
      this._emitExercise(exercise);
    }
  }

  private _reloadExercise(exercise: string): void {
    for (const [path, entry] of this._entries) {
      if (entry.state.info?.exercise?.root === exercise) {
        void this.load(path);
      }
    }
  }

  private _store: NotebookStore;
  private _poller: JobPoller<IScoreJob>;
  private _entries = new Map<string, IEntry>();
  /** The newest job per exercise folder. */
  private _jobs = new Map<string, IScoreJob>();
  private _disposed = false;
  private _changed = new Signal<this, string>(this);
  private _currentChanged = new Signal<this, NotebookPanel | null>(this);
}

/**
 * One poller for the server's background jobs (runs, sweeps, hackathon scoring): each job
 * that is queued or running is asked for (`fetch`) until it ends, on Lumino's `Poll`.
 *
 * - `track(job)` starts following a job, once per job id however often it is called; a job
 *   that has ended is not followed.
 * - Every answer goes to `onJob(job, previous)`; the last one (the job ended) also to
 *   `onEnd(job)`. A 404 (the server forgot the job: it was restarted) stops polling it and
 *   calls `onLost(id)`.
 * - Any other failure (the server cannot be reached) backs off: Lumino's jittered backoff,
 *   at most doubling the delay each time, never more than `MAX_POLL_DELAY`; the next answer
 *   brings the interval back.
 * - `interval()` is read before every request (the setting may change), at least 250 ms.
 * - `dispose()` stops every poll; nothing is called afterwards.
 */
import type { IDisposable } from '@lumino/disposable';
import { type IPoll, Poll } from '@lumino/polling';

import { toApiError } from './api';

/** The longest wait between two requests while the server cannot be reached (ms). */
export const MAX_POLL_DELAY = 10_000;
/** The shortest interval, whatever the setting says (ms). */
export const MIN_POLL_INTERVAL = 250;

/** What the poller needs of a job. */
export interface IPolledJob {
  id: string;
  state: string;
}

export interface IJobPollerOptions<J extends IPolledJob> {
  /** Ask the server for the job (`GET .../jobs/{id}`). */
  fetch: (id: string) => Promise<J>;
  /** How often to ask while a job runs (ms). */
  interval: () => number;
  /** Every answer; `previous`: the job as last seen (or as given to `track`). */
  onJob: (job: J, previous: J) => void;
  /** The job ended (called after `onJob`). */
  onEnd?: (job: J) => void;
  /** The server does not know the job (404); `last`: as last seen. */
  onLost: (id: string, last: J) => void;
}

/** Whether a job may still change: polled until it is not. */
export function isActive(job: IPolledJob): boolean {
  return job.state === 'queued' || job.state === 'running';
}

export class JobPoller<J extends IPolledJob> implements IDisposable {
  constructor(options: IJobPollerOptions<J>) {
    this._options = options;
  }

  /** Follow `job` until it ends (nothing when it has ended or is followed already). */
  track(job: J): void {
    if (this._disposed || this._polls.has(job.id) || !isActive(job)) {
      return;
    }
    let last = job;
    const poll = new Poll<void, unknown>({
      auto: false,
      standby: 'never', // a hidden page still follows its jobs, as a reload would show them
      name: `nbops:job:${job.id}`,
      factory: async () => {
        poll.frequency = this._frequency();
        let seen: J;
        try {
          seen = await this._options.fetch(job.id);
        } catch (reason) {
          if (this._disposed || poll.isDisposed) {
            return;
          }
          if (toApiError(reason).status === 404) {
            this._stop(job.id);
            this._options.onLost(job.id, last);
            return;
          }
          throw reason; // Poll backs off
        }
        if (this._disposed || poll.isDisposed) {
          return;
        }
        const previous = last;
        last = seen;
        if (!isActive(seen)) {
          this._stop(job.id);
        }
        this._options.onJob(seen, previous);
        if (!isActive(seen)) {
          this._options.onEnd?.(seen);
        }
      }
    });
    this._polls.set(job.id, poll);
    const frequency = this._frequency();
    poll.frequency = frequency; // after construction: the constructor raises `max` to 30 s
    void poll.schedule({ interval: frequency.interval, phase: 'started' });
  }

  /** Whether `id` is being followed. */
  polling(id: string): boolean {
    return this._polls.has(id);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    for (const poll of this._polls.values()) {
      poll.dispose();
    }
    this._polls.clear();
  }

  private _stop(id: string): void {
    this._polls.get(id)?.dispose();
    this._polls.delete(id);
  }

  private _frequency(): IPoll.Frequency {
    const interval = Math.min(
      MAX_POLL_DELAY,
      Math.max(MIN_POLL_INTERVAL, Math.round(this._options.interval()))
    );
    return { interval, backoff: 2, max: MAX_POLL_DELAY };
  }

  private _options: IJobPollerOptions<J>;
  private _polls = new Map<string, Poll<void, unknown>>();
  private _disposed = false;
}

/**
 * The Run tab's jobs view: this server's runs and sweeps of the notebook that are going on
 * (and those that just ended, until the history lists their runs), with their progress and
 * Stop. `RunsModel` polls them; after a reload `GET nbops/runs` brings them back.
 *
 * CSS classes (stable hooks for browser tests):
 *   .nbops-run-activity                              this view (hidden when there is no job)
 *   .nbops-run-job[data-job-id][data-kind][data-state]   a job (running, or just ended)
 *     .nbops-run-executor[data-executor]             where it runs: "local", "dask",
 *                                                    "dask @ tcp://host:8786"
 *     .nbops-run-record-params                       what it was asked to run
 *     .nbops-run-progress[role=progressbar]          done / failed / running of total
 *       .nbops-run-progress-{done,failed,running}    its segments
 *     .nbops-run-job-counts, .nbops-run-duration     the counts in words; how long it runs
 *     .nbops-run-stop                                Stop (running jobs)
 *     .nbops-run-job-error, .nbops-run-dismiss       why it could not work; hide that message
 */
import type { NbopsApiError } from '../../api';
import type { IRunsState, RunsModel } from '../../runs';
import type { IJob, IRunRequest } from '../../tokens';
import { button, el, plural } from '../dom';
import {
  formatDuration,
  executorBadge,
  formatWhen,
  replaceIfChanged,
  runErrorNode,
  statusClass,
  valueText
} from './common';

export interface IJobsViewOptions {
  model: RunsModel;
  /** Something the view shows changed (draw the panel again). */
  onChange: () => void;
}

function elapsed(job: IJob): number | null {
  const start = Date.parse(job.started);
  const end = job.ended ? Date.parse(job.ended) : Date.now();
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, (end - start) / 1000);
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

export class RunJobsView {
  /** The section to put in the panel. */
  readonly node: HTMLElement;

  constructor(options: IJobsViewOptions) {
    this._options = options;
    this.node = el('section', 'nbops-run-section nbops-run-activity');
    this.node.setAttribute('aria-label', 'Runs going on');
    this._jobsList = el('ul', 'nbops-run-jobs');
    this.node.append(el('h3', 'nbops-run-heading', 'Running'), this._jobsList);
    this.node.hidden = true;
  }

  /** Running jobs, jobs that just ended (until the history has their runs), and errors. */
  visibleJobs(path: string, state: IRunsState): IJob[] {
    const model = this._options.model;
    return state.jobs.filter(
      job =>
        job.path === path &&
        (job.state === 'running' ||
          model.settling(job.id) ||
          (failedToWork(job) && !this._dismissed.has(job.id)))
    );
  }

  render(jobs: IJob[]): void {
    this.node.hidden = jobs.length === 0;
    const nodes = jobs.map(job => this._job(job));
    replaceIfChanged(this._jobsList, nodes);
  }

  /** Bring a job's entry into view (a job just started, below a long form). */
  reveal(id: string): void {
    requestAnimationFrame(() => {
      this._jobsList
        .querySelector<HTMLElement>(`.nbops-run-job[data-job-id="${CSS.escape(id)}"]`)
        ?.scrollIntoView({ block: 'nearest' });
    });
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
    const title =
      job.kind === 'sweep'
        ? `Sweep of ${plural(job.total, 'run')}`
        : job.kind === 'pipeline'
          ? 'Pipeline run'
          : 'Run';
    top.append(el('span', 'nbops-run-job-title', title));
    top.append(executorBadge(job.executor, job.scheduler));
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
        this._options.onChange();
        const error = await this._options.model.cancel(job);
        if (error) {
          this._stopping.delete(job.id);
          this._jobErrors.set(job.id, error);
          this._options.onChange();
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
        this._options.onChange();
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

  private _options: IJobsViewOptions;
  private _jobsList: HTMLUListElement;
  private _stopping = new Set<string>();
  private _dismissed = new Set<string>();
  private _jobCache = new Map<
    string,
    { signature: string; node: HTMLElement; duration: HTMLElement }
  >();
  private _jobErrors = new Map<string, NbopsApiError>();
}

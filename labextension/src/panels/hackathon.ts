/**
 * The "Hackathon" tab of the nbops sidebar: the team's current scorecard, what would raise it
 * most, "Score now" and "Submit for review", for a notebook of a hackathon exercise
 * (docs/hackathon.md). The sidebar shows the tab only for such notebooks (`availableChanged`).
 *
 * - The team is the one whose folder holds the notebook, else the checkout's `team/<name>`
 *   branch; otherwise a team is chosen from the exercise's list (else: switch branches).
 * - The scorecard: the total out of 100 with a bar, each component (title, points of its
 *   weight, a bar of its score, how it was measured or why it failed), notes, when it was
 *   scored; the suggestion ("what would raise it most") highlighted above it.
 * - "Score now" asks the server to score the checkout (`POST nbops/hackathon/score`: a
 *   separate process with the exercise's time limit; it runs the team's tests and notebook);
 *   `HackathonModel` polls it. Disabled while a scoring runs; errors in plain words.
 * - "Stop", next to a running scoring's progress, stops it (`DELETE
 *   nbops/hackathon/jobs/{id}`: the server stops the whole process, saves no card and answers
 *   once it has ended); the model is then asked again, so the job shows as stopped and
 *   "Score now" is back.
 * - "Submit for review" runs the submit command on the notebook: the review gate, then the
 *   team's pull request in the exercise repository.
 *
 * Plain Lumino widget + DOM. Stable hooks for browser tests:
 *   .nbops-hackathon-panel                          this tab
 *   .nbops-hack-notebook[data-path], .nbops-hack-refresh   the notebook it follows; ask again
 *   .nbops-hack-status                              one-line summary (aria-live)
 *   .nbops-hack-none                                the notebook is in no exercise
 *   .nbops-hack-error[data-error][data-status]      the exercise cannot be read (a broken
 *                                                   hackathon.toml: data-error="ConfigError")
 *   .nbops-hack-team[data-team]                     the team ("" when the branch names none)
 *   .nbops-hack-no-team, select.nbops-hack-team-select   not on a team branch; choose one
 *   button.nbops-hack-score, button.nbops-hack-submit    "Score now", "Submit for review"
 *   .nbops-hack-missing                             the run extra is not installed on the
 *                                                   server: "Score now" disabled, the install line
 *   .nbops-hack-unsaved, .nbops-hack-save           unsaved changes (scoring reads the saved
 *                                                   files); "Save now"
 *   .nbops-hack-job[data-state][data-job-id]        the scoring under way (role=progressbar
 *                                                   inside), or how the last one ended
 *     button.nbops-hack-stop                        "Stop" (a running scoring; "Stopping…"
 *                                                   and disabled once clicked)
 *     .nbops-hack-job-current                       the components scored so far, the one
 *                                                   under way ("3 of 7 components scored · …")
 *   .nbops-hack-stop-error[data-error][data-status]    "Stop" was refused
 *   .nbops-hack-start-error[data-error][data-status]   "Score now" was refused
 *   .nbops-hack-empty                               "not scored yet"
 *   .nbops-hack-card[data-team][data-total][data-required-passed]   the scorecard
 *     .nbops-hack-suggestion                        what would raise it most
 *     .nbops-hack-total, .nbops-hack-meter[role=meter]   the total and its bar
 *     .nbops-hack-component[data-id][data-status][data-points][data-weight]   a component:
 *       .nbops-hack-component-title, -points, -text (explanation), -reason (why it failed)
 *     .nbops-hack-notes                             the card's notes (errors)
 *     .nbops-hack-scored-at[data-scored-at]         when it was scored
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { toApiError, type NbopsApiError } from '../api';
import { extraMissing, serverExtras, type IMissing } from '../extras';
import type { HackathonModel } from '../hackathon';
import type { IHackathonInfo, IScoreComponent, IScoreJob, IScorecard } from '../tokens';
import { button, el } from './dom';
import { errorNode, explain, unsavedBar } from './errors';
import { formatDuration } from './run';

export interface IHackathonPanelOptions {
  model: HackathonModel;
  /** Open the Submit for review dialog for the current notebook. */
  onSubmit: () => void;
  /** Save the notebook (scoring reads the saved files). */
  onSave: (panel: NotebookPanel) => void;
}

// -- formatting ------------------------------------------------------------------------------

function formatPoints(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function formatWhen(iso: string | null): { text: string; title: string } {
  if (!iso) {
    return { text: '', title: '' };
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return { text: iso, title: iso };
  }
  const today = new Date().toDateString() === date.toDateString();
  const text = today
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit'
      });
  return { text: today ? `today ${text}` : text, title: date.toLocaleString() };
}

function elapsed(job: IScoreJob): number | null {
  const start = Date.parse(job.started);
  const end = job.ended ? Date.parse(job.ended) : Date.now();
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, (end - start) / 1000);
}

/** The points of a component out of 100 (its weight scaled by the sum of the weights). */
function maxPoints(card: IScorecard, component: IScoreComponent): number {
  const total = card.components.reduce((sum, c) => sum + c.weight, 0);
  return total > 0 ? (component.weight * card.max_total) / total : 0;
}

/** A bar for a value out of `max` (`role=meter`: a measure, not a progress). */
function meter(
  className: string,
  value: number,
  max: number,
  label: string,
  text: string
): HTMLElement {
  const bar = el('div', `nbops-hack-meter ${className}`);
  bar.setAttribute('role', 'meter');
  bar.setAttribute('aria-label', label);
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', String(max));
  bar.setAttribute('aria-valuenow', String(value));
  bar.setAttribute('aria-valuetext', text);
  const fill = el('div', 'nbops-hack-meter-fill');
  const share = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  fill.dataset.level = share >= 0.8 ? 'high' : share >= 0.4 ? 'mid' : 'low';
  bar.append(fill);
  return bar;
}

/** An error in plain words: what went wrong and what to do. */
export function hackathonErrorNode(
  error: NbopsApiError,
  what: string,
  className: string
): HTMLElement {
  let words = explain(
    error,
    what,
    'hackathon',
    'Scoring runs your code, so your Jupyter user must be allowed to write files and run ' +
      'kernels here; or the session expired: reload the page and log in again.'
  );
  if (error.status === 409) {
    words = {
      message: `Cannot ${what} now: ${error.message}.`,
      hint: 'Wait for the scoring under way to finish: its scorecard shows here.'
    };
  } else if (error.error === 'ConfigError') {
    words = {
      message: `The exercise's hackathon.toml cannot be used: ${error.message}`,
      hint: error.hint ?? 'Ask the organisers, or fix it on your branch.'
    };
  }
  return errorNode(error, `nbops-error ${className}`, words);
}

// -- the panel -------------------------------------------------------------------------------

export class HackathonPanel extends Widget {
  constructor(options: IHackathonPanelOptions) {
    super();
    this._options = options;
    this.id = 'nbops-hackathon-tabpanel';
    this.addClass('nbops-hackathon-panel');
    this.title.label = 'Hackathon';
    this.title.caption = "Your team's hackathon scorecard";
    this._build();

    const model = options.model;
    model.changed.connect((_, path) => {
      if (path === this._path()) {
        this._render();
      }
    }, this);
    // the current notebook, its path (a rename may move it in or out of an exercise) and its
    // unsaved changes (scoring reads the saved files): from the notebook store
    model.store.changed.connect((_, what) => {
      if (what === 'current' || what === 'path') {
        this._load(what === 'path' || this.isVisible);
        this._render();
      } else {
        this._renderUnsaved();
      }
    }, this);
    this._load(false);
    this._render();
    // which extras the server has: scoring runs nbops verify and nbops run (the run extra)
    void serverExtras.load().then(() => this._render());
  }

  /**
   * Whether the current notebook belongs to an exercise (the sidebar shows the tab only
   * then); emitted when that changes.
   */
  get availableChanged(): ISignal<this, boolean> {
    return this._availableChanged;
  }

  get available(): boolean {
    return this._available;
  }

  /** Whether the current notebook's checkout is being scored (for the tab's badge). */
  get runningChanged(): ISignal<this, boolean> {
    return this._runningChanged;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._stopTicking();
    Signal.disconnectReceiver(this);
    Signal.clearData(this);
    super.dispose();
  }

  protected onAfterShow(): void {
    this._load(true);
    this._render();
  }

  protected onAfterHide(): void {
    this._stopTicking();
  }

  // -- what to show ----------------------------------------------------------------------------

  private _path(): string | null {
    return this._options.model.current?.context.localPath ?? null;
  }

  /** Ask the server about the current notebook: the first time, or `again` (shown). */
  private _load(again: boolean): void {
    const path = this._path();
    if (!path) {
      return;
    }
    const model = this._options.model;
    if (again || !model.known(path)) {
      void model.load(path);
    }
  }

  private _renderUnsaved(): void {
    this._unsaved.hidden = !this._options.model.store.current.dirty;
  }

  // -- skeleton --------------------------------------------------------------------------------

  private _build(): void {
    const header = el('div', 'nbops-hack-header');
    this._notebook = el('div', 'nbops-hack-notebook');
    this._refresh = el('button', 'jp-Button jp-mod-minimal nbops-hack-refresh', '↻');
    this._refresh.type = 'button';
    this._refresh.title = 'Read the exercise and the saved scorecard again';
    this._refresh.setAttribute('aria-label', this._refresh.title);
    this._refresh.addEventListener('click', () => this._load(true));
    header.append(this._notebook, this._refresh);

    this._status = el('div', 'nbops-hack-status');
    this._status.setAttribute('role', 'status');
    this._status.setAttribute('aria-live', 'polite');

    const body = el('div', 'nbops-hack-body');
    this._none = el('div', 'nbops-hack-none');
    this._errorBox = el('div', 'nbops-hack-error-box');

    this._teamBox = el('section', 'nbops-hack-section nbops-hack-team-section');
    this._teamBox.setAttribute('aria-label', 'Team');

    const actions = el('div', 'nbops-hack-actions');
    this._score = button(
      'nbops-hack-score',
      'Score now',
      "Score your team's work: runs your tests, your notebook and nbops verify on the server, " +
        'in a separate process with the time limit of the exercise'
    );
    this._score.addEventListener('click', () => void this._startScore());
    this._submit = button(
      'nbops-hack-submit',
      'Submit for review',
      'Check this notebook against the review gate, then push your branch for review and ' +
        "open your team's pull request in the exercise repository"
    );
    this._submit.addEventListener('click', () => this._options.onSubmit());
    actions.append(this._score, this._submit);
    this._unsaved = unsavedBar(
      'nbops-hack',
      'Unsaved changes: scoring and submitting use the saved files. ',
      () => {
        const panel = this._options.model.current;
        if (panel) {
          this._options.onSave(panel);
        }
      }
    );
    const submitNote = el(
      'div',
      'nbops-hack-submit-note',
      "Submitting opens your team's pull request in the exercise repository; the organisers " +
        'score it there.'
    );
    this._jobBox = el('div', 'nbops-hack-job-box');
    this._startErrorBox = el('div', 'nbops-hack-start-error-box');
    this._missing = el('div', 'nbops-hack-missing');
    this._missing.setAttribute('role', 'note');
    this._missing.hidden = true;
    this._actions = el('section', 'nbops-hack-section nbops-hack-actions-section');
    this._actions.append(
      actions,
      this._missing,
      this._unsaved,
      submitNote,
      this._jobBox,
      this._startErrorBox
    );

    this._cardBox = el('div', 'nbops-hack-card-box');
    body.append(this._none, this._errorBox, this._teamBox, this._actions, this._cardBox);
    this.node.append(header, this._status, body);
  }

  // -- rendering ---------------------------------------------------------------------------------

  private _setAvailable(available: boolean): void {
    if (available !== this._available) {
      this._available = available;
      this._availableChanged.emit(available);
    }
  }

  private _setRunning(running: boolean): void {
    if (running !== this._running) {
      this._running = running;
      this._runningChanged.emit(running);
    }
  }

  private _setStatus(text: string): void {
    if (this._status.textContent !== text) {
      this._status.textContent = text;
    }
  }

  private _render(): void {
    if (this.isDisposed) {
      return;
    }
    const model = this._options.model;
    const path = this._path();
    if (!path) {
      this._notebook.textContent = 'No notebook open';
      delete this._notebook.dataset.path;
      this._refresh.disabled = true;
      this._show(
        'none',
        'Open a notebook of your team’s clone of the exercise to see its scorecard.'
      );
      this._setStatus('');
      this._setAvailable(false);
      this._setRunning(false);
      this._stopTicking();
      return;
    }
    this._refresh.disabled = false;
    this._notebook.dataset.path = path;
    const state = model.state(path);
    const info = state.info;
    const exercise = info?.exercise ?? null;
    this._notebook.textContent = exercise ? `${exercise.name} · ${path}` : path;
    this._notebook.title = this._notebook.textContent;

    if (state.error) {
      // a broken hackathon.toml still means "this is an exercise": show what is wrong
      const config = state.error.error === 'ConfigError';
      this._setAvailable(config);
      this._show('error');
      this._errorBox.replaceChildren(
        hackathonErrorNode(state.error, 'read the exercise', 'nbops-hack-error')
      );
      this._setStatus('');
      this._setRunning(false);
      this._stopTicking();
      return;
    }
    if (!info) {
      this._show('none', state.loading ? 'Reading the exercise…' : '');
      this._setStatus('');
      this._setRunning(false);
      return;
    }
    if (!exercise) {
      this._setAvailable(false);
      this._show(
        'none',
        'This notebook is not part of a hackathon exercise (no hackathon.toml in its folder ' +
          'or above).'
      );
      this._setStatus('');
      this._setRunning(false);
      this._stopTicking();
      return;
    }
    this._setAvailable(true);
    this._show('exercise');
    const job = model.job(path);
    const running = job?.state === 'running';
    this._setRunning(running);
    this._renderUnsaved();
    this._renderTeam(path, info);
    this._renderActions(path, info, job);
    this._renderCard(model.card(path), info.team, running);
    this._renderStatus(state.starting, job, model.card(path));
    if (running && this.isVisible) {
      this._startTicking();
    } else {
      this._stopTicking();
    }
  }

  /** Show one of: a one-line note, the error, or the exercise. */
  private _show(what: 'none' | 'error' | 'exercise', note = ''): void {
    this._none.hidden = what !== 'none' || !note;
    this._none.textContent = what === 'none' ? note : '';
    this._errorBox.hidden = what !== 'error';
    if (what !== 'error') {
      this._errorBox.replaceChildren();
    }
    const exercise = what === 'exercise';
    this._teamBox.hidden = !exercise;
    this._actions.hidden = !exercise;
    this._cardBox.hidden = !exercise;
  }

  /** The team to score as: the branch's, else the one chosen here. */
  private _team(info: IHackathonInfo): string | null {
    if (info.team) {
      return info.team;
    }
    const root = info.exercise?.root ?? '';
    return this._chosen.get(root) ?? null;
  }

  private _renderTeam(path: string, info: IHackathonInfo): void {
    const exercise = info.exercise!;
    const chosen = this._chosen.get(exercise.root);
    const signature = JSON.stringify([exercise, info.team, info.branch, chosen]);
    if (this._teamBox.dataset.signature === signature) {
      return;
    }
    this._teamBox.dataset.signature = signature;
    const box = this._teamBox;
    box.replaceChildren();
    const line = el('div', 'nbops-hack-team-line');
    const team = el('div', 'nbops-hack-team');
    team.dataset.team = info.team ?? '';
    if (info.team) {
      team.append(
        el('span', 'nbops-hack-label', 'Team '),
        el('strong', 'nbops-hack-team-name', info.team)
      );
      team.title = `Your checkout is on branch ${info.branch}`;
    } else {
      team.append(el('span', 'nbops-hack-label', 'No team'));
    }
    line.append(team);
    if (exercise.deadline) {
      const when = formatWhen(exercise.deadline);
      const deadline = el('span', 'nbops-hack-deadline', `deadline ${when.text}`);
      deadline.title = `Deadline: ${when.title}`;
      line.append(deadline);
    }
    box.append(line);
    if (!info.team) {
      const note = el('div', 'nbops-hack-no-team');
      const where = info.branch ? `on branch ${info.branch}` : 'not on a branch';
      note.append(el('span', undefined, `This checkout is ${where}, not team/<name>. `));
      if (exercise.teams.length > 0) {
        const id = `nbops-hack-team-select-${path.replace(/[^A-Za-z0-9]/g, '-')}`;
        const label = el('label', 'nbops-hack-label', 'Score as team ');
        label.htmlFor = id;
        const select = el('select', 'jp-mod-styled nbops-hack-team-select');
        select.id = id;
        select.append(new Option('choose…', ''));
        for (const name of exercise.teams) {
          select.append(new Option(name, name));
        }
        select.value = this._chosen.get(exercise.root) ?? '';
        select.addEventListener('change', () => {
          if (select.value) {
            this._chosen.set(exercise.root, select.value);
          } else {
            this._chosen.delete(exercise.root);
          }
          this._render();
        });
        const row = el('div', 'nbops-hack-team-choice');
        row.append(label, select);
        note.append(row);
      } else {
        note.append(el('span', undefined, 'Switch to your team’s branch to score it.'));
      }
      box.append(note);
    }
  }

  private _renderActions(path: string, info: IHackathonInfo, job: IScoreJob | null): void {
    const state = this._options.model.state(path);
    const running = job?.state === 'running';
    const team = this._team(info);
    const missing = extraMissing(serverExtras.current, 'run', 'Scoring');
    this._renderMissing(missing);
    this._score.disabled = running || state.starting || !team || missing !== null;
    this._score.textContent = running || state.starting ? 'Scoring…' : 'Score now';
    this._score.setAttribute('aria-busy', String(running || state.starting));
    this._score.title = missing
      ? `${missing.message}: ${missing.install}`
      : !team
        ? 'Choose your team first (or switch to your team’s branch)'
        : running
          ? 'Scoring is under way: its scorecard shows here when it is done'
          : `Score team ${team}: runs your tests, your notebook and nbops verify on the server, ` +
            'in a separate process with the time limit of the exercise';
    this._submit.disabled = this._options.model.current === null;

    // the scoring under way, or how the last one ended (drawn again only when that changes)
    const stopping = job !== null && this._stopping.has(job.id);
    const signature = job ? JSON.stringify([job.id, job.state, job.error, stopping]) : '';
    if (this._jobBox.dataset.signature !== signature) {
      this._jobBox.dataset.signature = signature;
      this._jobBox.replaceChildren();
      this._elapsed = null;
      this._current = null;
      this._bar = null;
      const node = job ? this._jobNode(job) : null;
      if (node) {
        this._jobBox.append(node);
      }
    } else if (job?.state === 'running') {
      this._tick(job);
    }
    this._startErrorBox.replaceChildren();
    if (state.startError) {
      this._startErrorBox.append(
        hackathonErrorNode(state.startError, 'score', 'nbops-hack-start-error')
      );
    }
    const stopError = job ? this._stopErrors.get(job.id) : undefined;
    if (stopError) {
      this._startErrorBox.append(
        hackathonErrorNode(stopError, 'stop the scoring', 'nbops-hack-stop-error')
      );
    }
  }

  private _jobNode(job: IScoreJob): HTMLElement | null {
    if (job.state === 'finished' && !job.error) {
      return null; // the card says it all
    }
    const node = el('div', 'nbops-hack-job');
    node.dataset.state = job.state;
    node.dataset.jobId = job.id;
    if (job.state === 'running') {
      const top = el('div', 'nbops-hack-job-top');
      top.append(
        el('span', 'nbops-run-spinner'),
        el('span', 'nbops-hack-job-title', `Scoring team ${job.team}…`)
      );
      this._elapsed = el('span', 'nbops-hack-elapsed');
      this._current = el('div', 'nbops-hack-job-current');
      const stopping = this._stopping.has(job.id);
      const stop = button(
        'jp-mod-warn nbops-hack-stop',
        stopping ? 'Stopping…' : 'Stop',
        'Stop this scoring: the process and everything it started are stopped, no scorecard ' +
          'is saved (the last one stays)'
      );
      stop.disabled = stopping;
      stop.setAttribute('aria-label', `Stop scoring team ${job.team}`);
      stop.addEventListener('click', () => void this._stopScore(job));
      top.append(this._elapsed, stop);
      const bar = el('div', 'nbops-hack-progress');
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-label', `Scoring team ${job.team}`);
      bar.setAttribute('aria-valuetext', 'scoring under way');
      bar.append(el('div', 'nbops-hack-progress-fill'));
      this._bar = bar;
      this._tick(job);
      const what = el(
        'div',
        'nbops-hack-job-note',
        'Runs your tests, your notebook and nbops verify in a separate process on the server ' +
          `(at most ${formatDuration(job.limit_s)}). You can keep working meanwhile.`
      );
      node.append(top, bar, this._current, what);
      return node;
    }
    this._elapsed = null;
    this._current = null;
    this._bar = null;
    if (job.state !== 'cancelled') {
      node.setAttribute('role', 'alert'); // a stop is announced by the status line
    }
    const title =
      job.state === 'finished'
        ? 'Scored, with a note'
        : job.state === 'cancelled'
          ? 'Scoring stopped'
          : 'Scoring failed';
    node.append(el('div', 'nbops-hack-job-title', title));
    if (job.error) {
      node.append(el('div', 'nbops-hack-job-error', job.error));
    }
    return node;
  }

  private _renderCard(card: IScorecard | null, team: string | null, running: boolean): void {
    const signature = JSON.stringify([card, team, running]);
    if (this._cardBox.dataset.signature === signature && this._cardBox.childElementCount > 0) {
      return;
    }
    this._cardBox.dataset.signature = signature;
    const box = this._cardBox;
    box.replaceChildren();
    if (!card) {
      const empty = el('div', 'nbops-hack-empty');
      empty.append(
        el('strong', undefined, 'Not scored yet. '),
        el(
          'span',
          undefined,
          '“Score now” scores your work as the organisers will: lint, documentation, the ' +
            'library and its pipeline, tests, nbops verify and a tracked run, out of 100.'
        )
      );
      box.append(empty);
      return;
    }
    const node = el('section', 'nbops-hack-section nbops-hack-card');
    node.setAttribute('aria-label', `Scorecard of team ${card.team}`);
    node.dataset.team = card.team;
    node.dataset.total = String(card.total);
    node.dataset.requiredPassed = String(card.required_passed);

    if (card.suggestion) {
      const suggestion = el('div', 'nbops-hack-suggestion');
      suggestion.setAttribute('role', 'note');
      suggestion.append(
        el('div', 'nbops-hack-suggestion-label', 'What would raise it most'),
        el('div', 'nbops-hack-suggestion-text', card.suggestion)
      );
      node.append(suggestion);
    }

    const heading = card.team === team ? 'Scorecard' : `Scorecard of team ${card.team}`;
    const totalRow = el('div', 'nbops-hack-total-row');
    const total = el('div', 'nbops-hack-total');
    total.append(
      el('span', 'nbops-hack-total-value', formatPoints(card.total)),
      el('span', 'nbops-hack-total-max', ` / ${formatPoints(card.max_total)}`)
    );
    const when = formatWhen(card.scored_at);
    const scored = el('span', 'nbops-hack-scored-at', `scored ${when.text}`);
    scored.dataset.scoredAt = card.scored_at;
    scored.title = `Scored ${when.title}` + (running ? ' (a new scoring is under way)' : '');
    totalRow.append(total, scored);
    node.append(
      el('h3', 'nbops-hack-heading', heading),
      totalRow,
      meter(
        'nbops-hack-total-meter',
        card.total,
        card.max_total,
        'Total score',
        `${formatPoints(card.total)} of ${formatPoints(card.max_total)} points`
      )
    );
    if (!card.required_passed) {
      const required = el(
        'div',
        'nbops-hack-required',
        'A required check fails (see the notes): the points count, but the team ranks after ' +
          'the teams with the same total whose required checks pass.'
      );
      required.setAttribute('role', 'note');
      node.append(required);
    }

    const list = el('ul', 'nbops-hack-components');
    list.setAttribute('aria-label', 'Components');
    for (const component of card.components) {
      list.append(this._component(card, component));
    }
    node.append(list);

    if (card.errors.length > 0) {
      const notes = el('div', 'nbops-hack-notes');
      notes.append(el('h4', 'nbops-hack-subheading', 'Notes'));
      const items = el('ul', 'nbops-hack-notes-list');
      for (const error of card.errors) {
        items.append(el('li', 'nbops-hack-note', error));
      }
      notes.append(items);
      node.append(notes);
    }
    box.append(node);
  }

  private _component(card: IScorecard, component: IScoreComponent): HTMLElement {
    const item = el('li', 'nbops-hack-component');
    const max = maxPoints(card, component);
    item.dataset.id = component.id;
    item.dataset.status = component.status;
    item.dataset.points = String(component.points);
    item.dataset.weight = String(component.weight);
    const top = el('div', 'nbops-hack-component-top');
    const points = el(
      'span',
      'nbops-hack-component-points',
      `${formatPoints(component.points)} / ${formatPoints(Math.round(max * 10) / 10)}`
    );
    points.title =
      `${formatPoints(component.points)} of ${formatPoints(max)} points ` +
      `(weight ${formatPoints(component.weight)})`;
    top.append(el('span', 'nbops-hack-component-title', component.title), points);
    const share = component.score ?? 0;
    item.append(
      top,
      meter(
        'nbops-hack-component-meter',
        Math.round(share * 100),
        100,
        component.title,
        `${Math.round(share * 100)}%, ` +
          `${formatPoints(component.points)} of ${formatPoints(max)} points`
      )
    );
    if (component.status === 'failed') {
      item.append(
        el(
          'div',
          'nbops-hack-component-reason',
          `Could not be measured: ${component.reason ?? 'no reason given'}`
        )
      );
    } else if (component.explanation) {
      item.append(el('div', 'nbops-hack-component-text', component.explanation));
    }
    return item;
  }

  private _renderStatus(starting: boolean, job: IScoreJob | null, card: IScorecard | null): void {
    if (starting) {
      this._setStatus('Starting the scoring…');
    } else if (job?.state === 'running' && this._stopping.has(job.id)) {
      this._setStatus(`Stopping the scoring of team ${job.team}…`);
    } else if (job?.state === 'running') {
      this._setStatus(`Scoring team ${job.team}…`);
    } else if (job?.state === 'failed') {
      this._setStatus('Scoring failed.');
    } else if (job?.state === 'cancelled') {
      this._setStatus('Scoring stopped.');
    } else if (card) {
      this._setStatus(
        `Team ${card.team}: ${formatPoints(card.total)} of ${formatPoints(card.max_total)} points.`
      );
    } else {
      this._setStatus('');
    }
  }

  // -- the elapsed time of a running scoring (not announced: the status line is) --------------

  private _tick(job: IScoreJob): void {
    if (this._elapsed) {
      const seconds = elapsed(job);
      this._elapsed.textContent = seconds === null ? '' : formatDuration(Math.round(seconds));
    }
    // the components scored so far and the one under way (the scorer's progress)
    const progress = job.progress;
    if (this._current && this._bar && progress) {
      const text = `${progress.done} of ${progress.total} components scored`;
      this._current.textContent = progress.current ? `${text} · ${progress.current}` : text;
      this._bar.setAttribute('aria-valuemin', '0');
      this._bar.setAttribute('aria-valuemax', String(progress.total));
      this._bar.setAttribute('aria-valuenow', String(progress.done));
      this._bar.setAttribute('aria-valuetext', text);
    }
  }

  private _startTicking(): void {
    if (this._ticker !== null) {
      return;
    }
    this._ticker = window.setInterval(() => {
      const path = this._path();
      const job = path ? this._options.model.job(path) : null;
      if (job?.state === 'running') {
        this._tick(job);
      } else {
        this._stopTicking();
      }
    }, 1000);
  }

  private _stopTicking(): void {
    if (this._ticker !== null) {
      window.clearInterval(this._ticker);
      this._ticker = null;
    }
  }

  /** The run extra missing on the server: why "Score now" is disabled, and the install line. */
  private _renderMissing(missing: IMissing | null): void {
    const text = missing ? `${missing.message}|${missing.install}` : '';
    if (this._missing.dataset.text === text) {
      return;
    }
    this._missing.dataset.text = text;
    this._missing.hidden = missing === null;
    this._missing.replaceChildren();
    if (missing) {
      this._missing.append(
        document.createTextNode(
          `${missing.message}. Install it in the Python environment that runs Jupyter: `
        ),
        el('code', undefined, missing.install),
        document.createTextNode(', then restart JupyterLab.')
      );
    }
  }

  private async _startScore(): Promise<void> {
    const path = this._path();
    const info = path ? this._options.model.state(path).info : null;
    if (!path || !info?.exercise || extraMissing(serverExtras.current, 'run', 'Scoring')) {
      return;
    }
    const team = this._team(info);
    if (!team) {
      return;
    }
    await this._options.model.score(path, info.team ? null : team);
  }

  /**
   * "Stop": the server answers once the scoring has ended; then the model asks again, as a
   * reload would, so every notebook of the checkout shows the job stopped.
   */
  private async _stopScore(job: IScoreJob): Promise<void> {
    const path = this._path();
    if (!path || this._stopping.has(job.id)) {
      return;
    }
    this._stopping.add(job.id);
    this._stopErrors.delete(job.id);
    this._render();
    try {
      await this._options.model.cancel(path, job.id);
    } catch (reason) {
      this._stopErrors.set(job.id, toApiError(reason));
    } finally {
      this._stopping.delete(job.id);
      this._render();
    }
  }

  private _options: IHackathonPanelOptions;
  private _notebook!: HTMLElement;
  private _refresh!: HTMLButtonElement;
  private _status!: HTMLElement;
  private _none!: HTMLElement;
  private _errorBox!: HTMLElement;
  private _teamBox!: HTMLElement;
  private _actions!: HTMLElement;
  private _score!: HTMLButtonElement;
  private _submit!: HTMLButtonElement;
  private _jobBox!: HTMLElement;
  private _startErrorBox!: HTMLElement;
  private _missing!: HTMLElement;
  private _unsaved!: HTMLElement;
  private _cardBox!: HTMLElement;
  private _elapsed: HTMLElement | null = null;
  private _current: HTMLElement | null = null;
  private _bar: HTMLElement | null = null;
  private _ticker: number | null = null;
  /** The team chosen by hand per exercise folder (a checkout not on a team branch). */
  private _chosen = new Map<string, string>();
  /** Jobs whose "Stop" is under way, and why a "Stop" was refused (by job id). */
  private _stopping = new Set<string>();
  private _stopErrors = new Map<string, NbopsApiError>();
  private _available = false;
  private _running = false;
  private _availableChanged = new Signal<this, boolean>(this);
  private _runningChanged = new Signal<this, boolean>(this);
}

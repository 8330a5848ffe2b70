/**
 * The body of the "Submit for review" dialog: the form (title, description, reviewers), the
 * live checklist of the review gate (`POST nbops/check`), the progress of the submit and its
 * outcome (`POST nbops/submit`). `src/submit.ts` drives it; this file only renders state.
 *
 * - The checklist is grouped by category, each check with a badge (`pass`, `fail`, `warn`: a
 *   failing optional check, `skip`). A failing check shows its message and how to fix it; with
 *   a cell, "Go to cell N" (or a click on the row) jumps there; with a safe lint fix, "Fix"
 *   applies it to the open notebook.
 * - "Submit for review" (the dialog's own button) is enabled only when every required check
 *   passes for the notebook as it is, and it is saved (a submit takes the saved file): else
 *   a line says why, with "Save" when there are unsaved changes.
 * - While the submit runs: a progress line (`aria-live`); then the branch, the commit, the
 *   remote and the pull request (or where to open it), or the failure in plain words.
 *
 * Plain Lumino widget + DOM. Stable hooks for browser tests:
 *   .nbops-submit-review[data-state]               the body: checking | blocked | unsaved |
 *                                                  ready | submitting | submitted | failed
 *   .nbops-submit-notebook[data-path], .nbops-submit-target   the notebook; remote and base
 *   input.nbops-submit-title, textarea.nbops-submit-message, input.nbops-submit-reviewers
 *   .nbops-submit-summary[data-passed][data-blocking]   one line (aria-live)
 *   .nbops-submit-recheck                          check again
 *   .nbops-submit-checking                         a check is under way
 *   .nbops-submit-group[data-category]             one category of checks
 *   .nbops-submit-check[data-id][data-status][data-badge][data-level][data-cell-index]
 *     .nbops-submit-badge, .nbops-submit-check-message, .nbops-submit-check-fix,
 *     .nbops-submit-check-details
 *     button.nbops-submit-goto                     go to the check's cell
 *     button.nbops-submit-fix[data-code]           apply the safe fix
 *   .nbops-submit-note                             what the last Fix did
 *   .nbops-submit-check-error[data-error][data-status]   the check request failed
 *   .nbops-submit-unsaved, button.nbops-submit-save     unsaved changes; save
 *   .nbops-submit-blocked                          why "Submit for review" is disabled
 *   .nbops-submit-progress                         the submit is under way (aria-live)
 *   .nbops-submit-result[data-outcome]             success | failed
 *     .nbops-submit-branch, .nbops-submit-commit, .nbops-submit-remote,
 *     a.nbops-submit-pr-link, a.nbops-submit-compare-link, .nbops-submit-branch-only,
 *     .nbops-submit-warnings li
 *     (failed) [data-error][data-status][data-reason], .nbops-error-message, .nbops-error-hint
 *   button.nbops-submit-go                         the dialog's "Submit for review"
 */
import { Widget } from '@lumino/widgets';

import type { NbopsApiError } from '../api';
import type { CheckCategory, ICheckResult, IGateReport, ISubmitResult } from '../tokens';
import { button, el, plural } from './dom';
import { errorNode } from './errors';

/** The class of the dialog's submit button, which the body enables and disables. */
export const SUBMIT_BUTTON_CLASS = 'nbops-submit-go';

const CATEGORIES: Array<[CheckCategory, string]> = [
  ['documentation', 'Documentation'],
  ['quality', 'Quality'],
  ['safety', 'Safety'],
  ['reproducibility', 'Reproducibility']
];

export type CheckBadge = 'pass' | 'fail' | 'warn' | 'skip';

const BADGE_TEXT: Record<CheckBadge, string> = {
  pass: 'pass',
  fail: 'fail',
  warn: 'warn',
  skip: 'skip'
};

const BADGE_TITLE: Record<CheckBadge, string> = {
  pass: 'Passes',
  fail: 'Fails: a required check, it blocks the submit',
  warn: 'Fails, but the check is optional: it does not block the submit',
  skip: 'Does not apply to this notebook'
};

/** Plain words for why a push failed, before the server's own message. */
const PUSH_FAILURES: Record<string, string> = {
  rejected: 'The review branch on the remote has commits this one does not have.',
  declined: 'The remote refused the push.',
  auth: 'The remote did not accept the credentials.',
  network: 'The remote could not be reached.',
  other: 'Pushing the review branch failed.'
};

/** What the user typed, kept per notebook while the dialog is closed. */
export interface ISubmitFormValues {
  title: string;
  message: string;
  /** Comma-separated, as typed. */
  reviewers: string;
}

export type SubmitPhase = 'editing' | 'submitting' | 'submitted' | 'failed';

export interface ISubmitViewState {
  /** The last checklist (of the content at `stale === false`). */
  gate: IGateReport | null;
  /** A check request is under way. */
  checking: boolean;
  /** The notebook changed since `gate` was computed (a new check is coming). */
  stale: boolean;
  /** The last check request failed. */
  checkError: NbopsApiError | null;
  /** The notebook has unsaved changes. */
  dirty: boolean;
  /** The id of the check whose fix is being applied. */
  fixing: string | null;
  /** What the last Fix did (or why it did nothing). */
  note: string | null;
  phase: SubmitPhase;
  result: ISubmitResult | null;
  error: NbopsApiError | null;
}

export interface ISubmitViewOptions {
  /** The notebook, root-relative. */
  path: string;
  values: ISubmitFormValues;
  /** What the title is when the field is left empty. */
  defaultTitle: string;
  /** Whether a failing check's `fix_code` has a safe fix (a "Fix" button). */
  canFix: (check: ICheckResult) => boolean;
  onGoToCell: (index: number) => void;
  onFix: (check: ICheckResult) => void;
  onSave: () => void;
  onRecheck: () => void;
}

/** The badge of a check: a failing optional check is a warning. */
export function badgeOf(check: ICheckResult): CheckBadge {
  if (check.status === 'fail') {
    return check.blocking ? 'fail' : 'warn';
  }
  return check.status;
}

/** `alice, @bob,, org/team` -> `['alice', 'bob', 'org/team']` */
export function parseReviewers(text: string): string[] {
  const names = text
    .split(/[,\s]+/)
    .map(name => name.trim().replace(/^@/, ''))
    .filter(name => name.length > 0);
  return [...new Set(names)];
}

/** Only http(s) URLs become links. */
function safeUrl(url: string | null | undefined): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

function link(className: string, url: string, text: string): HTMLElement {
  const safe = safeUrl(url);
  if (!safe) {
    return el('code', className, url);
  }
  const a = el('a', className, text);
  a.href = safe;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

export class SubmitView extends Widget {
  constructor(options: ISubmitViewOptions) {
    super();
    this._options = options;
    this.addClass('nbops-submit-review');
    this.node.setAttribute('aria-label', `Submit ${options.path} for review`);
    this._build(options);
    this._render();
  }

  /** The current state (read-only: change it with `setState`). */
  get state(): Readonly<ISubmitViewState> {
    return this._state;
  }

  /** Merge `change` into the state and render. */
  setState(change: Partial<ISubmitViewState>): void {
    this._state = { ...this._state, ...change };
    this._render();
  }

  /** What the form holds now. */
  values(): ISubmitFormValues {
    return {
      title: this._title.value,
      message: this._message.value,
      reviewers: this._reviewers.value
    };
  }

  /** Every required check passes for the notebook as it is, it is saved, nothing is going on. */
  get canSubmit(): boolean {
    return this._blockedReason() === null;
  }

  /** Bring the dialog's submit button in line with the state (the dialog calls it too). */
  sync(): void {
    const ok = this.canSubmit;
    const dialog = this.node.closest('.jp-Dialog-content');
    const submit = dialog?.querySelector<HTMLButtonElement>(`button.${SUBMIT_BUTTON_CLASS}`);
    if (submit) {
      submit.disabled = !ok;
      submit.hidden = this._state.phase === 'submitted';
      submit.title = ok
        ? 'Push a review branch and open the pull request'
        : (this._blockedReason() ?? '');
    }
    const close = dialog?.querySelector<HTMLButtonElement>(
      '.jp-Dialog-footer button.jp-mod-reject'
    );
    const label = close?.querySelector('.jp-Dialog-buttonLabel');
    if (label) {
      label.textContent = this._state.phase === 'submitted' ? 'Done' : 'Close';
    }
  }

  protected onAfterAttach(): void {
    // room for the checklist: JupyterLab caps dialogs at 500 px high
    this.node.closest('.jp-Dialog-content')?.classList.add('nbops-submit-dialog-content');
    this.sync();
  }

  // -- skeleton --------------------------------------------------------------------------------

  private _field(
    label: string,
    input: HTMLInputElement | HTMLTextAreaElement,
    help?: string
  ): HTMLElement {
    const row = el('div', 'nbops-submit-field');
    const id = `nbops-submit-${Private.nextId()}`;
    input.id = id;
    const text = el('label', 'nbops-submit-label', label);
    text.htmlFor = id;
    row.append(text, input);
    if (help) {
      const note = el('div', 'nbops-submit-help', help);
      note.id = `${id}-help`;
      input.setAttribute('aria-describedby', note.id);
      row.append(note);
    }
    return row;
  }

  private _build(options: ISubmitViewOptions): void {
    const head = el('div', 'nbops-submit-head');
    this._notebook = el('code', 'nbops-submit-notebook', options.path);
    this._notebook.dataset.path = options.path;
    this._target = el('span', 'nbops-submit-target');
    head.append(this._notebook, this._target);

    const form = el('div', 'nbops-submit-form');
    this._title = el('input', 'jp-mod-styled nbops-submit-title');
    this._title.type = 'text';
    this._title.maxLength = 256;
    this._title.value = options.values.title;
    this._title.placeholder = options.defaultTitle;
    this._message = el('textarea', 'jp-mod-styled nbops-submit-message');
    this._message.rows = 3;
    this._message.maxLength = 20000;
    this._message.value = options.values.message;
    this._message.placeholder = 'What changed, what to look at (optional)';
    this._reviewers = el('input', 'jp-mod-styled nbops-submit-reviewers');
    this._reviewers.type = 'text';
    this._reviewers.value = options.values.reviewers;
    this._reviewers.autocomplete = 'off';
    this._reviewers.spellcheck = false;
    this._reviewers.placeholder = 'e.g. alice, org/ml-team';
    form.append(
      this._field('Title', this._title),
      this._field(
        'Description',
        this._message,
        'At the top of the review report and the pull request.'
      ),
      this._field(
        'Reviewers',
        this._reviewers,
        'User names or teams (org/team), separated by commas.'
      )
    );

    const checks = el('section', 'nbops-submit-section');
    checks.setAttribute('aria-label', 'Review checklist');
    const heading = el('div', 'nbops-submit-checks-head');
    heading.append(el('h3', 'nbops-submit-heading', 'Checklist'));
    this._summary = el('span', 'nbops-submit-summary');
    this._summary.setAttribute('role', 'status');
    this._summary.setAttribute('aria-live', 'polite');
    this._summary.tabIndex = -1;
    this._spinner = el('span', 'nbops-spinner nbops-submit-checking');
    this._spinner.setAttribute('aria-label', 'Checking');
    this._recheck = button('jp-mod-minimal nbops-submit-recheck', '↻', 'Run the checks again');
    this._recheck.setAttribute('aria-label', 'Run the checks again');
    this._recheck.addEventListener('click', () => this._options.onRecheck());
    heading.append(this._summary, this._spinner, this._recheck);
    this._note = el('div', 'nbops-submit-note');
    this._note.setAttribute('role', 'status');
    this._checkError = el('div', 'nbops-submit-check-error-box');
    this._list = el('div', 'nbops-submit-checklist');
    checks.append(heading, this._note, this._checkError, this._list);

    this._unsaved = el('div', 'nbops-submit-unsaved');
    this._unsaved.append(
      el('span', undefined, 'Unsaved changes: a submit takes the saved notebook. ')
    );
    this._save = button('jp-mod-minimal nbops-submit-save', 'Save', 'Save the notebook now');
    this._save.addEventListener('click', () => this._options.onSave());
    this._unsaved.append(this._save);

    this._blocked = el('div', 'nbops-submit-blocked');
    this._progress = el('div', 'nbops-submit-progress');
    this._progress.setAttribute('role', 'status');
    this._progress.setAttribute('aria-live', 'polite');
    this._result = el('div', 'nbops-submit-result-box');
    this._result.setAttribute('aria-live', 'polite');

    this.node.append(
      head,
      form,
      checks,
      this._unsaved,
      this._blocked,
      this._progress,
      this._result
    );
  }

  // -- rendering ---------------------------------------------------------------------------------

  /** Why "Submit for review" is disabled, or null when it is not. */
  private _blockedReason(): string | null {
    const s = this._state;
    if (s.phase === 'submitting') {
      return 'Submitting…';
    }
    if (s.phase === 'submitted') {
      return 'Submitted.';
    }
    if (s.fixing) {
      return 'Applying a fix…';
    }
    if (!s.gate) {
      return s.checkError ? 'The checks could not run: see above.' : 'Checking the notebook…';
    }
    if (s.stale) {
      return 'The notebook changed: checking it again…';
    }
    if (!s.gate.passed) {
      const n = s.gate.summary.blocking;
      return `${plural(n, 'required check')} ${n === 1 ? 'fails' : 'fail'}: fix ${
        n === 1 ? 'it' : 'them'
      } first.`;
    }
    if (s.dirty) {
      return 'Save the notebook first: a submit takes the saved file.';
    }
    return null;
  }

  private _stateName(): string {
    const s = this._state;
    if (s.phase !== 'editing') {
      return s.phase;
    }
    if (!s.gate || s.stale) {
      return 'checking';
    }
    if (!s.gate.passed) {
      return 'blocked';
    }
    return s.dirty ? 'unsaved' : 'ready';
  }

  private _render(): void {
    const s = this._state;
    this.node.dataset.state = this._stateName();
    const busy = s.phase === 'submitting';
    for (const input of [this._title, this._message, this._reviewers]) {
      input.disabled = busy || s.phase === 'submitted';
    }

    const policy = s.gate?.policy ?? s.result?.gate.policy;
    if (policy) {
      this._target.textContent = ` → a review branch on ${policy.remote}, pull request into ${policy.base}`;
      this._reviewers.placeholder =
        policy.reviewers.length > 0
          ? `default: ${policy.reviewers.join(', ')}`
          : 'e.g. alice, org/ml-team';
    }

    this._spinner.hidden = !(s.checking || s.fixing !== null);
    this._recheck.disabled = s.checking || busy;
    this._renderSummary();
    this._renderChecks();

    this._note.textContent = s.note ?? '';
    this._note.hidden = !s.note;

    this._checkError.replaceChildren();
    if (s.checkError) {
      this._checkError.append(errorNode(s.checkError, 'nbops-error nbops-submit-check-error'));
    }

    this._unsaved.hidden = !s.dirty || s.phase === 'submitted';
    this._save.disabled = busy;

    const reason = this._blockedReason();
    const explain = s.phase === 'editing' && reason !== null && !!s.gate && !s.stale;
    this._blocked.textContent = explain ? reason : '';
    this._blocked.hidden = !explain;

    this._progress.replaceChildren();
    this._progress.hidden = !busy;
    if (busy) {
      const remote = policy?.remote ?? 'the remote';
      this._progress.append(
        el('span', 'nbops-spinner'),
        el(
          'span',
          undefined,
          `Submitting: checking again, building the review branch, pushing to ${remote}…`
        )
      );
    }

    this._result.replaceChildren();
    if (s.phase === 'submitted' && s.result) {
      this._result.append(this._success(s.result));
    } else if (s.phase === 'failed' && s.error) {
      this._result.append(this._failure(s.error));
    }
    if (s.phase !== this._shownPhase) {
      // the outcome (or the progress) is below the checklist: bring it into view
      this._shownPhase = s.phase;
      const shown = busy ? this._progress : this._result.firstElementChild;
      if (shown instanceof HTMLElement && this.isAttached) {
        shown.scrollIntoView({ block: 'nearest' });
      }
    }
    this.sync();
  }

  private _renderSummary(): void {
    const s = this._state;
    const gate = s.gate;
    if (!gate) {
      this._summary.textContent = s.checkError ? 'could not check' : 'checking…';
      delete this._summary.dataset.passed;
      delete this._summary.dataset.blocking;
      return;
    }
    const required = gate.checks.filter(c => c.level === 'required' && c.status !== 'skip');
    const warnings = gate.checks.filter(c => badgeOf(c) === 'warn').length;
    let text = gate.passed
      ? `all ${required.length} required checks pass`
      : `${gate.summary.blocking} of ${required.length} required checks fail`;
    if (warnings > 0) {
      text += `, ${plural(warnings, 'warning')}`;
    }
    if (s.stale) {
      text += ' (the notebook changed: checking again)';
    }
    this._summary.textContent = text;
    this._summary.dataset.passed = String(gate.passed);
    this._summary.dataset.blocking = String(gate.summary.blocking);
  }

  private _renderChecks(): void {
    const s = this._state;
    // keep the focus on the same control across renders (a Fix button, a row)
    const active = document.activeElement as HTMLElement | null;
    const focusKey = active && this._list.contains(active) ? active.dataset.focusKey : undefined;
    this._list.replaceChildren();
    const gate = s.gate;
    if (!gate) {
      return;
    }
    for (const [category, title] of CATEGORIES) {
      const checks = gate.checks.filter(c => c.category === category);
      if (checks.length === 0) {
        continue;
      }
      const group = el('section', 'nbops-submit-group');
      group.dataset.category = category;
      const heading = el('h4', 'nbops-submit-group-title', title);
      heading.id = `nbops-submit-${Private.nextId()}`;
      const ul = el('ul', 'nbops-submit-checks');
      ul.setAttribute('aria-labelledby', heading.id);
      for (const check of checks) {
        ul.append(this._check(check));
      }
      group.append(heading, ul);
      this._list.append(group);
    }
    if (focusKey) {
      const again = this._list.querySelector<HTMLElement>(`[data-focus-key="${focusKey}"]`);
      (again ?? this._summary).focus();
    }
  }

  private _check(check: ICheckResult): HTMLElement {
    const s = this._state;
    const badge = badgeOf(check);
    const li = el('li', 'nbops-submit-check');
    li.dataset.id = check.id;
    li.dataset.status = check.status;
    li.dataset.badge = badge;
    li.dataset.level = check.level;
    li.dataset.cellIndex = check.cell_index === null ? '' : String(check.cell_index);

    const line = el('div', 'nbops-submit-check-line');
    const mark = el('span', `nbops-submit-badge nbops-submit-badge-${badge}`, BADGE_TEXT[badge]);
    mark.title = BADGE_TITLE[badge];
    line.append(mark, el('span', 'nbops-submit-check-title', check.title));
    if (check.level === 'optional') {
      line.append(el('span', 'nbops-submit-optional', 'optional'));
    }
    li.append(line);
    li.append(el('div', 'nbops-submit-check-message', check.message));

    const failing = check.status === 'fail';
    if (failing) {
      if (check.fix) {
        const fix = el('div', 'nbops-submit-check-fix');
        fix.append(el('span', 'nbops-submit-fix-label', 'Fix: '), el('span', undefined, check.fix));
        li.append(fix);
      }
      if (check.details.length > 0) {
        const details = el('details', 'nbops-submit-check-details');
        details.append(el('summary', undefined, plural(check.details.length, 'detail')));
        const ul = el('ul');
        for (const item of check.details.slice(0, 20)) {
          ul.append(el('li', undefined, item));
        }
        if (check.details.length > 20) {
          ul.append(el('li', undefined, `… and ${check.details.length - 20} more`));
        }
        details.append(ul);
        li.append(details);
      }
      const actions = el('div', 'nbops-submit-check-actions');
      const busy = s.phase === 'submitting' || s.fixing !== null;
      if (check.cell_index !== null) {
        const index = check.cell_index;
        const goto = button(
          'jp-mod-minimal nbops-submit-goto',
          `Go to cell ${index + 1}`,
          `Close this dialog and show cell ${index + 1}`
        );
        goto.dataset.focusKey = `goto-${check.id}`;
        goto.addEventListener('click', event => {
          event.stopPropagation();
          this._options.onGoToCell(index);
        });
        actions.append(goto);
        li.classList.add('nbops-submit-clickable');
        li.title = `Click to show cell ${index + 1}`;
        li.addEventListener('click', event => {
          const target = event.target as HTMLElement;
          // a click on a control or inside the details is not a jump
          if (target.closest('button, a, details')) {
            return;
          }
          this._options.onGoToCell(index);
        });
      }
      if (check.fix_code && this._options.canFix(check)) {
        const fix = button(
          'jp-mod-accept nbops-submit-fix',
          s.fixing === check.id ? 'Fixing…' : 'Fix',
          `Apply nbops's safe fix (${check.fix_code}) to the open notebook: one undoable change, not saved`
        );
        fix.dataset.code = check.fix_code;
        fix.dataset.focusKey = `fix-${check.id}`;
        fix.disabled = busy;
        fix.setAttribute('aria-label', `Fix: ${check.title} (${check.fix_code})`);
        fix.addEventListener('click', event => {
          event.stopPropagation();
          this._options.onFix(check);
        });
        actions.append(fix);
      }
      if (actions.childElementCount > 0) {
        li.append(actions);
      }
    }
    return li;
  }

  private _success(result: ISubmitResult): HTMLElement {
    const node = el('div', 'nbops-submit-result');
    node.dataset.outcome = 'success';
    node.setAttribute('role', 'status');
    const fresh = result.committed || result.pushed;
    node.append(
      el(
        'div',
        'nbops-submit-result-title',
        fresh
          ? 'Submitted for review'
          : 'Already submitted: the review branch has exactly this notebook'
      )
    );
    const facts = el('dl', 'nbops-submit-facts');
    const fact = (term: string, value: HTMLElement) => {
      facts.append(el('dt', undefined, term));
      const dd = el('dd');
      dd.append(value);
      facts.append(dd);
    };
    fact('Branch', el('code', 'nbops-submit-branch', result.branch));
    if (result.commit) {
      const commit = el('code', 'nbops-submit-commit', result.commit.slice(0, 10));
      commit.title = result.commit;
      fact('Commit', commit);
    }
    fact(
      'Remote',
      el(
        'span',
        'nbops-submit-remote',
        result.pushed ? `pushed to ${result.remote}` : `already in ${result.remote}`
      )
    );
    if (result.merged_base) {
      fact(
        'Base',
        el(
          'span',
          'nbops-submit-merged-base',
          `${result.base} had moved: merged into the branch first`
        )
      );
    }
    const review = el('span', 'nbops-submit-review-where');
    const pr = result.pull_request;
    if (pr) {
      review.append(
        link('nbops-submit-pr-link', pr.url, `pull request #${pr.number}`),
        document.createTextNode(pr.created ? ' (opened)' : ' (updated)')
      );
    } else if (result.compare_url) {
      review.append(
        document.createTextNode(`No ${result.forge ?? 'forge'} token on the server: `),
        link('nbops-submit-compare-link', result.compare_url, 'open the pull request'),
        document.createTextNode(` (${result.branch} into ${result.base})`)
      );
    } else {
      review.append(
        el(
          'span',
          'nbops-submit-branch-only',
          `The branch is in ${result.remote}: it is not a GitHub or GitLab remote, so ask ` +
            `for the review (${result.branch} into ${result.base}) where your team does.`
        )
      );
    }
    fact('Review', review);
    fact('Report', el('code', 'nbops-submit-report', result.report));
    node.append(facts);
    if (result.warnings.length > 0) {
      const ul = el('ul', 'nbops-submit-warnings');
      ul.setAttribute('aria-label', 'Warnings');
      for (const warning of result.warnings) {
        ul.append(el('li', undefined, warning));
      }
      node.append(el('div', 'nbops-submit-warnings-title', 'Warnings'), ul);
    }
    return node;
  }

  private _failure(error: NbopsApiError): HTMLElement {
    const node = el('div', 'nbops-error nbops-submit-result');
    node.dataset.outcome = 'failed';
    node.dataset.error = error.error;
    node.dataset.status = String(error.status);
    if (error.reason) {
      node.dataset.reason = error.reason;
    }
    node.setAttribute('role', 'alert');
    let lead: string;
    if (error.error === 'GateFailed') {
      lead =
        'The review gate blocks this notebook: fix the failing checks above, then submit again.';
    } else if (error.reason) {
      lead = PUSH_FAILURES[error.reason] ?? PUSH_FAILURES.other;
    } else if (error.status === 503) {
      lead =
        'The forge asks to slow down (rate limit)' +
        (error.retryAfter
          ? `: try again in ${Math.ceil(error.retryAfter)} s.`
          : ': try again later.');
    } else if (error.status === 0) {
      lead = 'The Jupyter server could not be reached.';
    } else {
      lead = 'The submit failed. Nothing was pushed.';
    }
    node.append(el('div', 'nbops-submit-result-title', lead));
    node.append(el('div', 'nbops-error-message', error.message));
    if (error.hint) {
      node.append(el('div', 'nbops-error-hint', error.hint));
    }
    return node;
  }

  private _options: ISubmitViewOptions;
  private _shownPhase: SubmitPhase = 'editing';
  private _state: ISubmitViewState = {
    gate: null,
    checking: false,
    stale: false,
    checkError: null,
    dirty: false,
    fixing: null,
    note: null,
    phase: 'editing',
    result: null,
    error: null
  };
  private _notebook!: HTMLElement;
  private _target!: HTMLElement;
  private _title!: HTMLInputElement;
  private _message!: HTMLTextAreaElement;
  private _reviewers!: HTMLInputElement;
  private _summary!: HTMLElement;
  private _spinner!: HTMLElement;
  private _recheck!: HTMLButtonElement;
  private _note!: HTMLElement;
  private _checkError!: HTMLElement;
  private _list!: HTMLElement;
  private _unsaved!: HTMLElement;
  private _save!: HTMLButtonElement;
  private _blocked!: HTMLElement;
  private _progress!: HTMLElement;
  private _result!: HTMLElement;
}

namespace Private {
  let id = 0;

  /** A number for element ids, unique in the page. */
  export function nextId(): number {
    return ++id;
  }
}

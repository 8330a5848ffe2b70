/**
 * The "Lint" tab of the nbops sidebar (panels/sidebar.ts): the current notebook's findings
 * grouped by cell.
 *
 * Plain Lumino widget + DOM. Stable hooks for browser tests:
 *   .nbops-lint-panel                    this tab (inside `.nbops-panel`, id `nbops-panel`)
 *   .nbops-panel-lint / .nbops-fix-all / .nbops-panel-modularize   header buttons
 *   .nbops-status[data-status]           idle | linting | fixing | done | error
 *   .nbops-spinner                       present while linting or fixing
 *   .nbops-error[data-error]             an error (data-error="server_missing" when the
 *                                        server extension is not there)
 *   .nbops-cell-group[data-cell-index]   one group per cell ("" for notebook-wide findings)
 *   .nbops-finding[data-code][data-cell-index][data-severity][data-source][data-line]
 *   .nbops-fix                           a finding's "Fix" button (safe fixes only)
 *   .nbops-rule-link                     the rule's documentation, new tab
 *   .nbops-empty                         "no findings"
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import type { NbopsApiError } from '../api';
import type { NbopsModel, INotebookLintState } from '../model';
import type { IDiagnostic, ILintSummary, Severity } from '../tokens';
import { el, plural } from './dom';
import { errorNode } from './errors';

export interface ILintPanelOptions {
  model: NbopsModel;
  /** Run a lint of the current notebook now. */
  onLint: () => void;
  /** Apply all safe fixes to the current notebook. */
  onFixAll: () => void;
  /** Modularize the current notebook (preview first). */
  onModularize: () => void;
  /** Apply one finding's safe fix. */
  onFix: (panel: NotebookPanel, diagnostic: IDiagnostic) => void;
  /** Make the finding's cell active and scroll to it. */
  onGoTo: (panel: NotebookPanel, diagnostic: IDiagnostic) => void;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function summaryText(summary: ILintSummary): string {
  if (summary.findings === 0) {
    return 'No findings';
  }
  const parts = [
    plural(summary.errors, 'error'),
    plural(summary.warnings, 'warning'),
    plural(summary.infos, 'info')
  ];
  const fixable = summary.fixable > 0 ? ` · ${summary.fixable} fixable` : '';
  return `${parts.join(', ')}${fixable}`;
}

function locationText(d: IDiagnostic): string {
  if (d.line === null) {
    return '';
  }
  return d.column !== null ? `line ${d.line}:${d.column}` : `line ${d.line}`;
}

export class LintPanel extends Widget {
  constructor(options: ILintPanelOptions) {
    super();
    this._options = options;
    this.id = 'nbops-lint-tabpanel';
    this.addClass('nbops-lint-panel');
    this.title.label = 'Lint';
    this.title.caption = 'nbops findings';
    this._build();

    const model = options.model;
    model.currentChanged.connect(this._render, this);
    model.serverChanged.connect(this._render, this);
    model.stateChanged.connect((_, panel) => {
      if (panel === model.current) {
        this._render();
      }
    }, this);
    this._render();
  }

  protected onAfterShow(): void {
    // The first time the panel is seen, ask for the version and rule table.
    void this._options.model.loadServerInfo();
    this._render();
  }

  private _build(): void {
    const header = el('div', 'nbops-panel-header');
    const title = el('div', 'nbops-panel-title');
    title.append(el('span', 'nbops-panel-name', 'nbops'));
    this._version = el('span', 'nbops-panel-version');
    title.append(this._version);
    header.append(title);

    const actions = el('div', 'nbops-panel-actions');
    this._lintButton = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-accept nbops-panel-lint',
      'Lint'
    );
    this._lintButton.type = 'button';
    this._lintButton.title = 'Lint this notebook now';
    this._lintButton.addEventListener('click', () => this._options.onLint());
    this._fixAllButton = el('button', 'jp-Button jp-mod-styled nbops-fix-all', 'Fix all safe');
    this._fixAllButton.type = 'button';
    this._fixAllButton.title =
      'Apply every safe fix to the open notebook (not saved; undo with Z in command mode)';
    this._fixAllButton.addEventListener('click', () => this._options.onFixAll());
    this._modularizeButton = el(
      'button',
      'jp-Button jp-mod-styled nbops-panel-modularize',
      'Modularize'
    );
    this._modularizeButton.type = 'button';
    this._modularizeButton.title =
      'Turn the saved notebook into a module, a pipeline and tests (shows the plan first)';
    this._modularizeButton.addEventListener('click', () => this._options.onModularize());
    actions.append(this._lintButton, this._fixAllButton, this._modularizeButton);
    header.append(actions);

    this._notebookName = el('div', 'nbops-panel-notebook');
    this._status = el('div', 'nbops-status');
    this._status.setAttribute('aria-live', 'polite');
    this._errorBox = el('div', 'nbops-error-box');
    this._findings = el('div', 'nbops-findings');

    this.node.append(header, this._notebookName, this._status, this._errorBox, this._findings);
  }

  private _render(): void {
    if (this.isDisposed) {
      return;
    }
    const model = this._options.model;
    const panel = model.current;
    const state = model.state(panel);

    this._version.textContent = model.serverVersion ? `v${model.serverVersion}` : '';

    // Which notebook
    if (panel) {
      this._notebookName.textContent = panel.context.localPath;
      this._notebookName.title = panel.context.localPath;
      this._notebookName.dataset.path = panel.context.localPath;
    } else {
      this._notebookName.textContent = 'No notebook open';
      this._notebookName.title = '';
      delete this._notebookName.dataset.path;
    }

    const busy = state?.status === 'linting' || state?.status === 'fixing';
    this._lintButton.disabled = !panel || busy;
    const fixable = state?.result?.summary.fixable ?? 0;
    this._fixAllButton.disabled = !panel || busy || !state?.result || fixable === 0;
    this._modularizeButton.disabled = !panel;

    this._renderStatus(panel, state);
    this._renderError(state);
    this._renderFindings(panel, state);
  }

  private _renderStatus(panel: NotebookPanel | null, state: INotebookLintState | null): void {
    const box = this._status;
    box.replaceChildren();
    const status = state?.status ?? 'idle';
    box.dataset.status = status;
    if (!panel) {
      box.append(el('span', 'nbops-status-text', 'Open a notebook to see its findings.'));
      return;
    }
    if (status === 'linting' || status === 'fixing') {
      const spinner = el('span', 'nbops-spinner');
      spinner.setAttribute('role', 'progressbar');
      spinner.setAttribute('aria-label', status === 'linting' ? 'Linting' : 'Fixing');
      box.append(spinner);
      box.append(el('span', 'nbops-status-text', status === 'linting' ? 'Linting…' : 'Fixing…'));
      return;
    }
    if (state?.result) {
      const text = el('span', 'nbops-status-text nbops-summary', summaryText(state.result.summary));
      text.dataset.findings = String(state.result.summary.findings);
      box.append(text);
      if (state.stale) {
        const stale = el('span', 'nbops-stale', 'edited since');
        stale.title = 'The notebook changed after this lint; lint again to refresh.';
        box.append(stale);
      }
      return;
    }
    if (status !== 'error') {
      box.append(el('span', 'nbops-status-text', 'Not linted yet.'));
    }
  }

  private _renderError(state: INotebookLintState | null): void {
    const box = this._errorBox;
    box.replaceChildren();
    const model = this._options.model;
    // A lint error for this notebook wins; else a server error (version/rules) is shown.
    const error: NbopsApiError | null = state?.error ?? (state?.result ? null : model.serverError);
    if (error) {
      box.append(errorNode(error, 'nbops-error'));
    }
    for (const fileError of state?.result?.errors ?? []) {
      const node = el('div', 'nbops-error');
      node.dataset.error = 'file';
      node.setAttribute('role', 'alert');
      node.append(el('div', 'nbops-error-message', fileError.message));
      if (fileError.path) {
        node.append(el('div', 'nbops-error-hint', fileError.path));
      }
      box.append(node);
    }
  }

  private _renderFindings(panel: NotebookPanel | null, state: INotebookLintState | null): void {
    const box = this._findings;
    box.replaceChildren();
    const result = state?.result;
    if (!panel || !result) {
      return;
    }
    if (result.diagnostics.length === 0) {
      if (result.errors.length === 0) {
        box.append(el('div', 'nbops-empty', 'No findings in this notebook.'));
      }
      return;
    }

    // Group by cell in notebook order; notebook-wide findings first.
    const groups = new Map<number | null, IDiagnostic[]>();
    for (const d of result.diagnostics) {
      const key = d.cell_index;
      const list = groups.get(key) ?? [];
      list.push(d);
      groups.set(key, list);
    }
    const keys = [...groups.keys()].sort((a, b) => (a === null ? -1 : b === null ? 1 : a - b));
    for (const key of keys) {
      const list = groups.get(key)!;
      list.sort(
        (a, b) =>
          (a.line ?? 0) - (b.line ?? 0) ||
          SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
          a.code.localeCompare(b.code)
      );
      box.append(this._group(panel, key, list));
    }
  }

  private _group(panel: NotebookPanel, cellIndex: number | null, list: IDiagnostic[]): HTMLElement {
    const section = el('section', 'nbops-cell-group');
    section.dataset.cellIndex = cellIndex === null ? '' : String(cellIndex);
    const header = el('div', 'nbops-cell-header');
    const label = cellIndex === null ? 'Notebook' : `Cell ${list[0].cell ?? cellIndex + 1}`;
    header.append(el('span', 'nbops-cell-label', label));
    header.append(el('span', 'nbops-cell-count', String(list.length)));
    if (cellIndex !== null) {
      header.classList.add('nbops-clickable');
      header.title = `Go to ${label.toLowerCase()}`;
      header.addEventListener('click', () => this._options.onGoTo(panel, list[0]));
    }
    section.append(header);
    const ul = el('ul', 'nbops-finding-list');
    for (const d of list) {
      ul.append(this._finding(panel, d));
    }
    section.append(ul);
    return section;
  }

  private _finding(panel: NotebookPanel, d: IDiagnostic): HTMLElement {
    const li = el('li', 'nbops-finding');
    li.dataset.code = d.code;
    li.dataset.cellIndex = d.cell_index === null ? '' : String(d.cell_index);
    li.dataset.severity = d.severity;
    li.dataset.source = d.source;
    if (d.line !== null) {
      li.dataset.line = String(d.line);
    }
    li.tabIndex = 0;
    const rule = this._options.model.rule(d.code);
    li.title = rule ? `${d.code} ${rule.name}: ${rule.summary}` : `${d.code} ${d.name}`;

    const badge = el('span', `nbops-severity nbops-severity-${d.severity}`, d.severity);
    const code = d.url
      ? el('a', 'nbops-code nbops-rule-link', d.code)
      : el('span', 'nbops-code', d.code);
    if (d.url && code instanceof HTMLAnchorElement) {
      code.href = d.url;
      code.target = '_blank';
      code.rel = 'noopener noreferrer';
      code.title = rule
        ? `${rule.name}: ${rule.summary} (open the rule's documentation)`
        : `Open the documentation of ${d.code}`;
      code.addEventListener('click', event => event.stopPropagation());
    }
    const top = el('div', 'nbops-finding-top');
    top.append(badge, code);
    const location = locationText(d);
    if (location) {
      top.append(el('span', 'nbops-location', location));
    }
    if (d.fix && d.fix.applicability === 'safe') {
      const fixButton = el('button', 'jp-Button jp-mod-styled nbops-fix', 'Fix');
      fixButton.type = 'button';
      fixButton.title = d.fix.message || 'Apply this safe fix';
      fixButton.addEventListener('click', event => {
        event.stopPropagation();
        this._options.onFix(panel, d);
      });
      top.append(fixButton);
    }
    li.append(top);
    li.append(el('div', 'nbops-message', d.message));

    const go = () => this._options.onGoTo(panel, d);
    li.addEventListener('click', go);
    li.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        go();
      }
    });
    return li;
  }

  private _options: ILintPanelOptions;
  private _version!: HTMLSpanElement;
  private _lintButton!: HTMLButtonElement;
  private _fixAllButton!: HTMLButtonElement;
  private _modularizeButton!: HTMLButtonElement;
  private _notebookName!: HTMLDivElement;
  private _status!: HTMLDivElement;
  private _errorBox!: HTMLDivElement;
  private _findings!: HTMLDivElement;
}

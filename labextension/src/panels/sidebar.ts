/**
 * The nbops sidebar: a tab strip ("Lint" | "Run" | "Hackathon" | "Models" | "Health") over the
 * lint panel, the Run tab, the Hackathon tab, the Models tab and the Health tab. "Hackathon" is shown only for a notebook of a hackathon exercise
 * (`setTabHidden`).
 *
 * Plain Lumino widgets + DOM (WAI-ARIA tabs: arrow keys, Home and End move between the tabs
 * shown). Stable hooks for browser tests:
 *   #nbops-panel, .nbops-panel                the sidebar (the shell's right area)
 *   .nbops-tabs[role=tablist]                 the tab strip
 *   .nbops-tab[data-tab][aria-selected]       a tab: data-tab="lint" | "run" | "hackathon" |
 *                                             "models" | "health"
 *                                             (`hidden` when it does not apply)
 *   .nbops-tab-badge                          the Run tab's count of running jobs; the
 *                                             Hackathon tab's "…" while scoring
 *   .nbops-lint-panel, .nbops-run-panel, .nbops-hackathon-panel, .nbops-models-panel,
 *   .nbops-health-panel                       the tab
 *                                             panels (role=tabpanel)
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { PANEL_ID } from '../tokens';
import { el } from './dom';

export type SidebarTab = 'lint' | 'run' | 'hackathon' | 'models' | 'health';

const TABS: Array<{ tab: SidebarTab; label: string; title: string }> = [
  { tab: 'lint', label: 'Lint', title: "The current notebook's findings" },
  {
    tab: 'run',
    label: 'Run',
    title: 'Run the current notebook with parameters (papermill), tracked in MLflow'
  },
  {
    tab: 'hackathon',
    label: 'Hackathon',
    title: "Your team's hackathon scorecard, what would raise it most, and submitting"
  },
  {
    tab: 'models',
    label: 'Models',
    title: "The project's registered models: champion, challenger, releases, Promote"
  },
  {
    tab: 'health',
    label: 'Health',
    title: "The champions' health checks: drift, metrics over time, reports, triggers"
  }
];

export interface INbopsSidebarOptions {
  lint: Widget;
  run: Widget;
  hackathon: Widget;
  models: Widget;
  health: Widget;
}

export class NbopsSidebar extends Panel {
  constructor(options: INbopsSidebarOptions) {
    super();
    this.id = PANEL_ID;
    this.addClass('nbops-panel');
    this.title.caption = 'nbops';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'nbops');
    this._panels = {
      lint: options.lint,
      run: options.run,
      hackathon: options.hackathon,
      models: options.models,
      health: options.health
    };

    const strip = new Widget({ node: el('div', 'nbops-tabs') });
    strip.node.setAttribute('role', 'tablist');
    strip.node.setAttribute('aria-label', 'nbops views');
    for (const { tab, label, title } of TABS) {
      const panel = this._panels[tab];
      panel.id = panel.id || `nbops-${tab}-tabpanel`;
      panel.node.setAttribute('role', 'tabpanel');
      const button = el('button', 'nbops-tab');
      button.type = 'button';
      button.id = `nbops-tab-${tab}`;
      button.dataset.tab = tab;
      button.title = title;
      button.setAttribute('role', 'tab');
      button.setAttribute('aria-controls', panel.id);
      button.append(el('span', 'nbops-tab-label', label));
      const badge = el('span', 'nbops-tab-badge');
      badge.hidden = true;
      button.append(badge);
      button.addEventListener('click', () => this.select(tab));
      panel.node.setAttribute('aria-labelledby', button.id);
      this._buttons[tab] = button;
      this._badges[tab] = badge;
      strip.node.append(button);
    }
    strip.node.addEventListener('keydown', event => this._onKey(event));
    this.addWidget(strip);
    this.addWidget(options.lint);
    this.addWidget(options.run);
    this.addWidget(options.hackathon);
    this.addWidget(options.models);
    this.addWidget(options.health);
    this.setTabHidden('hackathon', true); // until a notebook of an exercise is current
    this._show('lint');
  }

  /** The tab shown. */
  get current(): SidebarTab {
    return this._current;
  }

  /** Emitted when another tab is shown. */
  get currentChanged(): ISignal<this, SidebarTab> {
    return this._currentChanged;
  }

  /** Show `tab` (the sidebar itself is shown by the shell: `activateById`); a hidden tab
   * is shown first. */
  select(tab: SidebarTab): void {
    if (this._buttons[tab]?.hidden) {
      this.setTabHidden(tab, false);
    }
    if (tab !== this._current) {
      this._show(tab);
      this._currentChanged.emit(tab);
    }
  }

  /** Whether `tab` is hidden (the Hackathon tab: the notebook is in no exercise). */
  isTabHidden(tab: SidebarTab): boolean {
    return this._buttons[tab]?.hidden ?? true;
  }

  /** Hide or show a tab (never "Lint"); hiding the one shown shows "Lint". */
  setTabHidden(tab: SidebarTab, hidden: boolean): void {
    const button = this._buttons[tab];
    if (!button || tab === 'lint' || button.hidden === hidden) {
      return;
    }
    button.hidden = hidden;
    if (hidden && this._current === tab) {
      this.select('lint');
    }
  }

  /** A small count (or text) next to a tab's label; 0 or '' hides it. */
  setBadge(tab: SidebarTab, count: number | string, title = ''): void {
    const badge = this._badges[tab];
    if (!badge) {
      return;
    }
    const text = typeof count === 'number' ? (count > 0 ? String(count) : '') : count;
    badge.hidden = text === '';
    badge.textContent = text;
    badge.title = title;
    badge.setAttribute('aria-label', title);
  }

  private _show(tab: SidebarTab): void {
    this._current = tab;
    for (const { tab: t } of TABS) {
      const selected = t === tab;
      const button = this._buttons[t]!;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      button.classList.toggle('nbops-mod-selected', selected);
      if (selected) {
        this._panels[t].show();
      } else {
        this._panels[t].hide();
      }
    }
  }

  private _onKey(event: KeyboardEvent): void {
    const order = TABS.map(t => t.tab).filter(t => !this._buttons[t]?.hidden);
    const index = order.indexOf(this._current);
    let next: number;
    switch (event.key) {
      case 'ArrowRight':
        next = (index + 1) % order.length;
        break;
      case 'ArrowLeft':
        next = (index - 1 + order.length) % order.length;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = order.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    this.select(order[next]);
    this._buttons[order[next]]!.focus();
  }

  private _panels: Record<SidebarTab, Widget>;
  private _buttons: Partial<Record<SidebarTab, HTMLButtonElement>> = {};
  private _badges: Partial<Record<SidebarTab, HTMLSpanElement>> = {};
  private _current: SidebarTab = 'lint';
  private _currentChanged = new Signal<this, SidebarTab>(this);
}

/**
 * The status bar item: the current notebook's finding count; a click opens the panel.
 * Hook for tests: `.nbops-status-item[data-count][data-status]`.
 */
import { Widget } from '@lumino/widgets';
import { Signal } from '@lumino/signaling';

import type { NbopsModel } from './model';

export class NbopsStatusItem extends Widget {
  constructor(model: NbopsModel, onClick: () => void) {
    super();
    this._model = model;
    this.addClass('nbops-status-item');
    this.addClass('jp-StatusBar-TextItem');
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.addEventListener('click', onClick);
    this.node.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        onClick();
      }
    });
    model.currentChanged.connect(() => {
      this._render();
      this._activeChanged.emit();
    }, this);
    model.stateChanged.connect((_, panel) => {
      if (panel === model.current) {
        this._render();
      }
    }, this);
    this._render();
  }

  /** For `IStatusBar.IItem.activeStateChanged`. */
  readonly _activeChanged = new Signal<this, void>(this);

  private _render(): void {
    const panel = this._model.current;
    const state = this._model.state(panel);
    let text = 'nbops';
    let title = 'nbops: click to open the panel';
    const status = state?.status ?? 'idle';
    if (status === 'linting' || status === 'fixing') {
      text = 'nbops …';
      title = 'nbops is linting this notebook';
      delete this.node.dataset.count;
    } else if (status === 'error' && state?.error) {
      text = 'nbops ⚠';
      title = `nbops: ${state.error.message}`;
      delete this.node.dataset.count;
    } else if (state?.result) {
      const s = state.result.summary;
      text = `nbops: ${s.findings}`;
      title = `nbops: ${s.errors} errors, ${s.warnings} warnings, ${s.infos} infos in this notebook`;
      this.node.dataset.count = String(s.findings);
    } else {
      delete this.node.dataset.count;
    }
    this.node.dataset.status = status;
    this.node.textContent = text;
    this.node.title = title;
  }

  private _model: NbopsModel;
}

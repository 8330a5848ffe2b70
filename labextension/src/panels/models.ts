/**
 * The "Models" tab of the nbops sidebar: the registered models of the current notebook's
 * project (docs/deploy.md, "In JupyterLab"), read when the tab is shown and on "Refresh".
 *
 * Per model: the champion and challenger cards with their run's metrics; the last
 * comparison's verdict, one line per threshold; the release history as a timeline (version,
 * date, commit, pull request, gate, verdict) with each version's run id and a download button
 * per artifact (executed notebook, logs, model card, verdict); "Promote…" on the challenger
 * card: the dry run's verdict first, then "Promote" (or "Record HOLD") records it and moves
 * champion on PASS.
 *
 * Plain Lumino widget + DOM. Stable hooks for browser tests:
 *   .nbops-models-panel                               this tab
 *   .nbops-models-project[data-project], .nbops-models-refresh   the project; read again
 *   .nbops-models-thresholds                          the project's [tool.nbops.promote]
 *   .nbops-models-error[data-error][data-status]      the list cannot be read
 *   .nbops-models-missing                             MLflow is not installed on the server
 *   .nbops-models-empty                               no registered model in the store
 *   .nbops-model[data-model][data-champion][data-challenger]   a model
 *     .nbops-model-card[data-role][data-version]      the champion / challenger card:
 *       .nbops-model-metric[data-name]                a metric of its run
 *       button.nbops-model-promote                    "Promote…" (the challenger)
 *     .nbops-model-promotion[data-phase]              Promote under way: judging, confirm,
 *                                                     promoting, done, failed
 *       .nbops-verdict[data-status], .nbops-verdict-line[data-ok][data-threshold]
 *       button.nbops-model-confirm, button.nbops-model-cancel
 *       .nbops-model-promoted[data-moved]             what happened to champion
 *     .nbops-model-comparison[data-version][data-status]   the last comparison's verdict
 *     ol.nbops-model-timeline > li.nbops-model-release[data-version][data-verdict]
 *       .nbops-model-run[data-run-id]                 the version's run
 *       button.nbops-model-download[data-file][data-kind]   download an artifact
 *   .nbops-models-download-error[data-error][data-status]   a download failed
 */
import {
  metricLines,
  promotable,
  releases,
  versionOf,
  type IPromoteStep,
  type ModelsModel
} from '../models';
import type {
  IComparison,
  IModelArtifact,
  IModelList,
  IModelVersion,
  IPromoteThresholds,
  IRegisteredModel,
  IVerdict
} from '../tokens';
import { button, el } from './dom';
import { errorNode, explain } from './errors';
import { ProjectListPanel, type IActionError } from './projectlist';

const KIND_LABEL: Record<IModelArtifact['kind'], string> = {
  notebook: 'notebook',
  report: 'report',
  logs: 'log',
  release: 'card',
  verdict: 'verdict'
};

export interface IModelsPanelOptions {
  model: ModelsModel;
}

export class ModelsPanel extends ProjectListPanel<IModelList, IRegisteredModel, ModelsModel> {
  constructor(options: IModelsPanelOptions) {
    super(options.model, {
      name: 'models',
      label: 'Models',
      caption: "The project's registered models",
      refreshTitle: 'Read the registry again',
      loading: 'Reading the model registry…',
      reading: 'read the models',
      empty:
        'No registered model in this project’s store yet: `nbops release NOTEBOOK` registers one.'
    });
  }

  protected _actionErrors(): IActionError[] {
    const error = this._model.state.downloadError;
    return [{ error, what: 'download', className: 'nbops-models-download-error' }];
  }

  protected _preamble(list: IModelList): HTMLElement {
    return thresholdsNode(list.thresholds);
  }

  protected _modelNode(model: IRegisteredModel): HTMLElement {
    const step = this._model.state.promote;
    const node = el('section', 'nbops-model');
    node.dataset.model = model.name;
    node.dataset.champion = String(model.champion ?? '');
    node.dataset.challenger = String(model.challenger ?? '');
    node.append(el('h3', 'nbops-model-name', model.name));
    const cards = el('div', 'nbops-model-cards');
    cards.append(this._card(model, 'champion', versionOf(model, model.champion)));
    const challenger = promotable(model);
    if (challenger) {
      cards.append(this._card(model, 'challenger', challenger));
    }
    node.append(cards);
    if (step && step.model === model.name) {
      node.append(this._promotion(step));
    }
    if (model.comparison) {
      node.append(comparisonNode(model.comparison));
    }
    node.append(this._timeline(model));
    if (model.truncated) {
      node.append(
        el(
          'div',
          'nbops-model-truncated',
          `Only the newest ${model.versions.length} versions are shown.`
        )
      );
    }
    return node;
  }

  private _card(
    model: IRegisteredModel,
    role: 'champion' | 'challenger',
    version: IModelVersion | null
  ): HTMLElement {
    const card = el('div', 'nbops-model-card');
    card.dataset.role = role;
    card.dataset.version = version ? String(version.version) : '';
    const title = role === 'champion' ? 'Champion' : 'Challenger';
    card.append(
      el(
        'div',
        'nbops-model-card-title',
        version ? `${title}: v${version.version}` : `${title}: none`
      )
    );
    if (!version) {
      return card;
    }
    const metrics = el('ul', 'nbops-model-metrics');
    Object.keys(version.metrics)
      .sort()
      .forEach((name, i) => {
        const item = el('li', 'nbops-model-metric', metricLines(version)[i]);
        item.dataset.name = name;
        metrics.append(item);
      });
    card.append(metrics);
    if (version.verdict_summary) {
      card.append(el('div', 'nbops-model-card-verdict', version.verdict_summary));
    }
    if (role === 'challenger') {
      const promote = button(
        'nbops-model-promote',
        'Promote…',
        'Judge this version by [tool.nbops.promote] (a dry run first), then move champion on PASS'
      );
      promote.addEventListener('click', () => void this._model.judge(model.name, version.version));
      card.append(promote);
    }
    return card;
  }

  private _promotion(step: IPromoteStep): HTMLElement {
    const node = el('div', 'nbops-model-promotion');
    node.dataset.phase = step.phase;
    node.setAttribute('aria-live', 'polite');
    if (step.phase === 'judging') {
      node.append(el('div', undefined, `Judging v${step.version}…`));
      return node;
    }
    if (step.phase === 'failed' && step.error) {
      node.append(
        errorNode(
          step.error,
          'nbops-model-promote-error',
          explain(step.error, 'promote', 'models', 'Promoting needs the right to write files.')
        )
      );
    }
    const shown = step.result ?? step.preview;
    if (shown) {
      node.append(verdictNode(shown.verdict, `v${step.version}`));
    }
    if (step.phase === 'confirm' && step.preview) {
      const pass = step.preview.verdict.status === 'PASS';
      const confirm = button(
        'jp-mod-accept nbops-model-confirm',
        pass ? `Promote v${step.version}` : 'Record HOLD',
        pass ? 'Move champion to this version' : 'Record the verdict; champion stays'
      );
      confirm.addEventListener('click', () => void this._model.confirm());
      const cancel = button('jp-mod-reject nbops-model-cancel', 'Cancel');
      cancel.addEventListener('click', () => this._model.cancel());
      node.append(confirm, cancel);
    } else if (step.phase === 'promoting') {
      node.append(el('div', undefined, 'Promoting…'));
    } else if (step.phase === 'done' && step.result) {
      const r = step.result;
      const text = r.moved
        ? `Champion moved to v${r.champion_after} (was ${r.champion_before ? `v${r.champion_before}` : 'none'}).`
        : `Champion not moved (${r.champion_before ? `v${r.champion_before}` : 'none'}).`;
      const done = el('div', 'nbops-model-promoted', text);
      done.dataset.moved = String(r.moved);
      node.append(done);
      const close = button('jp-mod-minimal nbops-model-cancel', 'Close');
      close.addEventListener('click', () => this._model.cancel());
      node.append(close);
    } else if (step.phase === 'failed') {
      const close = button('jp-mod-minimal nbops-model-cancel', 'Close');
      close.addEventListener('click', () => this._model.cancel());
      node.append(close);
    }
    return node;
  }

  private _timeline(model: IRegisteredModel): HTMLElement {
    const list = el('ol', 'nbops-model-timeline');
    list.setAttribute('aria-label', `Release history of ${model.name}`);
    releases(model).forEach((release, i) => {
      const version = model.versions[i];
      const item = el('li', 'nbops-model-release');
      item.dataset.version = String(release.version);
      item.dataset.verdict = release.verdict;
      const parts = [
        `v${release.version}`,
        release.date,
        release.commit,
        release.pr ? `PR ${release.pr}` : '',
        release.gate ? `gate ${release.gate}` : '',
        release.verdict || 'not judged'
      ].filter(Boolean);
      item.append(el('span', 'nbops-model-release-line', parts.join(' · ')));
      for (const alias of release.aliases) {
        item.append(el('span', 'nbops-model-alias', alias));
      }
      if (version.run_id) {
        const run = el('div', 'nbops-model-run', `run ${version.run_id.slice(0, 8)}`);
        run.dataset.runId = version.run_id;
        run.title = version.run_id;
        item.append(run);
      }
      const downloads = el('div', 'nbops-model-downloads');
      for (const artifact of version.artifacts) {
        const download = button(
          'jp-mod-minimal nbops-model-download',
          KIND_LABEL[artifact.kind],
          `Download ${artifact.path}`
        );
        download.dataset.file = artifact.path;
        download.dataset.kind = artifact.kind;
        download.addEventListener(
          'click',
          () => void this._download(model.name, version.version, artifact.path)
        );
        downloads.append(download);
      }
      item.append(downloads);
      list.append(item);
    });
    return list;
  }

  private async _download(model: string, version: number, file: string): Promise<void> {
    const blob = await this._model.download(model, version, file);
    if (!blob) {
      return;
    }
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = file.split('/').pop() ?? 'artifact';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

function thresholdsNode(t: IPromoteThresholds): HTMLElement {
  if (!t.metric) {
    return el(
      'div',
      'nbops-models-thresholds',
      'No thresholds ([tool.nbops.promote] declares no metric): champion never moves automatically.'
    );
  }
  const parts = [`${t.metric} (${t.greater_is_better ? 'higher' : 'lower'} is better)`];
  if (t.min_value !== null) {
    parts.push(`min-value ${t.min_value}`);
  }
  if (t.min_absolute_change !== null) {
    parts.push(`min-absolute-change ${t.min_absolute_change}`);
  }
  if (t.min_relative_change !== null) {
    parts.push(`min-relative-change ${t.min_relative_change}`);
  }
  return el('div', 'nbops-models-thresholds', `Thresholds: ${parts.join(', ')}`);
}

function verdictNode(verdict: IVerdict, what: string): HTMLElement {
  const node = el('div', 'nbops-verdict');
  node.dataset.status = verdict.status;
  node.append(el('div', 'nbops-verdict-status', `${what}: ${verdict.status}`));
  const lines = el('ul', 'nbops-verdict-lines');
  for (const j of verdict.judgements) {
    const line = el('li', 'nbops-verdict-line', j.text);
    line.dataset.ok = String(j.ok);
    line.dataset.threshold = j.threshold;
    lines.append(line);
  }
  node.append(lines);
  return node;
}

function comparisonNode(c: IComparison): HTMLElement {
  const node = el('div', 'nbops-model-comparison');
  node.dataset.version = String(c.version);
  node.dataset.status = c.verdict.status;
  const when = c.time ? ` (${c.time.slice(0, 10)})` : '';
  node.append(el('div', 'nbops-model-comparison-title', `Last comparison${when}`));
  node.append(verdictNode(c.verdict, `v${c.version}`));
  return node;
}

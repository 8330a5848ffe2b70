/**
 * The Models tab's model: the registered models of the current notebook's project (the server
 * root when no notebook is open), what the tab shows of them, and Promote.
 *
 * Promote is two steps, both on the server (`POST nbops/models/{name}/promote`): the dry run
 * gives the verdict to confirm (PASS or HOLD, each threshold's result), then the real one
 * records it and moves `champion` on PASS; the list is read again after it. The tab reads from
 * and acts through one `ModelsModel`; it never calls the REST API itself.
 */
import * as api from './api';
import { toApiError, type NbopsApiError } from './api';
import { ProjectListModel, type IProjectListState } from './projectlist';
import type { NotebookStore } from './store';
import type { IModelList, IModelVersion, IPromotion, IRegisteredModel } from './tokens';

/** One line of the release history. */
export interface IRelease {
  version: number;
  /** `YYYY-MM-DD` (UTC) of the version's registration; '' when unknown. */
  date: string;
  /** The released commit, 7 characters; '' when the version has none. */
  commit: string;
  /** `#12`; '' when the release named no pull request. */
  pr: string;
  gate: string;
  verdict: string;
  aliases: string[];
}

/** Where a Promote is: judging (dry run), waiting for the confirmation, promoting, done. */
export type PromotePhase = 'judging' | 'confirm' | 'promoting' | 'done' | 'failed';

export interface IPromoteStep {
  model: string;
  version: number;
  phase: PromotePhase;
  /** The dry run's verdict (what the confirmation shows). */
  preview: IPromotion | null;
  /** What the real promotion did. */
  result: IPromotion | null;
  error: NbopsApiError | null;
}

export interface IModelsState extends IProjectListState<IModelList> {
  promote: IPromoteStep | null;
  /** Why the last download failed. */
  downloadError: NbopsApiError | null;
}

/** `3333333` from a commit sha. */
export function shortSha(commit: string | null): string {
  return commit ? commit.slice(0, 7) : '';
}

/** The release history of a model, newest first, one line per version. */
export function releases(model: IRegisteredModel): IRelease[] {
  return model.versions.map(v => ({
    version: v.version,
    date: v.created ? v.created.slice(0, 10) : '',
    commit: shortSha(v.commit),
    pr: v.pr ? `#${v.pr.replace(/^#/, '')}` : '',
    gate: v.gate ?? '',
    verdict: v.verdict ?? '',
    aliases: v.aliases
  }));
}

/** A version of `model` by number (null: not among the versions listed). */
export function versionOf(model: IRegisteredModel, version: number | null): IModelVersion | null {
  return version === null ? null : (model.versions.find(v => v.version === version) ?? null);
}

/** The challenger Promote can judge: the `challenger` version when it is not the champion. */
export function promotable(model: IRegisteredModel): IModelVersion | null {
  if (model.challenger === null || model.challenger === model.champion) {
    return null;
  }
  return versionOf(model, model.challenger);
}

/** `accuracy 0.93` for each metric, by name. */
export function metricLines(version: IModelVersion): string[] {
  return Object.keys(version.metrics)
    .sort()
    .map(name => {
      const value = version.metrics[name];
      return `${name} ${value === null ? '–' : String(Number(value.toPrecision(6)))}`;
    });
}

export class ModelsModel extends ProjectListModel<IModelList, IModelsState> {
  /** @param store - the notebooks: the tab lists the models of the current one's project. */
  constructor(store: NotebookStore) {
    super(store, path => api.listModels(path), {
      path: null,
      list: null,
      loading: false,
      error: null,
      promote: null,
      downloadError: null
    });
  }

  /** Promote's first step: the dry run's verdict for `version` of `model`, to confirm. */
  async judge(model: string, version: number): Promise<void> {
    const step: IPromoteStep = {
      model,
      version,
      phase: 'judging',
      preview: null,
      result: null,
      error: null
    };
    this._set({ promote: step });
    try {
      const preview = await api.promoteModel(model, this._request(version, true));
      this._step(step, { phase: 'confirm', preview });
    } catch (reason) {
      this._step(step, { phase: 'failed', error: toApiError(reason) });
    }
  }

  /** Promote's second step, after the verdict was confirmed: record it, move champion on PASS. */
  async confirm(): Promise<void> {
    const step = this.state.promote;
    if (!step || step.phase !== 'confirm') {
      return;
    }
    this._step(step, { phase: 'promoting' });
    try {
      const result = await api.promoteModel(step.model, this._request(step.version, false));
      this._step(step, { phase: 'done', result });
    } catch (reason) {
      this._step(step, { phase: 'failed', error: toApiError(reason) });
      return;
    }
    await this.refresh();
  }

  /** Leave Promote (nothing was written before the confirmation). */
  cancel(): void {
    this._set({ promote: null });
  }

  /** Fetch an artifact of a version's run (the server sends only the ones it listed). */
  async download(model: string, version: number, file: string): Promise<Blob | null> {
    try {
      const blob = await api.downloadModelArtifact(model, version, file, this.state.path);
      this._set({ downloadError: null });
      return blob;
    } catch (reason) {
      this._set({ downloadError: toApiError(reason) });
      return null;
    }
  }

  private _request(
    version: number,
    dryRun: boolean
  ): { version: number; dry_run: boolean; path?: string } {
    const path = this.state.path;
    return path ? { version, dry_run: dryRun, path } : { version, dry_run: dryRun };
  }

  /** Update `step` when it is still the one under way (not cancelled, not replaced). */
  private _step(step: IPromoteStep, change: Partial<IPromoteStep>): void {
    const current = this.state.promote;
    if (this.isDisposed || current?.model !== step.model || current.version !== step.version) {
      return;
    }
    this._set({ promote: { ...current, ...change } });
  }
}

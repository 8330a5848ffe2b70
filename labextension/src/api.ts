/**
 * The one typed way to call the nbops REST API.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type {
  ICheckRequest,
  IErrorBody,
  IGateReport,
  IFixRequest,
  IFixResponse,
  ILintRequest,
  ILintResponse,
  IModularizePlan,
  IModularizeRequest,
  IJob,
  IHealthList,
  IModelList,
  IPromoteRequest,
  IPromotion,
  IParamsResponse,
  IRule,
  IRunForm,
  IRunFormCheck,
  IRunRequest,
  IRunsResponse,
  IHackathonInfo,
  IScoreJob,
  IScoreRequest,
  IStartRunResponse,
  IStartScoreResponse,
  ISubmitRequest,
  ISubmitResult,
  IVersionResponse,
  PushFailure
} from './tokens';

export const SERVER_MISSING_MESSAGE = 'nbops server extension not available';
export const SERVER_MISSING_HINT =
  'Install nbops in the Python environment that runs Jupyter, make sure the server ' +
  'extension is enabled (`jupyter server extension list`), then restart JupyterLab.';

/**
 * A failed request: `status` is the HTTP status (0 when the server could not be
 * reached), `message` and `hint` come from the server's JSON error body when there is one.
 */
export class NbopsApiError extends Error {
  readonly status: number;
  readonly error: string;
  readonly hint: string | null;
  readonly path: string | null;
  /** 0-based cell index, from the error body. */
  readonly cell: number | null;
  /** Why a push failed (`POST nbops/submit`, 502 `PushError`). */
  readonly reason: PushFailure | null;
  /** Seconds to wait before retrying (503 rate limit), when known. */
  readonly retryAfter: number | null;

  constructor(options: {
    status: number;
    message: string;
    error?: string;
    hint?: string | null;
    path?: string | null;
    cell?: number | null;
    reason?: PushFailure | null;
    retryAfter?: number | null;
  }) {
    super(options.message);
    this.name = 'NbopsApiError';
    this.status = options.status;
    this.error = options.error ?? 'error';
    this.hint = options.hint ?? null;
    this.path = options.path ?? null;
    this.cell = options.cell ?? null;
    this.reason = options.reason ?? null;
    this.retryAfter = options.retryAfter ?? null;
  }

  /** True when the nbops routes are not there at all (server extension missing). */
  get serverMissing(): boolean {
    return this.error === 'server_missing';
  }
}

/**
 * `POST nbops/modularize` refused to overwrite files nbops did not generate (409): `plan`
 * says which (`files[].action === 'conflict'`); sending `force: true` overwrites them.
 */
export class NbopsConflictError extends NbopsApiError {
  readonly plan: IModularizePlan;

  constructor(options: ConstructorParameters<typeof NbopsApiError>[0], plan: IModularizePlan) {
    super(options);
    this.name = 'NbopsConflictError';
    this.plan = plan;
  }
}

/**
 * `POST nbops/submit` was refused by the review gate (422 `GateFailed`): `gate` is the
 * checklist, with what to fix. Nothing was changed anywhere.
 */
export class NbopsGateError extends NbopsApiError {
  readonly gate: IGateReport;

  constructor(options: ConstructorParameters<typeof NbopsApiError>[0], gate: IGateReport) {
    super(options);
    this.name = 'NbopsGateError';
    this.gate = gate;
  }
}

/** Any failure as an `NbopsApiError` (a bug on this side is `error: 'client'`). */
export function toApiError(reason: unknown): NbopsApiError {
  if (reason instanceof NbopsApiError) {
    return reason;
  }
  return new NbopsApiError({
    status: 0,
    error: 'client',
    message: String((reason as Error)?.message ?? reason)
  });
}

/**
 * The nbops server extension answers, but not this route: an nbops older than the front end
 * (its JSON 404 for unknown `/nbops/` paths).
 */
export function isMissingEndpoint(error: NbopsApiError): boolean {
  return error.status === 404 && error.message === 'no such nbops endpoint';
}

function isErrorBody(value: unknown): value is IErrorBody {
  return (
    typeof value === 'object' && value !== null && typeof (value as IErrorBody).message === 'string'
  );
}

/**
 * Call `nbops/<endpoint>` and parse the JSON answer.
 *
 * Throws `NbopsApiError` for network failures, non-2xx answers and answers that are not JSON.
 */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'nbops', endpoint);
  const headers = new Headers(init.headers);
  if (init.body !== undefined && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/json');
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, { ...init, headers }, settings);
  } catch (reason) {
    throw new NbopsApiError({
      status: 0,
      error: 'network',
      message: `Could not reach the Jupyter server: ${String((reason as Error)?.message ?? reason)}`
    });
  }

  const text = await response.text();
  let data: unknown = undefined;
  let parsed = false;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
      parsed = true;
    } catch {
      parsed = false;
    }
  }

  if (!response.ok) {
    if (isErrorBody(data)) {
      const options = {
        status: data.status ?? response.status,
        error: data.error,
        message: data.message,
        hint: data.hint,
        path: data.path,
        cell: data.cell,
        reason: data.reason ?? null,
        retryAfter: data.retry_after ?? null
      };
      if (data.error === 'ConflictError' && typeof data.plan === 'object' && data.plan) {
        throw new NbopsConflictError(options, data.plan);
      }
      if (typeof data.gate === 'object' && data.gate) {
        throw new NbopsGateError(options, data.gate);
      }
      throw new NbopsApiError(options);
    }
    if (response.status === 404) {
      // Jupyter answers unknown routes with its HTML 404 page: nbops is not loaded.
      throw new NbopsApiError({
        status: 404,
        error: 'server_missing',
        message: SERVER_MISSING_MESSAGE,
        hint: SERVER_MISSING_HINT
      });
    }
    throw new NbopsApiError({
      status: response.status,
      error: 'http',
      message: `nbops/${endpoint} failed: ${response.status} ${response.statusText}`.trim()
    });
  }
  if (!parsed) {
    throw new NbopsApiError({
      status: response.status,
      error: 'bad_response',
      message: `nbops/${endpoint} did not answer with JSON`
    });
  }
  return data as T;
}

function post(body: object): RequestInit {
  return { method: 'POST', body: JSON.stringify(body) };
}

/**
 * The run endpoints refuse query arguments they do not know, such as the cache-busting
 * `?<timestamp>` that `ServerConnection` adds to every request with its default
 * `cache: 'no-store'`. `no-cache` adds none and still asks the server every time.
 */
const NO_BUSTER: RequestInit = { cache: 'no-cache' };
const FRESH_GET: RequestInit = { ...NO_BUSTER, method: 'GET' };

/** `endpoint?key=value&...` with every value URL-encoded. */
function withQuery(endpoint: string, query: { [key: string]: string | number }): string {
  return endpoint + URLExt.objectToQueryString(query);
}

export function getVersion(): Promise<IVersionResponse> {
  return requestAPI<IVersionResponse>('version');
}

export function getRules(): Promise<IRule[]> {
  return requestAPI<IRule[]>('rules');
}

export function lint(request: ILintRequest): Promise<ILintResponse> {
  return requestAPI<ILintResponse>('lint', post(request));
}

export function fix(request: IFixRequest): Promise<IFixResponse> {
  return requestAPI<IFixResponse>('fix', post(request));
}

/**
 * Plan (`dry_run`, the default) or carry out `nbops modularize` for a saved notebook.
 *
 * Throws `NbopsConflictError` (with the plan) when writing would overwrite files nbops did
 * not generate and `force` is not set.
 */
export function modularize(request: IModularizeRequest): Promise<IModularizePlan> {
  return requestAPI<IModularizePlan>('modularize', post(request));
}

/**
 * The parameters cell of the saved notebook at `path` (root-relative): names, types,
 * defaults and help. A notebook without one answers `cell: null` and a `message`.
 */
export function getParams(path: string): Promise<IParamsResponse> {
  return requestAPI<IParamsResponse>(withQuery('params', { path }), FRESH_GET);
}

/**
 * Start a run or a sweep of the saved notebook in the background (202). Bad values are a
 * 400 whose message names the parameter.
 */
export async function startRun(request: IRunRequest): Promise<IJob> {
  const answer = await requestAPI<IStartRunResponse>('runs', { ...NO_BUSTER, ...post(request) });
  return answer.job;
}

/**
 * Check the Run tab's form as `POST nbops/runs` would, starting nothing (200 whether or not it
 * is valid): `errors` by field (a parameter, `parallel`, `kernel`, `timeout`, `""` for the
 * form), or `ok` with the exact `request` to start and the number of `runs` it makes. An
 * nbops older than the front end answers 404 (`isMissingEndpoint`).
 */
export function validateRun(form: IRunForm): Promise<IRunFormCheck> {
  return requestAPI<IRunFormCheck>('runs/validate', { ...NO_BUSTER, ...post(form) });
}

/** A job's progress and the runs it has finished. */
export function getJob(id: string): Promise<IJob> {
  return requestAPI<IJob>(`runs/jobs/${encodeURIComponent(id)}`, FRESH_GET);
}

/** Stop a job: no new runs start, running kernels are stopped (202, the job). */
export function cancelJob(id: string): Promise<IJob> {
  return requestAPI<IJob>(`runs/jobs/${encodeURIComponent(id)}`, {
    ...NO_BUSTER,
    method: 'DELETE'
  });
}

/** This server's jobs for the notebook and its run history in the tracking store. */
export function listRuns(path: string, limit = 50): Promise<IRunsResponse> {
  return requestAPI<IRunsResponse>(withQuery('runs', { path, limit }), FRESH_GET);
}

/**
 * The review gate's checklist for the notebook at `path`: of `content` (the open document,
 * unsaved changes included) when it is sent, else of the saved file. Writes nothing.
 */
export function check(request: ICheckRequest): Promise<IGateReport> {
  return requestAPI<IGateReport>('check', post(request));
}

/**
 * Submit the saved notebook for review: the gate, a review branch pushed to the remote, a
 * pull request when the remote is a forge and the server has a token.
 *
 * Throws `NbopsGateError` (with the checklist) when a required check fails, and an
 * `NbopsApiError` with `reason` when the push failed.
 */
export function submit(request: ISubmitRequest): Promise<ISubmitResult> {
  return requestAPI<ISubmitResult>('submit', post(request));
}

/**
 * The exercise the notebook at `path` belongs to (all null: none), the team of its checkout,
 * the scorecard the server saved for it last and the newest scoring job. A broken
 * `hackathon.toml` is a 400 naming the key.
 */
export function getHackathon(path: string): Promise<IHackathonInfo> {
  return requestAPI<IHackathonInfo>(withQuery('hackathon', { path }), FRESH_GET);
}

/**
 * Score the team's checkout in the background (202): the server runs `nbops hackathon
 * status` in a separate process with the exercise's time limit. 409: it is being scored.
 */
export async function startScore(request: IScoreRequest): Promise<IScoreJob> {
  const answer = await requestAPI<IStartScoreResponse>('hackathon/score', {
    ...NO_BUSTER,
    ...post(request)
  });
  return answer.job;
}

/** A scoring job: running, or ended with its scorecard or why it failed. */
export function getScoreJob(id: string): Promise<IScoreJob> {
  return requestAPI<IScoreJob>(`hackathon/jobs/${encodeURIComponent(id)}`, FRESH_GET);
}

/**
 * Stop a running scoring job: the server stops its process and everything it started, and
 * answers once it has ended (200, the job: `cancelled`, no scorecard saved), so the checkout
 * can be scored again at once. A job that has ended comes back unchanged; 403 without the
 * right to write files.
 */
export function cancelHackathonJob(id: string): Promise<IScoreJob> {
  return requestAPI<IScoreJob>(`hackathon/jobs/${encodeURIComponent(id)}`, {
    ...NO_BUSTER,
    method: 'DELETE'
  });
}

/**
 * The registered models of the project of `path` (a folder or notebook, root-relative; null:
 * the server root): versions newest first, champion, challenger, the last comparison.
 */
export function listModels(path: string | null): Promise<IModelList> {
  return requestAPI<IModelList>(withQuery('models', path ? { path } : {}), FRESH_GET);
}

/**
 * Judge a version by the project's thresholds (`dry_run`: judge only) and move `champion` on
 * PASS (200 for PASS and HOLD alike). 403 without the right to write files (a dry run needs
 * none).
 */
export function promoteModel(name: string, request: IPromoteRequest): Promise<IPromotion> {
  return requestAPI<IPromotion>(`models/${encodeURIComponent(name)}/promote`, {
    ...NO_BUSTER,
    ...post(request)
  });
}

/**
 * One artifact of a version's run (its executed notebook, a log), as the server sends it for
 * download; an error answer is an `NbopsApiError` as for every other request.
 */
export async function downloadModelArtifact(
  name: string,
  version: number,
  file: string,
  path: string | null,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Blob> {
  const endpoint = withQuery(
    `models/${encodeURIComponent(name)}/versions/${version}/artifact`,
    path ? { file, path } : { file }
  );
  return fetchFile(endpoint, settings);
}

/** A file the server sends (not JSON); an error answer is an `NbopsApiError`. */
async function fetchFile(endpoint: string, settings: ServerConnection.ISettings): Promise<Blob> {
  const url = URLExt.join(settings.baseUrl, 'nbops', endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, FRESH_GET, settings);
  } catch (reason) {
    throw new NbopsApiError({
      status: 0,
      error: 'network',
      message: `Could not reach the Jupyter server: ${String((reason as Error)?.message ?? reason)}`
    });
  }
  if (response.ok) {
    return response.blob();
  }
  let body: unknown = undefined;
  try {
    body = JSON.parse(await response.text());
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) {
    throw new NbopsApiError({
      status: body.status ?? response.status,
      error: body.error,
      message: body.message,
      hint: body.hint,
      path: body.path
    });
  }
  throw new NbopsApiError({
    status: response.status,
    error: 'http',
    message: `nbops/${endpoint} failed: ${response.status} ${response.statusText}`.trim()
  });
}

/**
 * The health checks of the project of `path` (null: the server root): per model its champion
 * and its checks newest first, and the triggers of `[tool.nbops.health]`.
 */
export function listHealth(path: string | null): Promise<IHealthList> {
  return requestAPI<IHealthList>(withQuery('health', path ? { path } : {}), FRESH_GET);
}

/** The HTML report of one health check (`text/html`), fetched with the server's credentials. */
export function fetchHealthReport(
  model: string,
  runId: string,
  path: string | null,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Blob> {
  const endpoint = withQuery(
    `health/${encodeURIComponent(model)}/checks/${encodeURIComponent(runId)}/report`,
    path ? { path } : {}
  );
  return fetchFile(endpoint, settings);
}

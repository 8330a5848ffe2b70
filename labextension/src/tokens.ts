/**
 * Types mirroring the JSON of the nbops REST API (`src/nbops/server/`).
 *
 * Keep these in step with the Python side: `nbops.lint.diagnostic` (Diagnostic,
 * Fix, Edit), `nbops.lint.rule` (Rule), the run endpoints (`nbops.run`, the server's jobs),
 * the review endpoints (`nbops.review.checks`, `nbops.review.submit`), the hackathon endpoints
 * (`nbops.hackathon.score`'s scorecard, `nbops.server.hackathon`) and the server's error mapping.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { JSONValue } from '@lumino/coreutils';

export type Severity = 'error' | 'warning' | 'info';
export type FixAvailability = 'none' | 'safe' | 'unsafe';
export type Applicability = 'safe' | 'unsafe';
export type DiagnosticSource = 'nbops' | 'ruff' | 'black';
export type EditOp =
  | 'replace_source'
  | 'replace_text'
  | 'add_tag'
  | 'clear_outputs'
  | 'delete_cell';

/** `GET nbops/version` */
export interface IVersionResponse {
  version: string;
}

/** One entry of `GET nbops/rules`. */
export interface IRule {
  code: string;
  name: string;
  family: string;
  summary: string;
  severity: Severity;
  fix: FixAvailability;
  fix_note: string;
  explanation: string;
  bad_example: string;
  good_example: string;
  options: { [key: string]: unknown };
}

/** One change to one cell (1-based lines and columns, end exclusive). */
export interface IEdit {
  op: EditOp;
  cell_index: number;
  content?: string;
  line?: number | null;
  column?: number | null;
  end_line?: number | null;
  end_column?: number | null;
}

export interface IFix {
  message: string;
  applicability: Applicability;
  edits: IEdit[];
}

export interface IDiagnostic {
  code: string;
  name: string;
  source: DiagnosticSource;
  severity: Severity;
  message: string;
  path: string;
  /** 1-based cell number, as people count them. */
  cell: number | null;
  /** 0-based index into the notebook's cells. */
  cell_index: number | null;
  cell_id: string | null;
  line: number | null;
  column: number | null;
  end_line: number | null;
  end_column: number | null;
  fix: IFix | null;
  url: string | null;
}

export interface IFileError {
  path: string;
  message: string;
}

export interface ILintSummary {
  files: number;
  files_with_findings: number;
  unreadable: number;
  findings: number;
  errors: number;
  warnings: number;
  infos: number;
  fixable: number;
}

/** `POST nbops/lint` body. */
export interface ILintRequest {
  path: string;
  content?: nbformat.INotebookContent;
  select?: string[];
  ignore?: string[];
  format_check?: boolean;
}

/** `POST nbops/lint` response. */
export interface ILintResponse {
  version: string;
  diagnostics: IDiagnostic[];
  errors: IFileError[];
  summary: ILintSummary;
}

/** `POST nbops/fix` body. */
export interface IFixRequest {
  path: string;
  content?: nbformat.INotebookContent;
  select?: string[];
  ignore?: string[];
  format_check?: boolean;
  unsafe?: boolean;
  clear_outputs?: boolean;
  /** Write the file (with a backup); the front end never sets it: it applies `content`. */
  write?: boolean;
}

export interface IAppliedFix {
  code: string;
  cell: number | null;
  cell_index: number | null;
  message: string;
}

/** `POST nbops/fix` response (the server does not write the file). */
export interface IFixResponse {
  content: nbformat.INotebookContent;
  applied: IAppliedFix[];
  diff: string;
  changed: boolean;
  /** The server wrote the file (only with `write`). */
  written?: boolean;
  /** Root-relative path of the backup copy, when written. */
  backup?: string | null;
}

/** `POST nbops/modularize` body (paths relative to the server root). */
export interface IModularizeRequest {
  path: string;
  /** Only plan (the default); `false` writes the files. */
  dry_run?: boolean;
  /** Overwrite files nbops did not generate, or that were edited since. */
  force?: boolean;
  package?: string | null;
  out?: string | null;
}

export type ModularizeFileKind = 'module' | 'init' | 'tests' | 'notebook';
export type ModularizeFileAction = 'create' | 'overwrite' | 'unchanged' | 'conflict';

/** A parameter of the generated pipeline (`default` is Python source). */
export interface IModularizeParameter {
  name: string;
  default: string;
  /** 1-based cell number. */
  cell: number | null;
  /** The comment next to it in the parameters cell (may be empty). */
  help: string;
  /**
   * A constant the notebook assigns once and reads later, proposed by nbops (not from a
   * parameters cell or a `# nbops: parameter` mark).
   */
  proposed: boolean;
}

/** One step of the pipeline: one function in the module. */
export interface IModularizeStep {
  name: string;
  title: string;
  /** 1-based cell numbers. */
  cells: number[];
  /** Data from earlier steps. */
  inputs: string[];
  /** Names later steps read. */
  outputs: string[];
  /** Names nothing later reads (the step returns them too). */
  results: string[];
  /** The frozen dataclass the step returns when it returns two or more values. */
  returns: string | null;
  /** That dataclass's fields (`outputs` then `results`, as named in the module); [] without one. */
  fields: string[];
  parameters: string[];
  doc: string;
  /** Lines of the step function's body in the module. */
  lines: number;
  /**
   * 1-based cells (numbered as `cells`) whose exploration (head(), plots, prints) stays in
   * the slim notebook instead of the step.
   */
  exploration: number[];
  /** 1-based cells (numbered as `cells`) whose code the step function holds. */
  code_cells: number[];
}

export interface IModularizeFunction {
  name: string;
  kind: string;
  cell: number | null;
  new_parameters: string[];
}

export interface IGlobalToParameter {
  function: string;
  name: string;
  cell: number | null;
}

export interface IModularizeFile {
  /** Relative to the server root. */
  path: string;
  kind: ModularizeFileKind;
  action: ModularizeFileAction;
}

export interface IModularizeProblem {
  /** 1-based cell number. */
  cell: number | null;
  /** 1-based line in the cell. */
  line: number | null;
  severity: 'error' | 'warning';
  message: string;
}

/** `POST nbops/modularize` response: the plan (docs/modularize.md). */
export interface IModularizePlan {
  version: number;
  notebook: string;
  package: string;
  module: string;
  strategy: string;
  dry_run: boolean;
  written: boolean;
  parameters: IModularizeParameter[];
  steps: IModularizeStep[];
  functions: IModularizeFunction[];
  globals_to_parameters: IGlobalToParameter[];
  requirements: string[];
  files: IModularizeFile[];
  problems: IModularizeProblem[];
}

/** The JSON body of any non-2xx answer. */
export interface IErrorBody {
  error: string;
  message: string;
  path?: string | null;
  /** 0-based index of the cell the error is about. */
  cell?: number | null;
  hint?: string | null;
  status?: number;
  /** The plan, on a modularize conflict (409 `ConflictError`). */
  plan?: IModularizePlan;
  /** The checklist, when the review gate blocks a submit (422 `GateFailed`). */
  gate?: IGateReport;
  /** Why a push (or fetch) failed (502 `PushError`). */
  reason?: PushFailure;
  /** The forge's host (502/503 forge errors). */
  host?: string | null;
  /** Seconds to wait (503 rate limit), when the forge says. */
  retry_after?: number | null;
}

// -- review (docs/review.md): `POST nbops/check`, `POST nbops/submit` -------------------------

export type CheckCategory = 'documentation' | 'quality' | 'safety' | 'reproducibility';
export type CheckStatus = 'pass' | 'fail' | 'skip';
export type CheckLevel = 'required' | 'optional';
/** Why `git push` failed: the remote has commits we do not, a hook refused, auth, network. */
export type PushFailure = 'rejected' | 'declined' | 'auth' | 'network' | 'other';

/** `POST nbops/check` body: the saved notebook, or the open document's unsaved content. */
export interface ICheckRequest {
  path: string;
  content?: nbformat.INotebookContent;
}

/** One line of the review checklist. */
export interface ICheckResult {
  id: string;
  category: CheckCategory;
  title: string;
  level: CheckLevel;
  status: CheckStatus;
  /** Fails and is required. A failing optional check is a warning. */
  blocking: boolean;
  message: string;
  /** How to fix it (may be empty). */
  fix: string;
  /** 1-based cell number. */
  cell: number | null;
  /** 0-based index of the cell to look at. */
  cell_index: number | null;
  /** A lint code whose fix repairs it (`POST nbops/fix` with `select: [fix_code]`). */
  fix_code: string | null;
  details: string[];
}

/** The `[tool.nbops.submit]` policy in force. */
export interface IReviewPolicy {
  checks: { [id: string]: 'required' | 'optional' | 'off' };
  sections: string[];
  fail_on: Severity;
  summary_min_words: number;
  strip_outputs: boolean;
  max_output_bytes: number;
  /** The branch pull requests target. */
  base: string;
  remote: string;
  /** Requested when the submit names none. */
  reviewers: string[];
  forge: string | null;
  model: string | null;
}

/** `POST nbops/check` response (`nbops check --format json` of one notebook). */
export interface IGateReport {
  notebook: string;
  /** No required check fails. */
  passed: boolean;
  summary: { pass: number; fail: number; skip: number; blocking: number };
  checks: ICheckResult[];
  policy: IReviewPolicy;
}

/** `POST nbops/submit` body (the saved file is submitted). */
export interface ISubmitRequest {
  path: string;
  /** The pull request's title; default `Review: <H1 title>`. */
  title?: string | null;
  /** A note to reviewers, at the top of the review report. */
  message?: string | null;
  /** User names or `org/team`; none: the policy's reviewers. */
  reviewers?: string[] | null;
  base?: string | null;
  remote?: string | null;
  dry_run?: boolean;
}

export interface IPullRequestRef {
  number: number;
  url: string;
  state: string;
  /** Opened by this submit (false: an open one was updated). */
  created: boolean;
}

/** `POST nbops/submit` response. Paths are repository-relative. */
export interface ISubmitResult {
  notebook: string;
  /** `review/<notebook>-<7 hex>` */
  branch: string;
  base: string;
  /** The remote's name. */
  remote: string;
  commit: string | null;
  /** False: the branch already had exactly this content. */
  committed: boolean;
  /** The base had moved since the last submit and was merged into the branch first. */
  merged_base: boolean;
  pushed: boolean;
  dry_run: boolean;
  files: string[];
  /** `reviews/<notebook>.md` on the branch. */
  report: string;
  /** `github`, `gitlab`; null: the remote is no known forge. */
  forge: string | null;
  pull_request: IPullRequestRef | null;
  /** Where to open the pull request by hand (a forge, no token on the server). */
  compare_url: string | null;
  warnings: string[];
  gate: IGateReport;
}

// -- runs (docs/run.md): `GET nbops/params`, `POST nbops/runs`, `GET nbops/runs`, jobs ----------

/**
 * A parameter's type as nbops infers it from the literal or an annotation. Other words
 * (`tuple`, `expression`, ...) may come: the form treats them as text.
 */
export type ParamType = 'int' | 'float' | 'bool' | 'str' | 'list' | 'dict' | 'none' | string;

/** One `name = value` of the notebook's parameters cell. */
export interface IParameter {
  name: string;
  type: ParamType;
  /** The default as JSON; for an `expression` (or a value JSON cannot hold) its source text. */
  default: JSONValue;
  /** The default as written in the cell (Python source). */
  default_source: string;
  /** The comment beside or above it (may be empty). */
  help: string;
  /** 1-based cell number. */
  cell: number;
  /** 1-based line in that cell. */
  line: number;
}

/** `GET nbops/params?path=P` */
export interface IParamsResponse {
  notebook: string;
  /** 1-based number of the parameters cell; `null` when the notebook has none. */
  cell: number | null;
  /** False: found only by its `# parameters` first line (papermill needs the tag). */
  tagged: boolean;
  parameters: IParameter[];
  /** Why there is no form, and how to fix it (or a note about the cell). */
  message?: string;
  /** Whether the server can track runs (absent from an nbops older than this field). */
  tracking?: ITrackingStatus;
}

/**
 * Whether runs can be tracked on the server: MLflow is installed in its Python. Without it
 * `POST nbops/runs` answers 503 and the Run tab disables Run and Sweep, showing the hint.
 */
export interface ITrackingStatus {
  available: boolean;
  /** Why runs cannot be tracked; `null` when they can. */
  message: string | null;
  /** What to do (`pip install nbops[tracking]`); `null` when runs can be tracked. */
  hint: string | null;
}

/**
 * A value for a parameter: text as the user typed it (the server parses it like
 * `nbops run -p NAME VALUE`), or a JSON value.
 */
export type ParamValue = JSONValue;

/** `POST nbops/runs` body. */
export interface IRunRequest {
  /** Root-relative path of the (saved) notebook. */
  path: string;
  /** Values of one run (or the fixed values of a sweep). */
  parameters?: { [name: string]: ParamValue };
  /** A sweep: one run per combination of these values. */
  grid?: { [name: string]: ParamValue[] };
  /** Runs at a time in a sweep (separate kernels). */
  parallel?: number;
  /** Kernel name (default: the notebook's). */
  kernel?: string;
  /** Seconds a cell may run. */
  timeout?: number;
}

export type JobKind = 'run' | 'sweep';
export type JobState = 'running' | 'finished' | 'failed' | 'cancelled' | 'error';
/** MLflow's run status: FINISHED, FAILED, KILLED, RUNNING, SCHEDULED. */
export type RunStatus = string;

/** One run of a job, once it has ended. */
export interface IJobRun {
  run_id: string;
  status: RunStatus;
  parameters: { [name: string]: JSONValue };
  /** NaN and infinities are `null`. */
  metrics: { [name: string]: number | null };
  /** Root-relative path of the executed notebook. */
  output: string | null;
  duration_s: number | null;
  /** 1-based number of the cell that raised. */
  failed_cell: number | null;
  error: string | null;
}

/** A run or a sweep the server executes in the background. */
export interface IJob {
  id: string;
  path: string;
  kind: JobKind;
  state: JobState;
  /** Runs in all. */
  total: number;
  /** Runs that ended, failed ones included. */
  done: number;
  /** Runs that ended without finishing (a subset of `done`). */
  failed: number;
  running: number;
  /** ISO 8601. */
  started: string;
  ended: string | null;
  parent_run_id: string | null;
  runs: IJobRun[];
  error: string | null;
}

/** `POST nbops/runs` response (202). */
export interface IStartRunResponse {
  job: IJob;
}

/** One tracked run from the MLflow store. */
export interface IRunRecord {
  run_id: string;
  name: string;
  status: RunStatus;
  /** ISO 8601 with the UTC offset: when the run began (its kernel started). */
  start_time: string | null;
  end_time: string | null;
  /** `end_time - start_time` in seconds; `null` while the run has not ended. */
  duration_s: number | null;
  params: { [name: string]: string };
  /** NaN and infinities are `null`. */
  metrics: { [name: string]: number | null };
  tags: { [name: string]: string };
  artifact_uri: string;
  parent_run_id: string | null;
  experiment_id: string;
  /** Root-relative path of the executed notebook, when it is under the server root. */
  output: string | null;
}

/** `GET nbops/runs?path=P&limit=N` */
export interface IRunsResponse {
  /** This server's jobs for the notebook, newest first, running ones included. */
  jobs: IJob[];
  /** The notebook's runs in the tracking store, newest first. */
  runs: IRunRecord[];
  /** The store, and whether MLflow is installed (else `runs` is empty: see `hint`). */
  tracking: Partial<ITrackingStatus> & {
    uri: string;
    /** The command that starts the MLflow UI for this store (`nbops ui`). */
    ui_command: string;
  };
}

// -- hackathon (docs/hackathon.md): `GET nbops/hackathon`, `POST nbops/hackathon/score`, jobs ----

/** The exercise a notebook belongs to (`hackathon.toml`). */
export interface IHackathonExercise {
  name: string;
  /** ISO 8601, or null when there is none. */
  deadline: string | null;
  /** The exercise folder, root-relative (`.`: the server root). */
  root: string;
  /** The teams of `[teams.<name>]`. */
  teams: string[];
  /** The starting notebooks, relative to the exercise folder. */
  notebooks: string[];
  /** Seconds to score one team (a scoring job may take 120 s more). */
  timeout: number;
}

export type ScoreComponentStatus = 'ok' | 'failed' | 'skipped';

/** One component of a scorecard: `score` (0 to 1) earns `points` of its `weight`. */
export interface IScoreComponent {
  /** lint, documentation, library, pipeline, tests, verify, tracked_run */
  id: string;
  title: string;
  weight: number;
  score: number | null;
  points: number;
  status: ScoreComponentStatus;
  /** How it was measured (may be empty when it failed). */
  explanation: string;
  /** Why it failed. */
  reason: string | null;
}

/** A team's scorecard (`nbops hackathon status --format json`). */
export interface IScorecard {
  team: string;
  source: { kind: string; ref: string | null; commit: string | null };
  /** The last commit of the work (ISO 8601). */
  submitted_at: string | null;
  total: number;
  max_total: number;
  /** Every `[required] checks` passes. */
  required_passed: boolean;
  components: IScoreComponent[];
  /** What could not be scored; required checks that fail. */
  errors: string[];
  /** What would raise the total most: `<what>: up to +N points`. */
  suggestion: string | null;
  /** ISO 8601 (UTC). */
  scored_at: string;
}

export type ScoreJobState = 'running' | 'done' | 'error' | 'cancelled';

/** A scoring the server runs in a separate process, with a time limit. */
export interface IScoreJob {
  id: string;
  /** The notebook it was asked from (root-relative). */
  path: string;
  /** The exercise folder (root-relative). */
  exercise: string;
  team: string;
  state: ScoreJobState;
  /** ISO 8601. */
  started: string;
  ended: string | null;
  /** The time limit (seconds): the exercise's timeout + 120. */
  limit_s: number;
  /** The scorecard, once `done`. */
  card: IScorecard | null;
  /** Why it failed, in plain words (or a note on a `done` job). */
  error: string | null;
}

/** `GET nbops/hackathon?path=P` (every field null when the notebook is in no exercise). */
export interface IHackathonInfo {
  exercise: IHackathonExercise | null;
  /**
   * The team whose `folder` holds the notebook, else the one of the checkout's
   * `team/<name>` branch.
   */
  team: string | null;
  /** The checkout's current branch. */
  branch: string | null;
  /** The scorecard the server saved for the team last. */
  card: IScorecard | null;
  /** The checkout's newest scoring job on this server. */
  job: IScoreJob | null;
}

/** `POST nbops/hackathon/score` body. */
export interface IScoreRequest {
  /** A notebook of the exercise checkout (root-relative). */
  path: string;
  /**
   * Score as this team (default: the notebook's folder team, else the checkout's
   * `team/<name>` branch).
   */
  team?: string | null;
}

/** `POST nbops/hackathon/score` response (202). */
export interface IStartScoreResponse {
  job: IScoreJob;
}

/** The user's settings (`schema/plugin.json`). */
export interface ISettings {
  lintOnOpen: boolean;
  lintOnSave: boolean;
  select: string[];
  ignore: string[];
  debounceMs: number;
  /** Where the MLflow UI (`nbops ui`) answers; run links point there. */
  mlflowUiUrl: string;
  /** How often the Run and Hackathon tabs ask for the progress of running jobs. */
  runPollIntervalMs: number;
}

export const DEFAULT_SETTINGS: ISettings = {
  lintOnOpen: true,
  lintOnSave: true,
  select: [],
  ignore: [],
  debounceMs: 500,
  mlflowUiUrl: 'http://127.0.0.1:5000',
  runPollIntervalMs: 1000
};

/** Command ids. */
export namespace CommandIDs {
  export const lint = 'nbops:lint';
  export const fixAllSafe = 'nbops:fix-all-safe';
  export const openPanel = 'nbops:open-panel';
  export const submitForReview = 'nbops:submit-for-review';
  export const modularize = 'nbops:modularize';
  export const runNotebook = 'nbops:run-notebook';
  export const scoreHackathon = 'nbops:score-hackathon';
}

export const PLUGIN_ID = '@nbops/labextension:plugin';
export const PANEL_ID = 'nbops-panel';

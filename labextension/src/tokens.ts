/**
 * Types of the JSON of the nbops REST API, named as the rest of the extension uses them.
 *
 * `docs/rest-api.yaml` is the contract: `src/generated/api.ts` is generated from it
 * (`npm run gen:types`, see docs/development.md) and every API type here is an alias of one of
 * its schemas. The only narrowings: a notebook's JSON is JupyterLab's `INotebookContent`, JSON
 * values are Lumino's `JSONValue`, and an error body is read defensively (any non-2xx answer).
 * The front end's own types (settings, command ids) follow the API types.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { JSONValue } from '@lumino/coreutils';

import type { components, operations } from './generated/api';

type Schemas = components['schemas'];
/** The JSON body of an operation's answer with that status. */
type Answer<
  Op extends keyof operations,
  Status extends keyof operations[Op]['responses']
> = operations[Op]['responses'][Status] extends { content: { 'application/json': infer Body } }
  ? Body
  : never;
/** `T` with its `Notebook` field `K` typed as JupyterLab's notebook JSON. */
type WithNotebook<T, K extends keyof T> = Omit<T, K> & {
  [P in keyof Pick<T, K>]: nbformat.INotebookContent;
};

export type Severity = Schemas['Severity'];
export type FixAvailability = Schemas['Rule']['fix'];
export type Applicability = Schemas['Fix']['applicability'];
export type DiagnosticSource = Schemas['Diagnostic']['source'];
export type EditOp = Schemas['Edit']['op'];

/** `GET nbops/version` */
export type IVersionResponse = Schemas['Version'];

/** One entry of `GET nbops/rules`. */
export type IRule = Schemas['Rule'];

/** One change to one cell (1-based lines and columns, end exclusive). */
export type IEdit = Schemas['Edit'];
export type IFix = Schemas['Fix'];
/** One finding: `cell` is 1-based (as people count them), `cell_index` 0-based. */
export type IDiagnostic = Schemas['Diagnostic'];
export type IFileError = Schemas['LintResult']['errors'][number];
export type ILintSummary = Schemas['Summary'];

/** `POST nbops/lint` body. */
export type ILintRequest = WithNotebook<Schemas['LintRequest'], 'content'>;
/** `POST nbops/lint` response. */
export type ILintResponse = Schemas['LintResult'];

/** `POST nbops/fix` body (the front end never sets `write`: it applies `content`). */
export type IFixRequest = WithNotebook<Schemas['FixRequest'], 'content'>;
export type IAppliedFix = Schemas['AppliedFix'];
/** `POST nbops/fix` response (the server does not write the file unless asked). */
export type IFixResponse = WithNotebook<Schemas['FixResult'], 'content'>;

/** `POST nbops/modularize` body (paths relative to the server root). */
export type IModularizeRequest = Schemas['ModularizeRequest'];
/** `POST nbops/modularize` response: the plan (docs/modularize.md). */
export type IModularizePlan = Schemas['ModularizePlan'];
/** A parameter of the generated pipeline (`default` is Python source). */
export type IModularizeParameter = IModularizePlan['parameters'][number];
/** One step of the pipeline: one function in the module. */
export type IModularizeStep = IModularizePlan['steps'][number];
export type IModularizeFunction = IModularizePlan['functions'][number];
export type IGlobalToParameter = IModularizePlan['globals_to_parameters'][number];
export type IModularizeFile = IModularizePlan['files'][number];
export type IModularizeProblem = IModularizePlan['problems'][number];
export type ModularizeFileKind = IModularizeFile['kind'];
export type ModularizeFileAction = IModularizeFile['action'];

/**
 * The JSON body of any non-2xx answer: the schema's `Error` with what a modularize conflict
 * (`plan`) and a submit failure (`gate`, `reason`, `host`, ...) add. Only `error` and
 * `message` are relied on: the answer may come from something other than nbops.
 */
export type IErrorBody = Pick<Schemas['Error'], 'error' | 'message'> &
  Partial<Omit<Schemas['Error'], 'error' | 'message'>> &
  Pick<Schemas['ConflictError'], 'plan'> &
  Pick<Schemas['SubmitError'], 'gate' | 'field' | 'reason' | 'host' | 'retry_after'>;

// -- review (docs/review.md): `POST nbops/check`, `POST nbops/submit` -------------------------

export type CheckCategory = Schemas['CheckResult']['category'];
export type CheckStatus = Schemas['CheckResult']['status'];
export type CheckLevel = Schemas['CheckResult']['level'];
/** Why `git push` failed: the remote has commits we do not, a hook refused, auth, network. */
export type PushFailure = NonNullable<Schemas['SubmitError']['reason']>;

/** `POST nbops/check` body: the saved notebook, or the open document's unsaved content. */
export type ICheckRequest = WithNotebook<Schemas['CheckRequest'], 'content'>;
/** One line of the review checklist. */
export type ICheckResult = Schemas['CheckResult'];
/** The `[tool.nbops.submit]` policy in force. */
export type IReviewPolicy = Schemas['Policy'];
/** `POST nbops/check` response (`nbops check --format json` of one notebook). */
export type IGateReport = Schemas['GateReport'];
/** `POST nbops/submit` body (the saved file is submitted). */
export type ISubmitRequest = Schemas['SubmitRequest'];
export type IPullRequestRef = Schemas['PullRequestRef'];
/** `POST nbops/submit` response. Paths are repository-relative. */
export type ISubmitResult = Schemas['SubmitResult'];

// -- runs (docs/run.md): `GET nbops/params`, `POST nbops/runs`, `GET nbops/runs`, jobs ----------

/** A parameter's type as nbops infers it from the literal or an annotation. */
export type ParamType = Schemas['Parameter']['type'];
/** One `name = value` of the notebook's parameters cell (`default` is JSON). */
export type IParameter = Omit<Schemas['Parameter'], 'default'> & { default: JSONValue };
/** `GET nbops/params?path=P` */
export type IParamsResponse = Omit<Schemas['Parameters'], 'parameters'> & {
  parameters: IParameter[];
};
/**
 * Whether runs can be tracked on the server: MLflow is installed in its Python. Without it
 * `POST nbops/runs` answers 503 and the Run tab disables Run and Sweep, showing the hint.
 */
export type ITrackingStatus = Schemas['TrackingStatus'];

/**
 * A value for a parameter: text as the user typed it (the server parses it like
 * `nbops run -p NAME VALUE`), or a JSON value.
 */
export type ParamValue = JSONValue;

/** `POST nbops/runs` body. */
export type IRunRequest = Schemas['RunRequest'];
/** `POST nbops/runs/validate` body: the Run tab's form, each field's text as typed. */
export type IRunForm = Schemas['RunForm'];
/** `POST nbops/runs/validate` response: errors by field, or the request and its run count. */
export type IRunFormCheck = Schemas['RunFormCheck'];
/** What one field's text was read as (`IRunFormCheck.fields`). */
export type IRunFormField = Schemas['RunFormField'];

export type JobKind = Schemas['Job']['kind'];
export type JobState = Schemas['Job']['state'];
/** MLflow's run status: FINISHED, FAILED, KILLED, RUNNING, SCHEDULED. */
export type RunStatus = Schemas['JobRun']['status'];
/** One run of a job, once it has ended. */
export type IJobRun = Schemas['JobRun'];
/** A run or a sweep the server executes in the background. */
export type IJob = Schemas['Job'];
/** `POST nbops/runs` response (202). */
export type IStartRunResponse = Answer<'startRun', 202>;
/** One tracked run from the MLflow store. */
export type IRunRecord = Schemas['RunRecord'];
/** `GET nbops/runs?path=P&limit=N` */
export type IRunsResponse = Schemas['RunHistory'];

// -- hackathon (docs/hackathon.md): `GET nbops/hackathon`, `POST nbops/hackathon/score`, jobs ----

/** The exercise a notebook belongs to (`hackathon.toml`). */
export type IHackathonExercise = Schemas['HackathonExercise'];
export type ScoreComponentStatus = Schemas['ScoreComponent']['status'];
/** One component of a scorecard: `score` (0 to 1) earns `points` of its `weight`. */
export type IScoreComponent = Schemas['ScoreComponent'];
/** A team's scorecard (`nbops hackathon status --format json`). */
export type IScorecard = Schemas['Scorecard'];
export type ScoreJobState = Schemas['HackathonJob']['state'];
/** A scoring the server runs in a separate process, with a time limit. */
export type IScoreJob = Schemas['HackathonJob'];
/** `GET nbops/hackathon?path=P` (every field null when the notebook is in no exercise). */
export type IHackathonInfo = Schemas['HackathonInfo'];
/** `POST nbops/hackathon/score` body. */
export type IScoreRequest = Schemas['ScoreRequest'];
/** `POST nbops/hackathon/score` response (202). */
export type IStartScoreResponse = Answer<'scoreHackathonTeam', 202>;

// -- models (docs/deploy.md): `GET nbops/models`, artifacts, `POST nbops/models/{name}/promote` --

/** `GET nbops/models?path=P`: the project's registered models. */
export type IModelList = Schemas['ModelList'];
/** A registered model: champion, challenger, versions newest first, the last comparison. */
export type IRegisteredModel = Schemas['RegisteredModel'];
/** One version: its run, metrics, release tags, verdict and downloadable artifacts. */
export type IModelVersion = Schemas['ModelVersion'];
export type IModelArtifact = Schemas['ModelArtifact'];
/** `[tool.nbops.promote]` of the project. */
export type IPromoteThresholds = Schemas['PromoteThresholds'];
/** PASS or HOLD with each threshold's result. */
export type IVerdict = Schemas['Verdict'];
/** `promotion/verdict.json` of the newest judged version. */
export type IComparison = Schemas['Comparison'];
/** `POST nbops/models/{name}/promote` body. */
export type IPromoteRequest = Schemas['PromoteRequest'];
/** `POST nbops/models/{name}/promote` response. */
export type IPromotion = Schemas['Promotion'];

// -- health (docs/monitor.md): `GET nbops/health`, `GET nbops/health/{model}/checks/{run}/report` --

/** `GET nbops/health?path=P`: the checks of the project's champions and its triggers. */
export type IHealthList = Schemas['HealthList'];
/** A model with its champion and its checks, newest first. */
export type IHealthModel = Schemas['HealthModel'];
/** One `nbops monitor` check: verdict, reasons, drifted features, metrics. */
export type IHealthCheck = Schemas['HealthCheck'];
export type IHealthMetrics = Schemas['HealthMetrics'];
/** One metric's thresholds of `[tool.nbops.health]`. */
export type IHealthTrigger = Schemas['HealthTrigger'];
export type IHealthConfigError = Schemas['HealthConfigError'];

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

"""The REST API's request and answer types, generated from docs/rest-api.yaml.

Do not edit: change the schema and run ``python scripts/gen_api_types.py`` (and
``npm run gen:types`` in labextension/ for the TypeScript types; docs/development.md).
The bottom layer: it imports nothing from nbops, and every layer may use it.
"""

# 62 schemas; not expressible here (typed Any): 0

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict

if TYPE_CHECKING:
    from typing_extensions import NotRequired  # typing's from Python 3.11

__all__ = [
    "AppliedFix",
    "CheckRequest",
    "CheckResult",
    "CheckResultCategory",
    "Codes",
    "Comparison",
    "ConflictError",
    "Diagnostic",
    "Edit",
    "EditOp",
    "Error",
    "ExtraStatus",
    "Fix",
    "FixRequest",
    "FixResult",
    "GateReport",
    "GateReportSummary",
    "HackathonExercise",
    "HackathonInfo",
    "HackathonJob",
    "HealthCheck",
    "HealthCheckDriftedItem",
    "HealthConfigError",
    "HealthList",
    "HealthListTracking",
    "HealthMetrics",
    "HealthModel",
    "HealthTrigger",
    "Job",
    "JobRun",
    "JobState",
    "LintRequest",
    "LintResult",
    "LintResultErrorsItem",
    "ModelArtifact",
    "ModelList",
    "ModelListTracking",
    "ModelVersion",
    "ModularizePlan",
    "ModularizePlanFilesItem",
    "ModularizePlanFunctionsItem",
    "ModularizePlanGlobalsToParametersItem",
    "ModularizePlanParametersItem",
    "ModularizePlanProblemsItem",
    "ModularizePlanStepsItem",
    "ModularizeRequest",
    "Notebook",
    "Parameter",
    "ParameterType",
    "Parameters",
    "Policy",
    "PromoteRequest",
    "PromoteThresholds",
    "Promotion",
    "PullRequestRef",
    "RegisteredModel",
    "Rule",
    "RunExecutors",
    "RunExecutorsAvailableItem",
    "RunForm",
    "RunFormCheck",
    "RunFormField",
    "RunHistory",
    "RunHistoryTracking",
    "RunRecord",
    "RunRequest",
    "ScoreComponent",
    "ScoreComponentId",
    "ScoreProgress",
    "ScoreRequest",
    "Scorecard",
    "ScorecardSource",
    "Severity",
    "SubmitError",
    "SubmitErrorField",
    "SubmitRequest",
    "SubmitResult",
    "Summary",
    "TrackingStatus",
    "Verdict",
    "VerdictJudgementsItem",
    "Version",
    "VersionExtras",
]


class Error(TypedDict):
    """
    Every error answer. `error` is the nbops error class (UsageError, AccessError, NotFoundError,
    NotebookReadError, WriteError, ToolError, ...) or an HTTP name (Forbidden, PayloadTooLarge,
    MethodNotAllowed, InternalError).
    """

    error: str
    message: str
    # root-relative path the error is about
    path: str | None
    # 0-based cell index the error is about
    cell: int | None
    # what to do about it
    hint: str | None
    # the HTTP status, repeated
    status: int


class ExtraStatus(TypedDict):
    """One extra of nbops (`pip install 'nbops[run]'`): whether all its packages are installed."""

    available: bool
    # the import names of its packages that are not installed (empty when available)
    missing: list[str]
    # the command that installs it, e.g. pip install 'nbops[run]'
    install: str


class VersionExtras(TypedDict):
    """
    Which of nbops' extras are installed in the server's Python (found, not imported): the panel
    disables what needs a missing one and shows its install line (Run and Score need `run`).
    """

    lab: ExtraStatus
    run: ExtraStatus
    ui: ExtraStatus
    widgets: ExtraStatus
    dask: ExtraStatus


class Version(TypedDict):
    """The schema ``Version``."""

    version: str
    # Which of nbops' extras are installed in the server's Python (found, not imported): the panel
    # disables what needs a missing one and shows its install line (Run and Score need `run`).
    extras: VersionExtras


Severity: TypeAlias = Literal["error", "warning", "info"]


class Rule(TypedDict):
    """The schema ``Rule``."""

    code: str
    name: str
    family: str
    summary: str
    severity: Severity
    fix: Literal["safe", "unsafe", "none"]
    fix_note: str
    explanation: str
    # a notebook in nbops' snippet format
    bad_example: str
    good_example: str
    # the rule's options and their defaults
    options: dict[str, Any]


EditOp: TypeAlias = Literal[
    "replace_source",
    "replace_text",
    "add_tag",
    "clear_outputs",
    "delete_cell",
]


class Edit(TypedDict):
    """
    One change to one cell. `replace_source`: the cell's whole new `content`. `replace_text`:
    replace `line:column` to `end_line:end_column` (1-based, end exclusive) with `content`.
    `add_tag`: add the tag `content`. `clear_outputs`: drop outputs and the execution count.
    `delete_cell`: remove the cell.
    """

    op: EditOp
    cell_index: int
    content: NotRequired[str]
    line: NotRequired[int | None]
    column: NotRequired[int | None]
    end_line: NotRequired[int | None]
    end_column: NotRequired[int | None]


class Fix(TypedDict):
    """The schema ``Fix``."""

    message: str
    applicability: Literal["safe", "unsafe"]
    edits: list[Edit]


class Diagnostic(TypedDict):
    """
    One finding; the shape of `nbops lint --format json`. `cell` is 1-based, `cell_index` 0-based;
    lines and columns are 1-based within the cell.
    """

    # NBxxx, FMT001 or a ruff code (F401, E501, ...)
    code: str
    name: str
    source: Literal["nbops", "ruff", "black"]
    severity: Severity
    message: str
    # the notebook's root-relative path
    path: str
    cell: int | None
    cell_index: int | None
    cell_id: str | None
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    fix: Fix | None
    url: str | None


class Summary(TypedDict):
    """The schema ``Summary``."""

    files: int
    files_with_findings: int
    unreadable: int
    findings: int
    errors: int
    warnings: int
    infos: int
    # findings with a safe fix
    fixable: int


# A notebook's JSON (nbformat 4 as JupyterLab holds it); read leniently, like a file.
Notebook: TypeAlias = dict[str, Any]


# Rule codes or prefixes (NB2, NB301, F401, FMT, RUFF, ALL); null or absent means the config's.
Codes: TypeAlias = list[str] | None


class LintRequest(TypedDict):
    """The schema ``LintRequest``."""

    # the notebook's path relative to the server root, ending in .ipynb
    path: str
    content: NotRequired[Notebook]
    select: NotRequired[Codes]
    ignore: NotRequired[Codes]
    # the black check (FMT001); null means the config's
    format_check: NotRequired[bool | None]


class LintResultErrorsItem(TypedDict):
    """The schema ``LintResultErrorsItem``."""

    path: str
    message: str


class LintResult(TypedDict):
    """The schema ``LintResult``."""

    version: str
    diagnostics: list[Diagnostic]
    # unreadable notebooks (each also has an NB001 diagnostic)
    errors: list[LintResultErrorsItem]
    summary: Summary


class FixRequest(TypedDict):
    """The schema ``FixRequest``."""

    # the notebook's path relative to the server root, ending in .ipynb
    path: str
    content: NotRequired[Notebook]
    select: NotRequired[Codes]
    ignore: NotRequired[Codes]
    format_check: NotRequired[bool | None]
    # also apply unsafe fixes
    unsafe: NotRequired[bool]
    # also clear outputs and execution counts
    clear_outputs: NotRequired[bool]
    # write the file (with a backup); not allowed with content
    write: NotRequired[bool]
    # first move the constants nbops modularize proposes as parameters into a new cell tagged
    # `parameters` (as `nbops fix --propose-parameters`): one applied fix `propose-parameters` per
    # moved line; skipped, with a note, when the notebook has a parameters cell
    propose_parameters: NotRequired[bool]


class AppliedFix(TypedDict):
    """The schema ``AppliedFix``."""

    # the code fixed (NB303, FMT001, clear-outputs, propose-parameters; ruff's codes comma-
    # separated)
    code: str
    # 1-based, numbered as before fixing
    cell: int | None
    cell_index: int | None
    message: str


class FixResult(TypedDict):
    """The schema ``FixResult``."""

    content: Notebook
    applied: list[AppliedFix]
    # unified diff of cell sources, tags and outputs (empty when nothing changed)
    diff: str
    changed: bool
    # the file was written (only with write)
    written: bool
    # root-relative path of the backup copy, when written
    backup: str | None
    # only with propose_parameters: why no parameters moved (a parameters cell already, a constant
    # sharing its line with other code)
    notes: NotRequired[list[str]]


class ModularizePlanParametersItem(TypedDict):
    """The schema ``ModularizePlanParametersItem``."""

    name: str
    # the default value's source code
    default: str
    cell: int | None
    # the comment next to it in the notebook (may be empty)
    help: str
    # a constant the notebook assigns once and reads later, proposed by nbops (not from a parameters
    # cell or a `# nbops: parameter` mark)
    proposed: bool


class ModularizePlanStepsItem(TypedDict):
    """The schema ``ModularizePlanStepsItem``."""

    name: str
    title: str
    cells: list[int]
    # data from earlier steps
    inputs: list[str]
    # names later steps read
    outputs: list[str]
    # names nothing later reads that the step shows, or the last step ends on (returned too)
    results: list[str]
    # the frozen dataclass the step returns when it returns two or more values
    returns: str | None
    # the fields of that dataclass (`outputs` then `results`, as named in the module); empty when
    # `returns` is null
    fields: list[str]
    parameters: list[str]
    doc: str
    # lines of the step function's body in the module
    lines: int
    # cells (numbered as `cells`) whose exploration statements (head(), describe(), plots, prints)
    # stay in the slim notebook instead of the step
    exploration: list[int]
    # cells (numbered as `cells`) whose code the step function holds: not imports-only, definitions-
    # only or exploration-only cells
    code_cells: list[int]


class ModularizePlanFunctionsItem(TypedDict):
    """The schema ``ModularizePlanFunctionsItem``."""

    name: str
    kind: str
    cell: int | None
    new_parameters: list[str]


class ModularizePlanGlobalsToParametersItem(TypedDict):
    """The schema ``ModularizePlanGlobalsToParametersItem``."""

    function: str
    name: str
    cell: int | None


class ModularizePlanFilesItem(TypedDict):
    """The schema ``ModularizePlanFilesItem``."""

    path: str
    kind: Literal["module", "init", "tests", "notebook"]
    action: Literal["create", "overwrite", "unchanged", "conflict"]


class ModularizePlanProblemsItem(TypedDict):
    """The schema ``ModularizePlanProblemsItem``."""

    cell: int | None
    line: int | None
    severity: Literal["error", "warning"]
    message: str


class ModularizePlan(TypedDict):
    """
    The plan of `nbops modularize` (docs/modularize.md). Paths are root-relative; `cell` is 1-based,
    `line` 1-based in the cell.
    """

    version: int
    notebook: str
    package: str
    module: str
    # how the notebook was cut into steps (headings, ...)
    strategy: str
    dry_run: bool
    # the files were written
    written: bool
    parameters: list[ModularizePlanParametersItem]
    steps: list[ModularizePlanStepsItem]
    functions: list[ModularizePlanFunctionsItem]
    globals_to_parameters: list[ModularizePlanGlobalsToParametersItem]
    requirements: list[str]
    files: list[ModularizePlanFilesItem]
    problems: list[ModularizePlanProblemsItem]


class ConflictError(TypedDict):
    """The `Error` object, plus the plan when the conflict is modularize's."""

    error: str
    message: str
    path: str | None
    cell: int | None
    hint: str | None
    status: int
    plan: NotRequired[ModularizePlan]


class ModularizeRequest(TypedDict):
    """The schema ``ModularizeRequest``."""

    # the notebook's path relative to the server root, ending in .ipynb; it must be saved
    path: str
    # only plan; false writes the files
    dry_run: NotRequired[bool]
    # overwrite files nbops did not generate or that were edited since
    force: NotRequired[bool]
    # the package name; null or absent: `[tool.nbops.modularize] package` or the `[project]` name of
    # the out folder's project, else of the notebook's, else the notebook's name (never a folder's
    # name; see docs/modularize.md)
    package: NotRequired[str | None]
    # the output folder relative to the server root; null or absent: the folder of the nearest
    # pyproject.toml, else the notebook's
    out: NotRequired[str | None]


ParameterType: TypeAlias = Literal[
    "int",
    "float",
    "str",
    "bool",
    "list",
    "dict",
    "tuple",
    "none",
    "expression",
]


class Parameter(TypedDict):
    """The schema ``Parameter``."""

    name: str
    type: ParameterType
    # the default as JSON; for an `expression` (or a value JSON cannot hold) its source text
    default: Any
    # the default's source code
    default_source: str
    # the comment beside it or right above it (may be empty)
    help: str
    cell: int
    # 1-based line in the cell
    line: int


class TrackingStatus(TypedDict):
    """
    Whether this server can track runs: MLflow is installed in its Python (found, not imported).
    Without it `POST /nbops/runs` answers 503.
    """

    available: bool
    # why runs cannot be tracked; null when they can
    message: str | None
    # what to do (pip install 'nbops[run]'); null when runs can be tracked
    hint: str | None


class RunExecutorsAvailableItem(TypedDict):
    """The schema ``RunExecutorsAvailableItem``."""

    name: str
    # its packages are installed in the server's Python (found, not imported)
    installed: bool
    # when not installed, the install line (pip install 'nbops[dask]'); null otherwise
    install: str | None


class RunExecutors(TypedDict):
    """
    Where runs can execute (`nbops run --executor`): the registered executors and the project's
    defaults, `[tool.nbops.run]` of the notebook's pyproject.toml.
    """

    # every registered executor (the built-ins `local` and `dask`, and the `nbops.executors` entry
    # points), sorted by name
    available: list[RunExecutorsAvailableItem]
    # the project's executor (`[tool.nbops.run] executor`, default `local`)
    executor: str
    # the project's Dask scheduler address (`[tool.nbops.run] scheduler`); null: a local cluster
    scheduler: str | None
    # why the project's `[tool.nbops.run]` could not be read (the defaults are then `local`); null
    # when it could
    message: str | None


class Parameters(TypedDict):
    """
    The parameters of a notebook, as `nbops params --format json` (docs/run.md). `cell` is 1-based.
    """

    # the notebook's root-relative path
    notebook: str
    # the parameters cell; null: there is none
    cell: int | None
    # the cell is tagged 'parameters' (false: found by its '# parameters' first line, so papermill
    # does not see it)
    tagged: bool
    parameters: list[Parameter]
    # only without a parameters cell: the CLI's explanation (lint rule NB303) and how to fix it
    message: NotRequired[str]
    tracking: TrackingStatus
    executors: RunExecutors


class RunRequest(TypedDict):
    """The schema ``RunRequest``."""

    # the notebook's path relative to the server root, ending in .ipynb; it must be saved
    path: str
    # name -> value for every run. A string is read as `nbops run -p NAME VALUE` reads it (for the
    # declared type); other JSON values are taken as they are.
    parameters: NotRequired[dict[str, Any] | None]
    # name -> values: one run per combination (a sweep), the last name varying fastest; values as in
    # `parameters`. A name may not be in both.
    grid: NotRequired[dict[str, list[Any]] | None]
    # runs at a time in a sweep, each in its own kernel
    parallel: NotRequired[int]
    # the kernel; null or absent: the notebook's
    kernel: NotRequired[str | None]
    # seconds a cell may run
    timeout: NotRequired[float | None]
    # where the runs execute (`nbops run --executor`): `local` (kernels on the server's machine) or
    # `dask` (one Dask task per run); null or absent: the project's `[tool.nbops.run] executor`
    executor: NotRequired[str | None]
    # with `dask`: the scheduler's address (`tcp://HOST:8786`); null or absent: `[tool.nbops.run]
    # scheduler`, else a local cluster started for the runs
    scheduler: NotRequired[str | None]
    # run the module `nbops modularize` generated for the notebook instead of the notebook (`nbops
    # run --pipeline`): one parameter set (no `grid`), on the `local` or `dask` executor (with
    # `dask` its steps are Dask tasks); no generated module is a 404 saying to modularize first
    pipeline: NotRequired[bool]


class RunForm(TypedDict):
    """The Run tab's form as the user typed it (`POST /nbops/runs/validate`)."""

    # the notebook's path relative to the server root, ending in .ipynb; its saved parameters are
    # read
    path: str
    # `run`: one run, each field one value; `sweep`: a field may hold several values (a grid);
    # `pipeline`: one run of the generated module, each field one value, no kernel (the request gets
    # `pipeline: true`; no generated module is the form's error)
    mode: Literal["run", "sweep", "pipeline"]
    # parameter name -> its text as typed (bools: `true`/`false`; in a sweep `true,false`). A name
    # left out, or whose text is the default, is not sent. In a sweep a text is split as `nbops run
    # --grid NAME=TEXT` splits it: a text starting with `[` is a JSON list (or Python literal list)
    # of the values (`["a,b", "c"]`, `[1, 2]`); otherwise it is split on commas, each piece stripped
    # (`0.1, 0.2`, `a,b`, `true,false`), and an empty piece is an error. Exceptions, so that one
    # value of a structured type stays one value: for a list, tuple or dict parameter the text is
    # one value unless it is a non-empty list of lists (of dicts for a dict parameter: `[[1, 2], [3,
    # 4]]` is two values, `[1, 2]` one); for a parameter whose default is not a plain value (`none`,
    # `expression`) a text holding any of `[]{}()'"` is one value. One value makes a fixed
    # parameter; two or more a grid axis.
    fields: dict[str, str]
    # runs at a time (sweeps only; ignored for a run), as typed: a whole number from 1 to 64; null
    # or empty: 1
    parallel: NotRequired[str | None]
    # the kernel's name; null or blank: the notebook's
    kernel: NotRequired[str | None]
    # seconds a cell may run, as typed: a number above 0 and at most 10,000,000; null or blank: no
    # limit
    timeout: NotRequired[str | None]
    # the executor's name as chosen; null or blank: the project's (`[tool.nbops.run] executor`)
    executor: NotRequired[str | None]
    # the Dask scheduler's address as typed; null or blank: the project's (`[tool.nbops.run]
    # scheduler`) when the executor is dask, else none (a local cluster)
    scheduler: NotRequired[str | None]


class RunFormField(TypedDict):
    """The schema ``RunFormField``."""

    # the one value (as JSON; a value JSON cannot hold as its text); for a field left at its
    # default, the default as `Parameter.default` gives it; null with an error, or when the field
    # holds several values
    value: Any
    # in a sweep, the field's values (one or more); null in a run, with an error, or for a field
    # left at its default
    values: list[Any] | None
    # the text differs from the default: the field is in `request`
    changed: bool


class RunFormCheck(TypedDict):
    """
    The form checked (`POST /nbops/runs/validate`): its errors by field, or the request it makes.
    """

    # no errors: `request` can be posted to /nbops/runs
    ok: bool
    # field -> message: a parameter's name, `parallel`, `timeout`, `kernel`, `executor`,
    # `scheduler`, or `""` for the form as a whole (a sweep with no field of two or more values;
    # once the fields are right, what refuses every run of the notebook: its project above the
    # server root, MLflow not installed). The messages are the CLI's: they name the parameter, its
    # declared type and an example (`parameter 'alpha' expects a number (float), not 'x' (for
    # example: -p alpha 0.5)`).
    errors: dict[str, str]
    # when ok, the exact body to POST to /nbops/runs (every parameter value a string read as `nbops
    # run -p` reads it; `grid` the split values of a sweep's axes, `parallel` only in a sweep;
    # `executor` and `scheduler` when the form gave them); null otherwise
    request: RunRequest | None
    # the runs the request starts: 1, or the product of the grid's lengths; 0 when not ok
    runs: int
    # parameter name -> what its text was read as (every parameter of the notebook, and every name
    # sent)
    fields: NotRequired[dict[str, RunFormField]]


# The one state vocabulary of the server's background jobs (runs, sweeps, scoring; the `nbops.jobs`
# service): `queued` (accepted, its process not started yet), `running`, then one of `finished` (it
# did its work), `failed` (it could not, or what it ran failed: `error` and the job's own fields say
# which), `cancelled` (stopped by `DELETE`, a time limit of the user's, or the server stopping).
JobState: TypeAlias = Literal["queued", "running", "finished", "failed", "cancelled"]


class JobRun(TypedDict):
    """One run of a job, as in `nbops run --format json`. NaN and infinite numbers are null."""

    # the MLflow run id (empty for a sweep's run that never started)
    run_id: str
    # FINISHED, FAILED or KILLED
    status: str
    # the values given to this run (not the defaults)
    parameters: dict[str, Any]
    metrics: dict[str, float | None]
    # the executed notebook, root-relative; null when there is none or it lies outside the root
    output: str | None
    duration_s: float | None
    # the 1-based cell that raised
    failed_cell: int | None
    # the cell's error (`Name: message`), or why the run could not execute
    error: str | None


class Job(TypedDict):
    """
    A `nbops run` process this server started (`state`: see `JobState`): `finished` when every run
    FINISHED; `failed` when a run FAILED (`error` null: see `runs`) or when the process could not do
    its work (`error` has its message); `cancelled` when stopped by DELETE, an interruption or the
    server stopping (the runs it finished are kept in `runs`). `done`, `failed`, `running` and
    `total` count runs as they start and end; `runs` and `parent_run_id` (a sweep's MLflow parent
    run) are known when the process ends. Times are ISO 8601 (UTC). `executor` and `scheduler`:
    where its runs execute.
    """

    id: str
    # the notebook's root-relative path
    path: str
    # `pipeline`: a run of the generated module (`nbops run --pipeline`)
    kind: Literal["run", "sweep", "pipeline"]
    state: JobState
    total: int
    done: int
    failed: int
    running: int
    started: str
    ended: str | None
    parent_run_id: str | None
    runs: list[JobRun]
    error: str | None
    # the executor its runs execute on: `local`, `dask`, or a plugin's name
    executor: str
    # with `dask`, the scheduler's address; null: a local cluster (or not dask)
    scheduler: str | None


class RunRecord(TypedDict):
    """
    A tracked run, newest first (`nbops runs --format json`). NaN and infinite numbers are null.
    """

    run_id: str
    name: str
    # RUNNING, FINISHED, FAILED or KILLED
    status: str
    # ISO 8601 with its UTC offset: when the run began (for `nbops run`: when its kernel started)
    start_time: str | None
    # ISO 8601 with its UTC offset; null while the run has not ended
    end_time: str | None
    # end_time - start_time in seconds; null while the run has not ended
    duration_s: float | None
    params: dict[str, str]
    metrics: dict[str, float | None]
    # the run's tags; paths in them root-relative (others reduced to their last name)
    tags: dict[str, str]
    # root-relative when the artifacts are under the root (file URIs become paths)
    artifact_uri: str
    parent_run_id: str | None
    experiment_id: str
    # the executed notebook (tag `nbops.output`), root-relative; null when unknown or outside the
    # root
    output: str | None
    # `GET /nbops/runs` only: the executor the run executed on (tag `nbops.executor`; without the
    # tag: `local`)
    executor: NotRequired[str]
    # `GET /nbops/runs` only: with `dask`, the scheduler's address (tag `nbops.scheduler`); null: a
    # local cluster, or not dask
    scheduler: NotRequired[str | None]


class RunHistoryTracking(TypedDict):
    """The schema ``RunHistoryTracking``."""

    # the tracking URI, any user:password replaced by ***; a store under the root root-relative
    # (`sqlite:///.nbops/mlflow.db`)
    uri: str
    # the command that opens the MLflow UI on it (nbops ui)
    ui_command: str
    # MLflow is installed (as in TrackingStatus); false: `runs` is empty
    available: bool
    # why runs cannot be tracked; null when they can
    message: str | None
    # what to do (pip install 'nbops[run]'); null when runs can be tracked
    hint: str | None


class RunHistory(TypedDict):
    """The schema ``RunHistory``."""

    jobs: list[Job]
    runs: list[RunRecord]
    tracking: RunHistoryTracking


class CheckRequest(TypedDict):
    """The schema ``CheckRequest``."""

    # the notebook's path relative to the server root, ending in .ipynb
    path: str
    content: NotRequired[Notebook]


CheckResultCategory: TypeAlias = Literal[
    "documentation",
    "quality",
    "safety",
    "reproducibility",
]


class CheckResult(TypedDict):
    """
    One line of the checklist. `status` is `pass`, `fail` or `skip` (cannot apply: never blocks); a
    failing `optional` check does not block (shown as a warning). `cell` is 1-based and `cell_index`
    0-based: where to look. `fix_code` is a lint code whose fix repairs it (`POST /nbops/fix` with
    `select: [fix_code]`; only safe fixes are applied unless `unsafe`).
    """

    # title, summary, sections, parameters-documented, lint, formatted, secrets, absolute-paths,
    # outputs, parameters-cell, dependencies, library, tracked-run
    id: str
    category: CheckResultCategory
    title: str
    level: Literal["required", "optional"]
    status: Literal["pass", "fail", "skip"]
    # fails and is required
    blocking: bool
    message: str
    # how to fix it (may be empty)
    fix: str
    cell: int | None
    cell_index: int | None
    fix_code: str | None
    details: list[str]


class Policy(TypedDict):
    """The `[tool.nbops.submit]` policy in force (docs/review.md)."""

    # check id -> required | optional | off
    checks: dict[str, Literal["required", "optional", "off"]]
    sections: list[str]
    fail_on: Severity
    summary_min_words: int
    strip_outputs: bool
    max_output_bytes: int
    # the branch pull requests target
    base: str
    remote: str
    # requested when the request names none
    reviewers: list[str]
    forge: str | None
    model: str | None


# The schema ``GateReportSummary``.
GateReportSummary = TypedDict(
    "GateReportSummary",
    {
        "pass": "int",
        "fail": "int",
        "skip": "int",
        "blocking": "int",
    },
)


class GateReport(TypedDict):
    """The review gate's verdict (`nbops check --format json` of one notebook)."""

    notebook: str
    # no required check fails
    passed: bool
    summary: GateReportSummary
    checks: list[CheckResult]
    policy: Policy


class SubmitRequest(TypedDict):
    """The schema ``SubmitRequest``."""

    # the notebook's path relative to the server root, ending in .ipynb; the saved file is submitted
    path: str
    # the pull request's title; default `Review: <the notebook's H1 title>`
    title: NotRequired[str | None]
    # a note to reviewers, at the top of the review report
    message: NotRequired[str | None]
    # user names (`alice`, `@alice`) or teams (`org/team`); none: the policy's `reviewers`
    reviewers: NotRequired[list[str] | None]
    # the branch the pull request targets; default the policy's (main)
    base: NotRequired[str | None]
    # the git remote pushed to; default the policy's (origin)
    remote: NotRequired[str | None]
    # build the submission only; no branch, no push, no pull request
    dry_run: NotRequired[bool]


class PullRequestRef(TypedDict):
    """The schema ``PullRequestRef``."""

    number: int
    # the pull (merge) request's page
    url: str
    # open, closed, merged
    state: str
    # opened by this submit (false: an open one was updated)
    created: bool


class SubmitResult(TypedDict):
    """
    What `nbops submit --format json` prints, without `submitted`. Paths are repository-relative.
    """

    notebook: str
    # review/<notebook>-<7 hex>
    branch: str
    base: str
    # the remote's name
    remote: str
    # the review branch's commit
    commit: str | None
    # a new commit was made (false: the branch already had exactly this)
    committed: bool
    # the base had moved since the last submit and was merged into the branch first
    merged_base: bool
    pushed: bool
    dry_run: bool
    files: list[str]
    # the review report on the branch (reviews/<notebook>.md)
    report: str
    # github, gitlab; null: the remote is no known forge
    forge: str | None
    pull_request: PullRequestRef | None
    # where to open the pull request by hand (a forge, no token)
    compare_url: str | None
    warnings: list[str]
    gate: GateReport


SubmitErrorField: TypeAlias = Literal[
    "title",
    "message",
    "reviewers",
    "base",
    "remote",
    "author",
    "branch",
    "commit_message",
    "report",
    "file",
]


class SubmitError(TypedDict):
    """The `Error` object, plus what a submit's failure has to say."""

    error: str
    message: str
    path: str | None
    cell: int | None
    hint: str | None
    status: int
    gate: NotRequired[GateReport]
    # the text that holds a secret (`SecretInSubmission`)
    field: NotRequired[SubmitErrorField]
    # why git push (or fetch) failed
    reason: NotRequired[Literal["rejected", "declined", "auth", "network", "other"]]
    # the forge's host
    host: NotRequired[str | None]
    # seconds to wait (rate limit)
    retry_after: NotRequired[float | None]


class HackathonExercise(TypedDict):
    """The exercise (`hackathon.toml`, docs/hackathon.md)."""

    name: str
    # ISO 8601; null when there is none
    deadline: str | None
    # the exercise folder, root-relative (`.`: the server root)
    root: str
    # the teams of `[teams.<name>]`
    teams: list[str]
    # the starting notebooks, relative to the exercise folder
    notebooks: list[str]
    # seconds to score one team (a scoring job may take 120 s more)
    timeout: float


ScoreComponentId: TypeAlias = Literal[
    "lint",
    "documentation",
    "library",
    "pipeline",
    "tests",
    "verify",
    "tracked_run",
]


class ScoreComponent(TypedDict):
    """
    One component of a scorecard: `score` 0 to 1 earns `points` = score x weight x 100 / sum of
    weights. `status` `failed`: it could not be measured (`reason` says why).
    """

    id: ScoreComponentId
    title: str
    weight: float
    score: float | None
    points: float
    status: Literal["ok", "failed", "skipped"]
    # how the score was measured (may be empty when it failed)
    explanation: str
    # why it failed
    reason: str | None
    # true: reused from the exercise's scoring cache, the content it reads unchanged since it was
    # scored (absent in older scorecards)
    cached: NotRequired[bool]


class ScorecardSource(TypedDict):
    """The schema ``ScorecardSource``."""

    # folder, branch or missing
    kind: str
    ref: str | None
    commit: str | None


class Scorecard(TypedDict):
    """
    A team's scorecard, as `nbops hackathon status --format json`, with the server root taken out of
    every text.
    """

    team: str
    source: ScorecardSource
    # the last commit of the work (ISO 8601)
    submitted_at: str | None
    # out of `max_total`
    total: float
    max_total: float
    # every `[required] checks` passes
    required_passed: bool
    components: list[ScoreComponent]
    # what could not be scored, required checks that fail
    errors: list[str]
    # what would raise the total most (`<what>: up to +N points`)
    suggestion: str | None
    # ISO 8601 (UTC)
    scored_at: str


class ScoreProgress(TypedDict):
    """The schema ``ScoreProgress``."""

    done: int
    total: int
    current: str | None


class HackathonJob(TypedDict):
    """
    A scoring process this server started (`state`: see `JobState`): `finished` (`card` is the
    scorecard); `failed` (it could not score, or ran over `limit_s` and was stopped: `error` says
    which in plain words); `cancelled` (stopped with `DELETE`, or the server stopped meanwhile:
    `error` says which). A `finished` job may still have an `error`: a note (the card could not be
    saved). Times are ISO 8601 (UTC).
    """

    id: str
    # the notebook it was asked from, root-relative
    path: str
    # the exercise folder, root-relative
    exercise: str
    team: str
    state: JobState
    started: str
    ended: str | None
    # the time limit in seconds (the exercise's timeout + 120)
    limit_s: float
    card: Scorecard | None
    error: str | None
    # The components scored so far (`done` of `total`: seven per team) and what is under way
    # (`current`: the component started last, with how many others run at once: `alpha: Tests
    # passing (+1 more)`); null until the scorer reports.
    progress: NotRequired[ScoreProgress | None]


class HackathonInfo(TypedDict):
    """The schema ``HackathonInfo``."""

    exercise: HackathonExercise | None
    # the team whose `folder` (hackathon.toml) holds the notebook, else the one of the checkout's
    # `team/<name>` branch; null: neither
    team: str | None
    # the checkout's current branch
    branch: str | None
    card: Scorecard | None
    job: HackathonJob | None


class ScoreRequest(TypedDict):
    """The schema ``ScoreRequest``."""

    # a notebook of the exercise checkout, relative to the server root, ending in .ipynb
    path: str
    # the team to score the checkout as; default: the one of its `team/<name>` branch
    team: NotRequired[str | None]


class HealthListTracking(TypedDict):
    """The schema ``HealthListTracking``."""

    # the tracking URI, any user:password replaced by ***; a store under the root root-relative
    uri: str
    # MLflow is installed (as in TrackingStatus); false: `models` is empty
    available: bool
    message: str | None
    hint: str | None


class HealthTrigger(TypedDict):
    """
    One metric's thresholds: it fires `direction` them (above: PSI, errors; below: p-values,
    scores).
    """

    # `psi`, `ks-pvalue`, `accuracy`, ... (docs/monitor.md)
    metric: str
    direction: Literal["above", "below"]
    warn: float | None
    alert: float | None
    # what the metric is
    description: str


class HealthConfigError(TypedDict):
    """The schema ``HealthConfigError``."""

    message: str
    hint: str | None
    # the file, root-relative (`proj/pyproject.toml`)
    path: str | None


class HealthCheckDriftedItem(TypedDict):
    """The schema ``HealthCheckDriftedItem``."""

    name: str
    psi: float | None


class HealthMetrics(TypedDict):
    """The check's metrics to plot over time (null: not measured, e.g. no labels)."""

    # the largest PSI of any feature
    max_psi: float | None
    # PSI of the predictions
    prediction_psi: float | None
    rows: float | None
    # the share of rows failing the signature
    invalid_rows: float | None
    accuracy: float | None
    f1: float | None
    rmse: float | None
    mae: float | None


class HealthCheck(TypedDict):
    """One `nbops monitor` check: a run of the experiment `nbops-health/<model>`."""

    # the check's run (its reports: `GET /nbops/health/{model}/checks/{run_id}/report`)
    run_id: str
    # when it started, ISO 8601 UTC
    time: str | None
    # the model version checked
    version: int | None
    # the verdict (null: the run has none, e.g. it failed)
    status: Literal["OK", "WARN", "ALERT"] | None
    # the triggers that fired, worst first (`ALERT: psi of 'alcohol' 3.1 > alert 0.2`)
    reasons: list[str]
    # the features a trigger fired on, in the verdict's order
    drifted: list[HealthCheckDriftedItem]
    # each compared feature's PSI
    psi: dict[str, float]
    metrics: HealthMetrics
    # the data checked, as `nbops monitor --current` named it
    current: str | None


class HealthModel(TypedDict):
    """The schema ``HealthModel``."""

    name: str
    # the version the `champion` alias points to (null: none, or not registered)
    champion: int | None
    # newest first (at most 100)
    checks: list[HealthCheck]
    # there are more than 100 checks
    truncated: bool


class HealthList(TypedDict):
    """
    `GET /nbops/health`: the health checks of the project's models (at most 20, by name) and its
    triggers.
    """

    # the project folder, root-relative (`.`: the root)
    project: str
    tracking: HealthListTracking
    # `[tool.nbops.health]` over the defaults, as `nbops monitor` applies them (empty when
    # `triggers_error`)
    triggers: list[HealthTrigger]
    # why `[tool.nbops.health]` (or the project's pyproject.toml) cannot be read: what `nbops
    # monitor` would say; null: it can
    triggers_error: HealthConfigError | None
    models: list[HealthModel]
    # there are more than 20 models with checks
    truncated: bool


class ModelListTracking(TypedDict):
    """The schema ``ModelListTracking``."""

    # the tracking URI, any user:password replaced by ***; a store under the root root-relative
    uri: str
    # MLflow is installed (as in TrackingStatus); false: `models` is empty
    available: bool
    message: str | None
    hint: str | None


class PromoteThresholds(TypedDict):
    """
    `[tool.nbops.promote]` of the project (null fields: not declared; `metric` null: no thresholds,
    champion never moves).
    """

    metric: str | None
    greater_is_better: bool
    min_value: float | None
    min_absolute_change: float | None
    min_relative_change: float | None


class ModelArtifact(TypedDict):
    """The schema ``ModelArtifact``."""

    # the path in the run (the `file` of the download)
    path: str
    # notebook: the executed notebook; report: its HTML render; logs: files under logs/; release:
    # the model card and gate report; verdict: promotion/verdict.json
    kind: Literal["notebook", "report", "logs", "release", "verdict"]
    # bytes
    size: int | None


class ModelVersion(TypedDict):
    """The schema ``ModelVersion``."""

    version: int
    # the run that logged it (null: none, or the run is gone)
    run_id: str | None
    # ISO 8601 with its UTC offset
    created: str | None
    aliases: list[str]
    # FINISHED, FAILED, ... of the run
    run_status: str | None
    # the run's metrics (latest values); NaN and infinities are null
    metrics: dict[str, float | None]
    # tag `nbops.git.commit` (the released commit)
    commit: str | None
    # tag `nbops.release.pr` (empty: none)
    pr: str | None
    # tag `nbops.release.branch`
    branch: str | None
    # tag `nbops.gate`: PASS or FAIL
    gate: str | None
    # tag `nbops.verdict`: PASS or HOLD (null: never judged)
    verdict: str | None
    # tag `nbops.verdict.summary`
    verdict_summary: str | None
    # what can be downloaded (at most 20 files)
    artifacts: list[ModelArtifact]


class VerdictJudgementsItem(TypedDict):
    """The schema ``VerdictJudgementsItem``."""

    # min-value, min-absolute-change, min-relative-change, champion or metric
    threshold: str
    ok: bool
    text: str


class Verdict(TypedDict):
    """A challenger judged against the champion by `[tool.nbops.promote]` (docs/deploy.md)."""

    status: Literal["PASS", "HOLD"]
    metric: str | None
    # the challenger's metric
    value: float | None
    # the champion's metric
    champion: float | None
    has_champion: bool
    judgements: list[VerdictJudgementsItem]
    # one line: `PASS: accuracy 0.93 >= min-value 0.85: ok; ...`
    summary: str


class Comparison(TypedDict):
    """The schema ``Comparison``."""

    version: int
    run_id: str
    verdict: Verdict
    champion_before: int | None
    champion_after: int | None
    moved: bool
    # ISO 8601: when it was judged
    time: str | None


class RegisteredModel(TypedDict):
    """The schema ``RegisteredModel``."""

    name: str
    # the version the `champion` alias points to
    champion: int | None
    # the version the `challenger` alias points to
    challenger: int | None
    aliases: dict[str, int]
    # newest first, at most 50
    versions: list[ModelVersion]
    # the model has more than 50 versions
    truncated: bool
    # the last comparison: `promotion/verdict.json` of the newest version with a verdict; null when
    # none was judged
    comparison: Comparison | None


class ModelList(TypedDict):
    """`GET /nbops/models`: the project's registered models (at most 50, by name)."""

    # the project folder, root-relative (`.`: the root)
    project: str
    tracking: ModelListTracking
    thresholds: PromoteThresholds
    models: list[RegisteredModel]
    # there are more than 50 models
    truncated: bool


class PromoteRequest(TypedDict):
    """The schema ``PromoteRequest``."""

    # the version to judge (the challenger)
    version: int
    # judge only: nothing is written or moved
    dry_run: NotRequired[bool]
    # a folder or notebook of the project, as for `GET /nbops/models`
    path: NotRequired[str]


class Promotion(TypedDict):
    """
    `POST /nbops/models/{name}/promote`: what `nbops promote NAME@VERSION --format json` prints.
    """

    model: str
    version: int
    run_id: str
    verdict: Verdict
    champion_before: int | None
    champion_after: int | None
    moved: bool
    dry_run: bool

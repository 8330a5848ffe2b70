/**
 * Types mirroring the JSON of the nbops REST API (`src/nbops/server/`).
 *
 * Keep these in step with the Python side: `nbops.lint.diagnostic` (Diagnostic,
 * Fix, Edit), `nbops.lint.rule` (Rule) and the server's error mapping.
 */
import type * as nbformat from '@jupyterlab/nbformat';

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
  parameters: string[];
  doc: string;
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
}

/** The user's settings (`schema/plugin.json`). */
export interface ISettings {
  lintOnOpen: boolean;
  lintOnSave: boolean;
  select: string[];
  ignore: string[];
  debounceMs: number;
}

export const DEFAULT_SETTINGS: ISettings = {
  lintOnOpen: true,
  lintOnSave: true,
  select: [],
  ignore: [],
  debounceMs: 500
};

/** Command ids. */
export namespace CommandIDs {
  export const lint = 'nbops:lint';
  export const fixAllSafe = 'nbops:fix-all-safe';
  export const openPanel = 'nbops:open-panel';
  export const submitForReview = 'nbops:submit-for-review';
  export const modularize = 'nbops:modularize';
}

export const PLUGIN_ID = '@nbops/labextension:plugin';
export const PANEL_ID = 'nbops-panel';

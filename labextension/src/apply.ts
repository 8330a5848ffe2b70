/**
 * Applying nbops fixes to an open notebook through its shared model.
 *
 * Every change happens in one transaction on the notebook's shared model, so it is one
 * step of the notebook's undo history (command mode `Z`), the user's unsaved edits in
 * other cells are kept, and nothing is read from or written to disk.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { INotebookModel } from '@jupyterlab/notebook';
import { JSONExt, type PartialJSONValue } from '@lumino/coreutils';

import type { IEdit } from './tokens';

type ISharedNotebook = INotebookModel['sharedModel'];
type ISharedCell = ISharedNotebook['cells'][number];
type ISharedCodeCell = Extract<ISharedCell, { cell_type: 'code' }>;

/** Python's `str.splitlines()` line boundaries. */
const LINE_BREAKS = new Set([
  '\n',
  '\r',
  '\x0b',
  '\x0c',
  '\x1c',
  '\x1d',
  '\x1e',
  '\x85',
  '\u2028',
  '\u2029'
]);

/**
 * Apply `replace_text` edits (1-based lines and columns, end exclusive) from the last to the
 * first, exactly as `nbops.lint.fix._apply_text` does. Columns count code points, as Python does.
 */
export function applyTextEdits(source: string, edits: readonly IEdit[]): string {
  const chars = Array.from(source);
  // starts[i] is the code-point offset of line i (0-based); starts[n] is the total length.
  const starts = [0];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (LINE_BREAKS.has(ch)) {
      if (ch === '\r' && chars[i + 1] === '\n') {
        i++;
      }
      starts.push(i + 1);
    }
  }
  if (starts[starts.length - 1] !== chars.length) {
    starts.push(chars.length);
  }
  const lineCount = starts.length - 1;
  const offset = (line: number, column: number): number => {
    if (line - 1 >= lineCount) {
      return chars.length;
    }
    return Math.min(starts[line - 1] + column - 1, starts[line]);
  };

  const ordered = [...edits].sort(
    (a, b) => (b.line ?? 0) - (a.line ?? 0) || (b.column ?? 0) - (a.column ?? 0)
  );
  let text = chars;
  for (const edit of ordered) {
    if (
      edit.line == null ||
      edit.column == null ||
      edit.end_line == null ||
      edit.end_column == null
    ) {
      continue;
    }
    const a = offset(edit.line, edit.column);
    const b = offset(edit.end_line, edit.end_column);
    text = [...text.slice(0, a), ...Array.from(edit.content ?? ''), ...text.slice(b)];
  }
  return text.join('');
}

/**
 * Run `change` as one transaction that is its own undo step: Yjs merges changes made within
 * 500 ms of each other into one undo item unless capturing is stopped on both sides.
 */
function undoableStep(nb: ISharedNotebook, change: () => void): void {
  const undo = (nb as unknown as { undoManager?: { stopCapturing?: () => void } }).undoManager;
  undo?.stopCapturing?.();
  try {
    nb.transact(change);
  } finally {
    undo?.stopCapturing?.();
  }
}

function isCodeCell(cell: ISharedCell): cell is ISharedCodeCell {
  return cell.cell_type === 'code';
}

function addTag(cell: ISharedCell, tag: string): void {
  const current = cell.getMetadata('tags');
  const tags = Array.isArray(current) ? (current as string[]).slice() : [];
  if (!tags.includes(tag)) {
    tags.push(tag);
    cell.setMetadata('tags', tags);
  }
}

function clearOutputs(cell: ISharedCell): void {
  if (isCodeCell(cell)) {
    if (cell.outputs.length > 0) {
      cell.setOutputs([]);
    }
    if (cell.execution_count !== null) {
      cell.execution_count = null;
    }
  }
}

/**
 * Apply one fix's edits to the open notebook, mirroring `nbops.lint.fix.apply_fix`.
 * Returns the number of edits that touched the notebook.
 */
export function applyEdits(model: INotebookModel, edits: readonly IEdit[]): number {
  const nb = model.sharedModel;
  let applied = 0;
  undoableStep(nb, () => {
    const textEdits = new Map<number, IEdit[]>();
    const deletes = new Set<number>();
    for (const edit of edits) {
      if (edit.cell_index < 0 || edit.cell_index >= nb.cells.length) {
        continue;
      }
      const cell = nb.cells[edit.cell_index];
      switch (edit.op) {
        case 'replace_source':
          cell.setSource(edit.content ?? '');
          break;
        case 'replace_text': {
          const list = textEdits.get(edit.cell_index) ?? [];
          list.push(edit);
          textEdits.set(edit.cell_index, list);
          break;
        }
        case 'add_tag':
          addTag(cell, edit.content ?? '');
          break;
        case 'clear_outputs':
          clearOutputs(cell);
          break;
        case 'delete_cell':
          deletes.add(edit.cell_index);
          break;
        default:
          continue;
      }
      applied++;
    }
    for (const [index, list] of textEdits) {
      const cell = nb.cells[index];
      const updated = applyTextEdits(cell.getSource(), list);
      if (updated !== cell.getSource()) {
        cell.setSource(updated);
      }
    }
    for (const index of [...deletes].sort((a, b) => b - a)) {
      nb.deleteCell(index);
    }
  });
  return applied;
}

function joinMultiline(value: nbformat.MultilineString | undefined): string {
  if (value === undefined) {
    return '';
  }
  return Array.isArray(value) ? value.join('') : value;
}

function toSharedCell(cell: nbformat.ICell): nbformat.ICell {
  return { ...cell, source: joinMultiline(cell.source) } as nbformat.ICell;
}

function unique(values: readonly string[]): boolean {
  return new Set(values).size === values.length;
}

/** Bring one existing cell in line with its fixed JSON. */
function updateCell(cell: ISharedCell, next: nbformat.ICell): void {
  const source = joinMultiline(next.source);
  if (cell.getSource() !== source) {
    cell.setSource(source);
  }
  const metadata = (next.metadata ?? {}) as PartialJSONValue;
  if (!JSONExt.deepEqual(cell.getMetadata() as PartialJSONValue, metadata)) {
    cell.setMetadata(JSONExt.deepCopy(metadata) as nbformat.ICellMetadata);
  }
  if (isCodeCell(cell) && next.cell_type === 'code') {
    const code = next as nbformat.ICodeCell;
    // nbops's fixes only ever clear outputs; leave outputs alone otherwise so that
    // a harmless difference of serialisation does not replace them.
    if ((code.outputs ?? []).length === 0 && cell.outputs.length > 0) {
      cell.setOutputs([]);
    }
    if (code.execution_count === null && cell.execution_count !== null) {
      cell.execution_count = null;
    }
  }
}

/**
 * Make the open notebook equal to `content` (a fixed copy of it from `POST nbops/fix`),
 * touching only what differs. Cells are matched by id when both sides have unique ids,
 * else by position; anything that cannot be matched is replaced, still in one transaction.
 *
 * Inside a transaction `sharedModel.cells` is only refreshed when the transaction ends, so
 * the cell list is mirrored locally here and every index comes from that mirror.
 */
export function applyNotebookContent(
  model: INotebookModel,
  content: nbformat.INotebookContent
): void {
  const nb = model.sharedModel;
  const next = content.cells ?? [];
  undoableStep(nb, () => {
    const cells: ISharedCell[] = nb.cells.slice();
    const remove = (index: number) => {
      nb.deleteCell(index);
      cells.splice(index, 1);
    };
    const insert = (index: number, cell: nbformat.ICell) => {
      cells.splice(index, 0, nb.insertCell(index, toSharedCell(cell)));
    };
    const replaceAll = () => {
      nb.deleteCellRange(0, cells.length);
      cells.splice(0, cells.length, ...nb.insertCells(0, next.map(toSharedCell)));
    };
    const updateAll = () => {
      for (let j = 0; j < next.length; j++) {
        if (cells[j].cell_type !== next[j].cell_type) {
          remove(j);
          insert(j, next[j]);
        } else {
          updateCell(cells[j], next[j]);
        }
      }
    };

    const nextIds = next.map(c => (typeof c.id === 'string' ? c.id : ''));
    const oldIds = cells.map(c => c.id ?? '');
    const byId = nextIds.every(id => id !== '') && unique(nextIds) && unique(oldIds);

    if (byId) {
      const keep = new Set(nextIds);
      for (let i = cells.length - 1; i >= 0; i--) {
        if (!keep.has(cells[i].id)) {
          remove(i);
        }
      }
      let ordered = true;
      for (let j = 0; j < next.length; j++) {
        if (cells[j] !== undefined && cells[j].id === nextIds[j]) {
          continue;
        }
        if (cells.some(c => c.id === nextIds[j])) {
          ordered = false; // a move: nbops never does this; replace rather than guess
          break;
        }
        insert(j, next[j]);
      }
      if (!ordered || cells.length !== next.length) {
        replaceAll();
      } else {
        updateAll();
      }
    } else if (cells.length === next.length) {
      updateAll();
    } else {
      replaceAll();
    }

    const metadata = (content.metadata ?? {}) as PartialJSONValue;
    if (!JSONExt.deepEqual(nb.getMetadata() as PartialJSONValue, metadata)) {
      nb.setMetadata(JSONExt.deepCopy(metadata) as nbformat.INotebookMetadata);
    }
  });
}

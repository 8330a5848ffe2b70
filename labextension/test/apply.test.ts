/** Applying fixes to an open notebook: text edits as Python applies them, cell edits, content. */
import type * as nbformat from '@jupyterlab/nbformat';
import { NotebookModel } from '@jupyterlab/notebook';
import { describe, expect, test } from 'vitest';

import { applyEdits, applyNotebookContent, applyTextEdits } from '../src/apply';
import type { IEdit } from '../src/tokens';

function span(line: number, column: number, endLine: number, endColumn: number, content: string) {
  return {
    op: 'replace_text',
    cell_index: 0,
    content,
    line,
    column,
    end_line: endLine,
    end_column: endColumn
  } satisfies IEdit;
}

function notebook(cells: Partial<nbformat.ICell>[]): NotebookModel {
  const model = new NotebookModel();
  model.sharedModel.insertCells(
    0,
    cells.map(c => ({ cell_type: 'code', source: '', ...c }) as nbformat.ICell)
  );
  return model;
}

function sources(model: NotebookModel): string[] {
  return model.sharedModel.cells.map(c => c.getSource());
}

describe('applyTextEdits', () => {
  test('applies edits from the last to the first, so earlier positions stay valid', () => {
    const source = 'import os, sys\nx = 1\n';
    const edits = [span(1, 8, 1, 12, ''), span(2, 5, 2, 6, '2')];
    expect(applyTextEdits(source, edits)).toBe('import sys\nx = 2\n');
  });

  test('counts columns in code points, as Python does', () => {
    // the emoji is one code point but two UTF-16 units: `x` is column 10, not 11
    expect(applyTextEdits('s = "😀"; x=1', [span(1, 10, 1, 13, 'x = 1')])).toBe('s = "😀"; x = 1');
  });

  test('splits lines as str.splitlines() does (\\r\\n is one break, \\x0c one)', () => {
    expect(applyTextEdits('a\r\nb\x0cc', [span(3, 1, 3, 2, 'C')])).toBe('a\r\nb\x0cC');
    expect(applyTextEdits('a\r\nb', [span(2, 1, 2, 2, 'B')])).toBe('a\r\nB');
  });

  test('an edit past the end appends; one without a position is skipped', () => {
    expect(applyTextEdits('a\n', [span(5, 1, 5, 1, 'b')])).toBe('a\nb');
    const noPosition = { op: 'replace_text', cell_index: 0, content: 'zzz' } satisfies IEdit;
    expect(applyTextEdits('abc', [noPosition])).toBe('abc');
  });
});

describe('applyEdits', () => {
  test('applies every kind of edit and counts the ones that touched the notebook', () => {
    const model = notebook([
      {
        source: 'x=1',
        execution_count: 3,
        outputs: [{ output_type: 'stream', name: 'stdout', text: '1' }]
      },
      { source: 'y = 2' },
      { source: 'del me' },
      { source: 'and me' }
    ]);
    const applied = applyEdits(model, [
      { op: 'replace_source', cell_index: 0, content: 'x = 1' },
      { op: 'clear_outputs', cell_index: 0 },
      { op: 'add_tag', cell_index: 1, content: 'parameters' },
      { op: 'add_tag', cell_index: 1, content: 'parameters' },
      { op: 'delete_cell', cell_index: 2 },
      { op: 'delete_cell', cell_index: 3 },
      { op: 'replace_source', cell_index: 9, content: 'out of range' }
    ]);
    expect(applied).toBe(6);
    expect(sources(model)).toEqual(['x = 1', 'y = 2']);
    const first = model.sharedModel.cells[0] as unknown as nbformat.ICodeCell & {
      outputs: unknown[];
    };
    expect(first.outputs).toEqual([]);
    expect(first.execution_count).toBeNull();
    expect(model.sharedModel.cells[1].getMetadata('tags')).toEqual(['parameters']);
  });

  test('text edits of one cell are applied together, against its original text', () => {
    const model = notebook([{ source: 'import os, sys\nx=1' }]);
    applyEdits(model, [span(2, 2, 2, 3, ' = '), span(1, 8, 1, 12, '')]);
    expect(sources(model)).toEqual(['import sys\nx = 1']);
  });

  test('the whole fix is one undo step; the edit typed before it stays', () => {
    const model = notebook([{ source: 'a' }, { source: 'b' }]);
    model.sharedModel.clearUndoHistory();
    model.sharedModel.cells[0].setSource('a1'); // Yjs would merge it with what follows
    applyEdits(model, [
      { op: 'replace_source', cell_index: 0, content: 'A' },
      { op: 'replace_source', cell_index: 1, content: 'B' }
    ]);
    expect(sources(model)).toEqual(['A', 'B']);
    model.sharedModel.undo();
    expect(sources(model)).toEqual(['a1', 'b']);
  });
});

describe('applyNotebookContent', () => {
  function content(cells: Partial<nbformat.ICell>[], metadata = {}): nbformat.INotebookContent {
    return {
      nbformat: 4,
      nbformat_minor: 5,
      metadata,
      cells: cells.map(
        c => ({ cell_type: 'code', source: '', metadata: {}, ...c }) as nbformat.ICell
      )
    };
  }

  test('matches cells by id: updates in place, removes what is gone', () => {
    const model = notebook([
      { id: 'c1', source: 'x=1' },
      { id: 'c2', source: 'print(x)' },
      { id: 'c3', source: 'y = 2' }
    ]);
    const kept = model.sharedModel.cells[2];
    applyNotebookContent(
      model,
      content([
        { id: 'c1', source: ['x', ' = 1'] },
        { id: 'c3', source: 'y = 2', metadata: { tags: ['parameters'] } }
      ])
    );
    expect(sources(model)).toEqual(['x = 1', 'y = 2']);
    expect(model.sharedModel.cells.map(c => c.id)).toEqual(['c1', 'c3']);
    expect(model.sharedModel.cells[1]).toBe(kept); // the same cell, not a copy
    expect(kept.getMetadata('tags')).toEqual(['parameters']);
  });

  test('inserts a new cell where the fixed copy has it', () => {
    const model = notebook([
      { id: 'c1', source: 'import os' },
      { id: 'c2', source: 'x = 1' }
    ]);
    applyNotebookContent(
      model,
      content([
        { id: 'c1', source: 'import os' },
        { id: 'new', source: 'alpha = 0.5', metadata: { tags: ['parameters'] } },
        { id: 'c2', source: 'x = 1' }
      ])
    );
    expect(sources(model)).toEqual(['import os', 'alpha = 0.5', 'x = 1']);
    expect(model.sharedModel.cells[1].getMetadata('tags')).toEqual(['parameters']);
  });

  test('without ids, cells match by position and a changed type replaces the cell', () => {
    const model = notebook([{ source: 'x=1' }, { source: '# Title' }]);
    applyNotebookContent(
      model,
      content(
        [
          { id: undefined, source: 'x = 1' },
          { id: undefined, cell_type: 'markdown', source: '# Title' }
        ],
        { kernelspec: { name: 'python3', display_name: 'Python 3' } }
      )
    );
    expect(sources(model)).toEqual(['x = 1', '# Title']);
    expect(model.sharedModel.cells[1].cell_type).toBe('markdown');
    expect(model.sharedModel.getMetadata().kernelspec?.name).toBe('python3');
  });
});

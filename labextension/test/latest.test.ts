/** Debounced checks where the latest answer wins (`src/latest.ts`, used by the Run form). */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

import { LatestCheck, type Outcome } from '../src/latest';
import { settle } from './server';

/** A check whose answers the test gives, in any order. */
class Answers {
  readonly asked: string[] = [];
  private _pending = new Map<
    string,
    { resolve: (a: string) => void; reject: (e: Error) => void }
  >();

  check = (query: string): Promise<string> => {
    this.asked.push(query);
    return new Promise((resolve, reject) => this._pending.set(query, { resolve, reject }));
  };

  answer(query: string): void {
    this._pending.get(query)!.resolve(`answer of ${query}`);
  }

  fail(query: string): void {
    this._pending.get(query)!.reject(new Error(`${query} failed`));
  }
}

function setup(): {
  answers: Answers;
  seen: Outcome<string, string>[];
  checker: LatestCheck<string, string>;
} {
  const answers = new Answers();
  const seen: Outcome<string, string>[] = [];
  const checker = new LatestCheck<string, string>({
    check: answers.check,
    onOutcome: outcome => seen.push(outcome),
    delay: 250
  });
  return { answers, seen, checker };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('LatestCheck', () => {
  test('asks once the typing pauses, with the last text only', async () => {
    const { answers, seen, checker } = setup();
    checker.schedule('1');
    vi.advanceTimersByTime(100);
    checker.schedule('12');
    vi.advanceTimersByTime(249);
    expect(answers.asked).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(answers.asked).toEqual(['12']);
    expect(checker.pending).toBe(true);
    answers.answer('12');
    await settle();
    expect(seen).toEqual([{ query: '12', answer: 'answer of 12', error: null }]);
    expect(checker.pending).toBe(false);
    expect(checker.outcome?.answer).toBe('answer of 12');
  });

  test('a delay of 0 asks at once', () => {
    const { answers, checker } = setup();
    checker.schedule('a', 0);
    expect(answers.asked).toEqual(['a']);
  });

  test("an older request's late answer is ignored: the latest wins", async () => {
    const { answers, seen, checker } = setup();
    checker.schedule('old', 0);
    checker.schedule('new', 0);
    answers.answer('new');
    await settle();
    answers.answer('old'); // arrives last
    await settle();
    expect(seen.map(o => o.query)).toEqual(['new']);
    expect(checker.outcome?.answer).toBe('answer of new');
  });

  test('a late failure of an older request is ignored too; the latest failure is reported', async () => {
    const { answers, seen, checker } = setup();
    checker.schedule('old', 0);
    checker.schedule('new', 0);
    answers.fail('old');
    await settle();
    expect(seen).toEqual([]);
    answers.fail('new');
    await settle();
    expect(seen).toHaveLength(1);
    expect(seen[0].answer).toBeNull();
    expect(String(seen[0].error)).toContain('new failed');
  });

  test('flush asks now for a query waiting for its delay and resolves with its outcome', async () => {
    const { answers, checker } = setup();
    checker.schedule('a', 0);
    answers.answer('a');
    await settle();
    checker.schedule('ab'); // typed, delay not over
    const flushed = checker.flush();
    expect(answers.asked).toEqual(['a', 'ab']);
    answers.answer('ab');
    expect((await flushed)?.answer).toBe('answer of ab');
    vi.advanceTimersByTime(1000);
    expect(answers.asked).toEqual(['a', 'ab']); // not asked twice
  });

  test('flush never resolves with an older answer when a newer query comes in meanwhile', async () => {
    const { answers, checker } = setup();
    checker.schedule('a', 0);
    const flushed = checker.flush();
    checker.schedule('ab'); // typed while the check of 'a' is on its way
    answers.answer('a');
    await settle();
    expect(answers.asked).toEqual(['a', 'ab']); // flush asked for 'ab' at once
    answers.answer('ab');
    expect((await flushed)?.query).toBe('ab');
  });

  test('after dispose nothing is asked and answers on their way are dropped', async () => {
    const { answers, seen, checker } = setup();
    checker.schedule('a', 0);
    checker.schedule('b');
    checker.dispose();
    vi.advanceTimersByTime(1000);
    answers.answer('a');
    await settle();
    expect(answers.asked).toEqual(['a']);
    expect(seen).toEqual([]);
    expect(await checker.flush()).toBeNull();
  });
});

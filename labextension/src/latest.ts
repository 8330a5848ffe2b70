/**
 * Ask the server about what the user types: debounced, and the latest answer wins.
 *
 * `schedule(query)` asks after a pause in typing (`delay` ms; 0: at once) and drops a query
 * scheduled before it that was not asked yet. An answer (or failure) reaches `onOutcome` only
 * when it is the answer of the latest query: the answer of an older request that arrives late
 * is ignored. `flush()` asks at once when the latest query is still waiting for its delay and
 * resolves with its outcome (a form's submit button: never act on an older answer). No DOM.
 */

/** The answer to a query, or why there is none. */
export type Outcome<Q, A> =
  { query: Q; answer: A; error: null } | { query: Q; answer: null; error: unknown };

export interface ILatestCheckOptions<Q, A> {
  /** Ask the server. */
  check: (query: Q) => Promise<A>;
  /** The outcome of the latest query. */
  onOutcome: (outcome: Outcome<Q, A>) => void;
  /** The pause in typing before asking (ms). */
  delay: number;
}

export class LatestCheck<Q, A> {
  constructor(options: ILatestCheckOptions<Q, A>) {
    this._options = options;
  }

  /** The outcome of the latest query, once it is in (null while it is waiting or asked). */
  get outcome(): Outcome<Q, A> | null {
    return this._outcome;
  }

  /** The latest query's answer is not in yet. */
  get pending(): boolean {
    return this._query !== null && this._outcome === null;
  }

  /** Ask about `query` after `delay` ms (the options' by default), instead of any query before. */
  schedule(query: Q, delay: number = this._options.delay): void {
    if (this._disposed) {
      return;
    }
    this._seq += 1;
    this._query = query;
    this._outcome = null;
    this._inflight = null;
    this._clearTimer();
    if (delay <= 0) {
      this._send();
    } else {
      this._timer = setTimeout(() => this._send(), delay);
    }
  }

  /** The latest query's outcome: asked now if it is waiting for its delay. */
  async flush(): Promise<Outcome<Q, A> | null> {
    for (;;) {
      if (this._disposed || this._query === null) {
        return null;
      }
      if (this._outcome) {
        return this._outcome;
      }
      if (this._timer !== null) {
        this._clearTimer();
        this._send();
      }
      await this._inflight;
    }
  }

  /** Ask nothing more; answers still on their way are ignored. */
  dispose(): void {
    this._disposed = true;
    this._seq += 1;
    this._clearTimer();
  }

  private _send(): void {
    this._timer = null;
    const seq = this._seq;
    const query = this._query as Q;
    this._inflight = this._options.check(query).then(
      answer => this._arrived(seq, { query, answer, error: null }),
      (error: unknown) => this._arrived(seq, { query, answer: null, error })
    );
  }

  private _arrived(seq: number, outcome: Outcome<Q, A>): void {
    if (seq !== this._seq || this._disposed) {
      return; // the answer of an older query
    }
    this._outcome = outcome;
    this._options.onOutcome(outcome);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _options: ILatestCheckOptions<Q, A>;
  private _seq = 0;
  private _query: Q | null = null;
  private _outcome: Outcome<Q, A> | null = null;
  private _inflight: Promise<void> | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _disposed = false;
}

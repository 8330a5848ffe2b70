/**
 * A fake nbops server at the API client's boundary: `fetch` is replaced, everything above it
 * (ServerConnection, api.ts, the models) is the real code. Each test answers the requests it
 * expects; an unexpected one fails the test with its method and path.
 */
import { vi } from 'vitest';

/** One request as the server saw it. */
export interface IRequestSeen {
  method: string;
  /** The path under `nbops/`, e.g. `runs/jobs/j1`. */
  endpoint: string;
  query: URLSearchParams;
  body: unknown;
}

/** An answer: JSON with a status, a raw text body, or a network failure. */
export type Answer =
  | { status?: number; json: unknown }
  | { status: number; text: string; contentType?: string }
  | { networkError: string };

export type Handler = (request: IRequestSeen) => Answer | Promise<Answer> | undefined;

export class FakeServer {
  readonly seen: IRequestSeen[] = [];

  constructor(private handler: Handler) {
    vi.stubGlobal('fetch', (input: Request) => this._fetch(input));
  }

  /** Answer later requests with `handler` instead. */
  answer(handler: Handler): void {
    this.handler = handler;
  }

  /** The requests to `endpoint` (and `method`, when given). */
  calls(endpoint: string, method?: string): IRequestSeen[] {
    return this.seen.filter(r => r.endpoint === endpoint && (!method || r.method === method));
  }

  private async _fetch(input: Request): Promise<Response> {
    const url = new URL(input.url);
    const endpoint = url.pathname.replace(/^.*?\/nbops\//, '');
    const text = await input.text();
    const request: IRequestSeen = {
      method: input.method,
      endpoint,
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined
    };
    this.seen.push(request);
    const answer = await this.handler(request);
    if (answer === undefined) {
      throw new Error(`unexpected request: ${request.method} ${endpoint}${url.search}`);
    }
    if ('networkError' in answer) {
      throw new TypeError(answer.networkError);
    }
    if ('json' in answer) {
      return new Response(JSON.stringify(answer.json), {
        status: answer.status ?? 200,
        headers: { 'Content-Type': 'application/json' }
      });
    }
    return new Response(answer.text, {
      status: answer.status,
      headers: { 'Content-Type': answer.contentType ?? 'text/html' }
    });
  }
}

/** nbops's JSON error body. */
export function error(status: number, name: string, message: string, extra: object = {}): Answer {
  return {
    status,
    json: { error: name, message, path: null, cell: null, hint: null, status, ...extra }
  };
}

/** Let pending promise callbacks (the models' async steps) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await Promise.resolve();
  }
}

// A worker thread with a memory limit, called like a module: `call(method, input)` posts a
// request and resolves with the worker's answer. What the worker loads and allocates is its own:
// `end()` terminates it, and its heap and the libraries it imported are released with it. A
// worker that runs out of its limit (or dies) rejects what it was asked with `cycle-limit`; the
// process that called it goes on. Answers are plain data (structured clone): an error travels as
// a GitopsError's JSON and is a GitopsError again on this side.

import { Worker } from 'node:worker_threads';
import type { ResourceLimits } from 'node:worker_threads';
import { GitopsError, isErrorCode } from '../core/errors.js';

/** What a worker answers to a request. */
export type IsolateAnswer =
  | { id: number; value: unknown }
  | { id: number; error: { code: string; message: string; hint?: string; retryable?: boolean; diagnostics?: unknown } };

export interface IsolateOptions {
  /** The worker's module (a file URL). */
  entry: URL;
  resourceLimits: ResourceLimits;
  /** Data the worker reads as `workerData`. */
  workerData?: unknown;
  /** Where the worker's log lines go (it posts `{ log }`). */
  log?: (line: string) => void;
  /** Ends the worker after this long without a call (unset: it runs until end()). */
  idleMs?: number;
}

/** The worker-side answer to an error: a GitopsError keeps its code, anything else is `internal`. */
export function errorAnswer(id: number, e: unknown): IsolateAnswer {
  if (e instanceof GitopsError)
    return { id, error: { ...e.toJSON(), ...(e.retryable !== undefined ? { retryable: e.retryable } : {}) } };
  return { id, error: { code: 'internal', message: `internal error: ${(e as Error)?.message ?? String(e)}` } };
}

function fromAnswer(error: Extract<IsolateAnswer, { error: unknown }>['error']): GitopsError {
  return new GitopsError(isErrorCode(error.code) ? error.code : 'internal', error.message, error.hint, {
    ...(error.retryable !== undefined ? { retryable: error.retryable } : {}),
    ...(Array.isArray(error.diagnostics) ? { diagnostics: error.diagnostics } : {}),
  });
}

interface Running {
  worker: Worker;
  pending: Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>;
  /** Set by end() while answers are in flight: the worker is terminated once they are in. */
  endWhenIdle?: () => void;
}

export class Isolate {
  private current: Running | undefined;
  /** The worker being terminated: the next one starts after it is gone (they may share files). */
  private ending: Promise<void> = Promise.resolve();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Workers started so far (a measure of how often the cycle paid for a start). */
  started = 0;

  constructor(private readonly o: IsolateOptions) {}

  /** Whether a worker is running now. */
  get running(): boolean {
    return this.current !== undefined;
  }

  async call<T>(method: string, input: unknown): Promise<T> {
    clearTimeout(this.idleTimer);
    await this.ending;
    const run = this.current ?? this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      run.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      run.worker.postMessage({ id, method, input });
    });
  }

  private start(): Running {
    const worker = new Worker(this.o.entry, {
      resourceLimits: this.o.resourceLimits,
      workerData: this.o.workerData,
      stdout: false,
      stderr: false,
    });
    const run: Running = { worker, pending: new Map() };
    this.started++;
    this.current = run;
    const failAll = (e: GitopsError): void => {
      if (this.current === run) this.current = undefined;
      for (const p of run.pending.values()) p.reject(e);
      run.pending.clear();
      run.endWhenIdle?.();
    };
    worker.on('message', (a: IsolateAnswer | { log: string }) => {
      if ('log' in a) return this.o.log?.(a.log);
      const p = run.pending.get(a.id);
      if (!p) return;
      run.pending.delete(a.id);
      if ('error' in a) p.reject(fromAnswer(a.error));
      else p.resolve(a.value);
      if (run.pending.size === 0) {
        run.endWhenIdle?.();
        if (this.o.idleMs !== undefined && this.current === run) {
          clearTimeout(this.idleTimer);
          this.idleTimer = setTimeout(() => void this.end(), this.o.idleMs);
          this.idleTimer.unref();
        }
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const limits = this.o.resourceLimits;
      failAll(
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new GitopsError(
              'cycle-limit',
              `the cycle needed more memory than its worker may use (${limits.maxOldGenerationSizeMb ?? '?'} MB)`,
              'the agent keeps the running configuration; a candidate this large is refused',
              { retryable: false },
            )
          : new GitopsError('cycle-limit', `the cycle's worker failed: ${e.message}`, undefined, { retryable: true }),
      );
    });
    worker.on('exit', (code) => {
      failAll(
        new GitopsError('cycle-limit', `the cycle's worker stopped (exit ${code})`, undefined, { retryable: true }),
      );
    });
    return run;
  }

  /** Terminates the worker once the answers in flight are in; the next call starts another. */
  end(): Promise<void> {
    clearTimeout(this.idleTimer);
    const run = this.current;
    if (!run) return this.ending;
    this.current = undefined;
    const ended = new Promise<void>((done) => {
      run.endWhenIdle = () => {
        run.endWhenIdle = undefined;
        void run.worker.terminate().then(
          () => done(),
          () => done(),
        );
      };
      if (run.pending.size === 0) run.endWhenIdle();
    });
    this.ending = ended;
    return ended;
  }
}

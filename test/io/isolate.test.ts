// The cycle's isolate: a real worker thread with a real heap limit. An answer and a GitopsError
// cross as data, a worker that runs out of its limit is `cycle-limit` (not retried) while this
// process goes on, a worker that dies is `cycle-limit` (retried), and end() waits for the
// answers in flight before it terminates, so that the next call starts a fresh worker.

import { describe, expect, it } from 'vitest';
import { GitopsError } from '../../agent/core/errors.js';
import { Isolate } from '../../agent/io/isolate.js';

// a worker speaking the isolate's protocol, as a data: URL (no build step for a test worker)
const WORKER = `
import { parentPort, workerData, threadId } from 'node:worker_threads';
const keep = [];
parentPort.on('message', async ({ id, method, input }) => {
  if (method === 'echo') parentPort.postMessage({ id, value: { input, workerData, threadId } });
  if (method === 'refuse')
    parentPort.postMessage({ id, error: { code: 'invalid', message: 'not valid', retryable: false, diagnostics: [{ code: 'x' }] } });
  if (method === 'odd') parentPort.postMessage({ id, error: { code: 'no-such-code', message: 'odd' } });
  if (method === 'log') { parentPort.postMessage({ log: input }); parentPort.postMessage({ id, value: 'logged' }); }
  if (method === 'slow') setTimeout(() => parentPort.postMessage({ id, value: 'late' }), input);
  if (method === 'exit') process.exit(3);
  if (method === 'grow') for (;;) keep.push(new Array(1e5).fill({ a: keep.length }));
});
`;
const entry = new URL(`data:text/javascript,${encodeURIComponent(WORKER)}`);
const limits = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 };

const codeOf = async (p: Promise<unknown>): Promise<GitopsError> => {
  try {
    await p;
  } catch (e) {
    return e as GitopsError;
  }
  throw new Error('expected a rejection');
};

describe('Isolate', () => {
  it('answers with data, keeps one worker across calls and starts another after end()', async () => {
    const logged: string[] = [];
    const iso = new Isolate({
      entry,
      resourceLimits: limits,
      workerData: { device: 'd1' },
      log: (l) => logged.push(l),
    });
    const a = await iso.call<{ input: unknown; workerData: unknown; threadId: number }>('echo', {
      files: new Map([['a', 'b']]),
    });
    expect(a.input).toEqual({ files: new Map([['a', 'b']]) });
    expect(a.workerData).toEqual({ device: 'd1' });
    const b = await iso.call<{ threadId: number }>('echo', 1);
    expect(b.threadId).toBe(a.threadId);
    expect(await iso.call('log', 'a line')).toBe('logged');
    expect(logged).toEqual(['a line']);
    expect(iso.running).toBe(true);
    await iso.end();
    expect(iso.running).toBe(false);
    const c = await iso.call<{ threadId: number }>('echo', 2);
    expect(c.threadId).not.toBe(a.threadId);
    expect(iso.started).toBe(2);
    await iso.end();
    await iso.end(); // nothing running: resolves
  });

  it('a GitopsError crosses with its code, retryability and findings; an unknown code is internal', async () => {
    const iso = new Isolate({ entry, resourceLimits: limits });
    const e = await codeOf(iso.call('refuse', null));
    expect(e).toBeInstanceOf(GitopsError);
    expect(e.code).toBe('invalid');
    expect(e.retryable).toBe(false);
    expect(e.diagnostics).toEqual([{ code: 'x' }]);
    expect((await codeOf(iso.call('odd', null))).code).toBe('internal');
    await iso.end();
  });

  it('a worker that runs out of its heap limit is cycle-limit, not retried; this process goes on', async () => {
    const iso = new Isolate({ entry, resourceLimits: limits });
    const e = await codeOf(iso.call('grow', null));
    expect(e.code).toBe('cycle-limit');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('32 MB');
    expect(iso.running).toBe(false);
    // the next call gets a fresh worker
    expect(((await iso.call<{ input: number }>('echo', 5)) as { input: number }).input).toBe(5);
    await iso.end();
  });

  it('a worker that exits is cycle-limit and retried', async () => {
    const iso = new Isolate({ entry, resourceLimits: limits });
    const e = await codeOf(iso.call('exit', null));
    expect(e.code).toBe('cycle-limit');
    expect(e.retryable).toBe(true);
    expect(iso.running).toBe(false);
  });

  it('end() waits for the answers in flight, and a call after it waits for the old worker to go', async () => {
    const iso = new Isolate({ entry, resourceLimits: limits });
    const first = await iso.call<{ threadId: number }>('echo', 0);
    const late = iso.call('slow', 200);
    const ended = iso.end();
    const next = iso.call<{ threadId: number }>('echo', 1);
    expect(await late).toBe('late');
    await ended;
    expect((await next).threadId).not.toBe(first.threadId);
    await iso.end();
  });
});

// The tool runner's reading of a process result, over a process port that replays results, and
// firstLine over the real one.

import { describe, expect, it } from 'vitest';
import type { ProcessResult, ProcessRunner, RunOptions } from '../../agent/io/process.js';
import { firstLine, toolRunner } from '../../agent/io/tool-runner.js';

const result = (over: Partial<ProcessResult>): ProcessResult => ({
  code: 0,
  signal: null,
  stdout: Buffer.from('out'),
  stderr: Buffer.from('err'),
  timedOut: false,
  truncated: false,
  stopped: false,
  ms: 1,
  ...over,
});

function replaying(r: ProcessResult): { runner: ProcessRunner; asked: RunOptions[] } {
  const asked: RunOptions[] = [];
  const runner: ProcessRunner = {
    run: async (_file, _args, options = {}) => (asked.push(options), r),
    spawnInherit: async () => 0,
  };
  return { runner, asked };
}

describe('toolRunner', () => {
  it('maps each way a run ends to its result kind', async () => {
    const kind = async (over: Partial<ProcessResult>) =>
      (await toolRunner(replaying(result(over)).runner).runTool('t', [])).kind;
    expect(await kind({})).toBe('ok');
    expect(await kind({ code: 2 })).toBe('exit');
    expect(await kind({ code: null, signal: 'SIGSEGV' })).toBe('exit');
    expect(await kind({ code: null, startError: { errno: 'ENOENT', message: '' } })).toBe('missing');
    expect(await kind({ code: null, startError: { errno: 'EACCES', message: '' } })).toBe('denied');
    expect(await kind({ code: null, timedOut: true })).toBe('timeout');
    expect(await kind({ code: null, truncated: true })).toBe('too-much-output');
  });

  it('runs tools with LC_ALL=C, the PATH asked for, a timeout and an output cap', async () => {
    const { runner, asked } = replaying(result({}));
    expect(await toolRunner(runner).runTool('t', [], { path: '/tools', timeoutMs: 7, maxBytes: 9 })).toMatchObject({
      kind: 'ok',
      stdout: 'out',
      stderr: 'err',
    });
    expect(asked[0]).toMatchObject({
      timeoutMs: 7,
      maxOutputBytes: 9,
      env: { PATH: '/tools', LC_ALL: 'C', LANG: 'C' },
    });
  });
});

describe('firstLine', () => {
  it('keeps the first complete line of a streaming tool and kills it', async () => {
    const t = performance.now();
    const r = await firstLine('/bin/sh', ['-c', 'echo one; echo two; sleep 30'], { path: '/usr/bin:/bin' });
    expect(r).toMatchObject({ kind: 'ok', stdout: 'one\n' });
    expect(performance.now() - t).toBeLessThan(2500);
  });

  it('a tool that exits without a line: its partial output, or its exit status; one that says nothing in time: timeout', async () => {
    expect(await firstLine('/bin/sh', ['-c', 'printf partial'])).toMatchObject({ kind: 'ok', stdout: 'partial' });
    expect(await firstLine('/bin/sh', ['-c', 'exit 3'])).toMatchObject({ kind: 'exit', code: 3 });
    expect(await firstLine('/bin/sh', ['-c', 'sleep 30'], { timeoutMs: 200 })).toMatchObject({ kind: 'timeout' });
    expect(await firstLine('no-such-tool-here', [])).toEqual({ kind: 'missing', cmd: 'no-such-tool-here' });
  });
});

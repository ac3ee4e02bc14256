import { describe, expect, it } from 'vitest';
import { failure, nodeProcessRunner, succeeded } from '../../agent/io/process.js';

const { run } = nodeProcessRunner;
const sh = (script: string, options = {}) => run('/bin/sh', ['-c', script], options);

describe('nodeProcessRunner.run', () => {
  it('returns the exit status and both outputs, and feeds stdin', async () => {
    const r = await sh('cat; echo err >&2; exit 3', { input: 'hello' });
    expect(r).toMatchObject({ code: 3, signal: null, timedOut: false, truncated: false, stopped: false });
    expect(r.stdout.toString()).toBe('hello');
    expect(r.stderr.toString()).toBe('err\n');
    expect(succeeded(r)).toBe(false);
    expect(failure('/bin/sh', r)).toBe('/bin/sh exited with status 3: err');
  });

  it('passes cwd and env, and gives the child /dev/null as stdin by default', async () => {
    const r = await sh('pwd; echo "$GREETING"; cat', { cwd: '/', env: { GREETING: 'hi', PATH: '/usr/bin:/bin' } });
    expect(r.stdout.toString()).toBe('/\nhi\n');
    expect(succeeded(r)).toBe(true);
    expect(failure('/bin/sh', r)).toBeUndefined();
  });

  it('reports a program that cannot be started instead of throwing', async () => {
    const r = await run('/no/such/program', []);
    expect(r.startError?.errno).toBe('ENOENT');
    expect(failure('/no/such/program', r)).toBe('/no/such/program could not be started (ENOENT)');
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const t = Date.now();
    // the grandchild holds stdout open: only a group kill lets the run end
    const r = await sh('sleep 30 & sleep 30', { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(Date.now() - t).toBeLessThan(5000);
    expect(failure('/bin/sh', r)).toMatch(/did not finish in time/);
  });

  it('caps output while reading it and kills the flooding process', async () => {
    const r = await run('/bin/sh', ['-c', 'yes'], { maxOutputBytes: 1000, timeoutMs: 10_000 });
    expect(r.truncated).toBe(true);
    expect(r.timedOut).toBe(false);
    expect(r.stdout.length).toBe(1000);
    expect(failure('yes', r)).toMatch(/more output than allowed/);
  });

  it('output that reaches the cap exactly on a chunk boundary and goes on is still cut; output of exactly the cap is not', async () => {
    // 64 KiB is the pipe's chunk size: the cap is reached by whole chunks, the next one does not fit at all
    const flood = await run('/bin/sh', ['-c', 'head -c 4194304 /dev/zero'], {
      maxOutputBytes: 65536,
      timeoutMs: 10_000,
    });
    expect(flood.truncated).toBe(true);
    expect(flood.stdout.length).toBe(65536);
    const exact = await run('/bin/sh', ['-c', 'head -c 65536 /dev/zero'], { maxOutputBytes: 65536, timeoutMs: 10_000 });
    expect(exact).toMatchObject({ code: 0, truncated: false });
    expect(exact.stdout.length).toBe(65536);
  });

  it('stops early when stopWhen holds', async () => {
    const r = await sh('echo one; sleep 30; echo two', {
      stopWhen: (out: Buffer) => out.includes(10),
      timeoutMs: 10_000,
    });
    expect(r).toMatchObject({ stopped: true, timedOut: false });
    expect(r.stdout.toString()).toBe('one\n');
  });

  it('kills the process group on abort', async () => {
    const controller = new AbortController();
    const pending = sh('sleep 30', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await pending).signal).toBe('SIGKILL');
  });
});

describe('nodeProcessRunner.spawnInherit', () => {
  it('resolves the exit status, and 128 for a signal', async () => {
    expect(await nodeProcessRunner.spawnInherit('/bin/sh', ['-c', 'exit 4'])).toBe(4);
    expect(await nodeProcessRunner.spawnInherit('/bin/sh', ['-c', 'kill -TERM $$'])).toBe(128);
  });
});

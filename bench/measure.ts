// Small measuring helpers for the benchmark: medians of repeated runs, whole processes timed
// from spawn to exit.

import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface Row {
  group: string;
  name: string;
  value: number;
  unit: 'ms' | 'µs' | 'MB' | 'req/s' | 'bytes' | 'count' | 'ratio';
  target?: string;
  pass?: boolean;
  note?: string;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median milliseconds of `fn` over `runs` runs after `warmup` unmeasured ones. */
export function timeInProcess(fn: () => void, runs: number, warmup = Math.min(20, runs)): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Median wall milliseconds of a whole process, from spawn to exit. */
export function timeProcess(
  argv: string[],
  runs: number,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; before?: () => void; expectStatus?: number } = {},
): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    options.before?.();
    const t0 = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: options.env ?? process.env,
      encoding: 'utf8',
    });
    times.push(performance.now() - t0);
    if (r.status !== (options.expectStatus ?? 0)) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return median(times);
}

/** What a child prints (stdout, and stderr when asked), collected from its start so that no line is missed between waits. */
export class ChildOutput {
  text = '';

  constructor(child: ChildProcess, options: { stderr?: boolean } = {}) {
    child.stdout!.on('data', (c: Buffer) => (this.text += c.toString()));
    if (options.stderr) child.stderr!.on('data', (c: Buffer) => (this.text += c.toString()));
  }

  /** The first match of `pattern` in what came from offset `from` on, and when it was seen (polled every `pollMs`). */
  async waitFor(pattern: RegExp, timeoutMs = 30_000, from = 0, pollMs = 10): Promise<{ match: string; at: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.text.slice(from));
      if (m) return { match: m[0], at: performance.now() };
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${this.text.slice(-500)}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

// Running a probe tool safely, through the process port: no shell, LC_ALL=C, a hard timeout with SIGKILL, an
// output cap. A missing tool is its own result ("install v4l-utils"), never "no camera".

import { nodeProcessRunner } from './process.js';
import type { ProcessResult, ProcessRunner } from './process.js';

export type RunResult =
  | { kind: 'ok'; stdout: string; stderr: string; ms: number }
  | { kind: 'exit'; code: number; stdout: string; stderr: string; ms: number }
  | { kind: 'missing'; cmd: string }
  | { kind: 'denied'; cmd: string }
  | { kind: 'timeout'; stdout: string; stderr: string; ms: number }
  | { kind: 'too-much-output'; ms: number };

export interface RunOptions {
  timeoutMs?: number;
  maxBytes?: number;
  /** PATH to look the tool up in (tests point it at captured-output replayers). */
  path?: string;
}

export type ToolRunner = (cmd: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

const env = (path: string | undefined): NodeJS.ProcessEnv => ({
  PATH: path ?? process.env.PATH ?? '/usr/bin:/bin',
  LC_ALL: 'C',
  LANG: 'C',
  HOME: process.env.HOME ?? '/',
});

function classify(cmd: string, r: ProcessResult): RunResult {
  const { ms } = r;
  const stdout = r.stdout.toString('utf8');
  const stderr = r.stderr.toString('utf8');
  if (r.startError) return r.startError.errno === 'ENOENT' ? { kind: 'missing', cmd } : { kind: 'denied', cmd };
  if (r.truncated) return { kind: 'too-much-output', ms };
  if (r.timedOut) return { kind: 'timeout', stdout, stderr, ms };
  if (r.code === 0) return { kind: 'ok', stdout, stderr, ms };
  return { kind: 'exit', code: r.code ?? -1, stdout, stderr, ms };
}

/** A tool runner over a process port (tests and other hosts hand in another). */
export function toolRunner(processes: ProcessRunner): {
  runTool: ToolRunner;
  firstLine: ToolRunner;
} {
  return {
    runTool: async (cmd, args, options = {}) =>
      classify(
        cmd,
        await processes.run(cmd, args, {
          timeoutMs: options.timeoutMs ?? 5000,
          maxOutputBytes: options.maxBytes ?? 4 * 1024 * 1024,
          env: env(options.path),
        }),
      ),
    // a streaming tool (tegrastats): its first complete line, then it is killed
    firstLine: async (cmd, args, options = {}) => {
      const r = await processes.run(cmd, args, {
        timeoutMs: options.timeoutMs ?? 3000,
        maxOutputBytes: options.maxBytes ?? 64 * 1024,
        env: env(options.path),
        stopWhen: (out) => out.includes(0x0a),
      });
      if (r.startError || r.truncated) return classify(cmd, r);
      const out = r.stdout.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) return { kind: 'ok', stdout: out.slice(0, nl + 1), stderr: '', ms: r.ms };
      if (r.timedOut) return { kind: 'timeout', stdout: out, stderr: '', ms: r.ms };
      return out
        ? { kind: 'ok', stdout: out, stderr: '', ms: r.ms }
        : { kind: 'exit', code: r.code ?? -1, stdout: '', stderr: '', ms: r.ms };
    },
  };
}

const node = toolRunner(nodeProcessRunner);

export const runTool: ToolRunner = node.runTool;

/** Runs a streaming tool (tegrastats), keeps its first complete line, and kills it. */
export const firstLine: ToolRunner = node.firstLine;

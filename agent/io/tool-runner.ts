// Running a probe tool safely: execFile (no shell), LC_ALL=C, a hard timeout with SIGKILL, an
// output cap. A missing tool is its own result ("install v4l-utils"), never "no camera".

import { execFile, spawn } from 'node:child_process';

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

export const runTool: ToolRunner = (cmd, args, options = {}) => {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      cmd,
      [...args],
      {
        timeout: options.timeoutMs ?? 5000,
        killSignal: 'SIGKILL',
        maxBuffer: options.maxBytes ?? 4 * 1024 * 1024,
        windowsHide: true,
        env: env(options.path),
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const ms = performance.now() - started;
        if (!err) return resolve({ kind: 'ok', stdout, stderr, ms });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string; code?: string | number };
        if (e.code === 'ENOENT') return resolve({ kind: 'missing', cmd });
        if (e.code === 'EACCES') return resolve({ kind: 'denied', cmd });
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return resolve({ kind: 'too-much-output', ms });
        if (e.killed || e.signal === 'SIGKILL') return resolve({ kind: 'timeout', stdout, stderr, ms });
        resolve({ kind: 'exit', code: typeof e.code === 'number' ? e.code : -1, stdout, stderr, ms });
      },
    );
  });
};

/** Runs a streaming tool (tegrastats), keeps its first complete line, and kills it. */
export function firstLine(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let out = '';
    let done = false;
    const child = spawn(cmd, [...args], { env: env(options.path), stdio: ['ignore', 'pipe', 'ignore'] });
    const finish = (r: RunResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ kind: 'timeout', stdout: out, stderr: '', ms: performance.now() - started }),
      options.timeoutMs ?? 3000,
    );
    child.on('error', (e: NodeJS.ErrnoException) =>
      finish(e.code === 'ENOENT' ? { kind: 'missing', cmd } : { kind: 'denied', cmd }),
    );
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0) finish({ kind: 'ok', stdout: out.slice(0, nl + 1), stderr: '', ms: performance.now() - started });
      else if (out.length > (options.maxBytes ?? 64 * 1024))
        finish({ kind: 'too-much-output', ms: performance.now() - started });
    });
    child.on('close', (code) =>
      finish(
        out
          ? { kind: 'ok', stdout: out, stderr: '', ms: performance.now() - started }
          : { kind: 'exit', code: code ?? -1, stdout: '', stderr: '', ms: performance.now() - started },
      ),
    );
  });
}

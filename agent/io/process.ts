// The process port: every child process the product starts goes through here. No shell, output
// capped while it is read (untrusted output is never held beyond the cap), a timeout or an abort
// kills the whole process group, and a program that cannot be started is a result, not a throw.

import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  /** The child's whole environment; the parent's when absent. */
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed; stdin is /dev/null when absent. */
  input?: string | Buffer;
  /** Kills the process group with SIGKILL after this long (no limit when absent). */
  timeoutMs?: number;
  /** The most bytes kept of stdout and of stderr, each; the process group is killed past it. */
  maxOutputBytes?: number;
  /** Aborting kills the process group. */
  signal?: AbortSignal;
  /** Ends the run early (the process group is killed, `stopped` is set) once this holds for stdout so far. */
  stopWhen?: (stdout: Buffer) => boolean;
}

export interface ProcessResult {
  /** The exit status; null when a signal ended it or it never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
  /** Output passed maxOutputBytes: what is kept is the first maxOutputBytes, and the process was killed. */
  truncated: boolean;
  /** stopWhen held and the process was killed. */
  stopped: boolean;
  /** Set when the program could not be started: the errno code (ENOENT, EACCES, …) and the message. */
  startError?: { errno: string; message: string };
  ms: number;
}

export interface ProcessRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<ProcessResult>;
  /** Runs an interactive program on this terminal (stdin, stdout and stderr inherited); resolves its exit status. */
  spawnInherit(
    file: string,
    args: readonly string[],
    options?: { cwd?: string; env?: NodeJS.ProcessEnv },
  ): Promise<number>;
}

const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;

function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve) => {
    const out: { chunks: Buffer[]; bytes: number }[] = [
      { chunks: [], bytes: 0 },
      { chunks: [], bytes: 0 },
    ];
    let timedOut = false;
    let truncated = false;
    let stopped = false;
    let settled = false;
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // its own process group, so that a kill reaches whatever it started too
      detached: true,
      windowsHide: true,
    });
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already
      }
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs);
    const onAbort = (): void => killGroup();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) killGroup();
    const finish = (rest: Pick<ProcessResult, 'code' | 'signal' | 'startError'>): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        ...rest,
        stdout: Buffer.concat(out[0]!.chunks),
        stderr: Buffer.concat(out[1]!.chunks),
        timedOut,
        truncated,
        stopped,
        ms: performance.now() - started,
      });
    };
    const collect = (which: 0 | 1) => (chunk: Buffer) => {
      const o = out[which]!;
      const keep = chunk.subarray(0, Math.max(0, max - o.bytes));
      o.chunks.push(keep);
      o.bytes += keep.length;
      // a chunk that does not fit, even one arriving after the cap was reached exactly on a chunk boundary
      if (keep.length < chunk.length) {
        if (!truncated) killGroup();
        truncated = true;
      } else if (which === 0 && options.stopWhen && !stopped && options.stopWhen(Buffer.concat(o.chunks))) {
        stopped = true;
        killGroup();
      }
    };
    child.stdout!.on('data', collect(0));
    child.stderr!.on('data', collect(1));
    child.on('error', (e: NodeJS.ErrnoException) =>
      finish({ code: null, signal: null, startError: { errno: e.code ?? 'unknown', message: e.message } }),
    );
    child.on('close', (code, signal) => finish({ code, signal }));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // a child that exits without reading its input
      child.stdin.end(options.input);
    }
  });
}

function spawnInherit(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { stdio: 'inherit', cwd: options.cwd, env: options.env ?? process.env });
    child.on('error', reject);
    child.on('exit', (c, sig) => resolve(sig ? 128 : (c ?? 1)));
  });
}

export const nodeProcessRunner: ProcessRunner = { run, spawnInherit };

/** True when the program ran to the end and exited 0, within its time and output limits. */
export const succeeded = (r: ProcessResult): boolean =>
  r.code === 0 && !r.startError && !r.timedOut && !r.truncated && !r.stopped;

/** Why a run did not succeed, in words, or undefined when it did. */
export function failure(file: string, r: ProcessResult): string | undefined {
  if (r.startError) return `${file} could not be started (${r.startError.errno})`;
  if (r.timedOut) return `${file} did not finish in time and was killed`;
  if (r.truncated) return `${file} wrote more output than allowed and was killed`;
  if (r.stopped || succeeded(r)) return undefined;
  const said = r.stderr.toString('utf8').trim().split('\n')[0];
  const how = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.code}`;
  return `${file} ${how}${said ? `: ${said}` : ''}`;
}

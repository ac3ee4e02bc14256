// npm run demo: the whole GitOps loop on loopback, narrated and timed. A configuration
// repository served over smart HTTP by git itself, commits signed with an SSH key made for this
// run, and the real agent (a separate process, with the example pipeline) following it:
//   1. the pinned first commit is applied;
//   2. a good change is applied, only the affected component reconfigured;
//   3. an unsigned commit is refused;
//   4. a commit the hardware cannot run is refused;
//   5. a commit whose health check fails is rolled back;
//   6. an operator rolls back to an earlier release through the API.
// At the end, a table of what happened and how long each step took.
// `npm run demo -- --keep-running` leaves the agent and its status page up until Ctrl-C.

import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetRemote } from './fleet-remote.js';
import { startGitServer } from './git-server.js';
import { benchDeviceSettings } from './bench-device.js';
import { PACKAGE_ROOT } from '../agent/daemon/settings.js';
import { addToken } from '../agent/io/token-file.js';
import type { CycleAnswer } from '../agent/core/contracts/api.js';

interface Row {
  step: string;
  outcome: string;
  commit: string;
  ms: number;
  detail: string;
}

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s: string): void => void process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  const keep = process.argv.includes('--keep-running');
  for (const tool of ['git', 'ssh-keygen']) {
    try {
      execFileSync(tool, tool === 'git' ? ['--version'] : ['-?'], { stdio: 'ignore' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        process.stderr.write(`demo: ${tool} is needed (apt-get install git openssh-client)\n`);
        return 1;
      }
    }
  }
  const root = PACKAGE_ROOT;
  const dir = mkdtempSync(join(tmpdir(), 'doorbell-demo-'));
  const children: ChildProcess[] = [];
  const rows: Row[] = [];
  try {
    say(bold('doorbell-gitops demo: the GitOps loop on loopback'));
    const t0 = performance.now();
    const remote = fleetRemote(
      root,
      dir,
      { name: 'Alice Operator', email: 'alice@example.test' },
      Math.floor(Date.now() / 1000) - 3600,
    );
    const { work, env, push, edit } = remote;
    const commit = (message: string, signed: boolean, change?: () => void): string => {
      change?.();
      return remote.commit(message, signed);
    };
    const anchor = commit('the fleet configuration', true);
    push();
    const server = await startGitServer(join(dir, 'srv'));
    const token = addToken(join(dir, 'tokens.yaml'), 'demo-operator', 'operator');
    const state = join(dir, 'state');
    writeFileSync(
      join(dir, 'agent.yaml'),
      benchDeviceSettings({
        root,
        url: `${server.url}/fleet.git`,
        trustDir: remote.trustDir,
        anchor,
        stateDir: state,
        tokensFile: join(dir, 'tokens.yaml'),
        listen: `127.0.0.1:${keep ? 8420 : 0}`,
      }),
    );
    say(`  a configuration repository served by git http-backend at ${server.url}/fleet.git`);
    say(
      `  commits signed by alice@example.test with an ed25519 key made for this run; the device trusts that key only`,
    );
    say(`  the agent: development/dev-bench-01 (a bench unit with a Logitech C920), the example pipeline, 1 s of bake`);
    say(`  set up in ${Math.round(performance.now() - t0)} ms\n`);

    const agent = spawn(
      process.execPath,
      [
        join(root, 'dist/scripts/gitops.js'),
        'agent',
        '--config',
        join(dir, 'agent.yaml'),
        '--bake',
        '1',
        '--with-example-pipeline',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(agent);
    let output = '';
    agent.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    agent.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const waitFor = async (pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<RegExpExecArray> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(output.slice(from));
        if (m) return m;
        if (Date.now() > deadline)
          throw new Error(`the agent did not print ${pattern} in time; it printed:\n${output.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const api = (await waitFor(/API on (http:\/\/\S+)/))[1]!;
    const post = async (path: string, body?: unknown): Promise<CycleAnswer> =>
      (await (
        await fetch(`${api}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
        })
      ).json()) as never;
    const short = (c: string): string => c.slice(0, 12);
    const first = (text: string | undefined): string =>
      (text ?? '')
        .split('\n')
        .find((l) => /error|unhealthy|signature|supports|exist/.test(l))
        ?.replace(/^.*?error \S+ /, '')
        .trim() ??
      (text ?? '').split('\n')[0] ??
      '';

    const step = async (
      n: number,
      title: string,
      label: string,
      make: () => string | null,
      expect: string,
      after?: () => Promise<void>,
    ): Promise<void> => {
      say(bold(`${n}. ${title}`));
      const from = output.length;
      const t = performance.now();
      const c = make();
      if (c) push();
      const r = await post('/api/v1/sync');
      const ms = performance.now() - t;
      const pipeline = [...output.slice(from).matchAll(/\[pipeline\] (capture: now [^\n]*|detector: [^\n]*)/g)]
        .map((m) => m[1])
        .slice(-1)[0];
      const detail =
        r.outcome === 'applied'
          ? `reconfigured ${r.components?.join(', ') || 'nothing'}${pipeline ? `; pipeline: ${pipeline}` : ''}`
          : first(r.reason);
      say(
        `   ${r.outcome === expect ? '✓' : '✗'} ${r.outcome} ${short(r.commit ?? c ?? '')} in ${Math.round(ms)} ms: ${detail}`,
      );
      rows.push({ step: label, outcome: r.outcome, commit: short(r.commit ?? c ?? ''), ms, detail });
      await after?.();
    };
    const good: string[] = [];
    const revert = async (): Promise<void> => {
      execFileSync('git', ['reset', '-q', '--hard', good.at(-1)!], { cwd: work, env });
      push();
      await post('/api/v1/sync');
      say(`   (the remote is reset to ${short(good.at(-1)!)}, as a reviewer reverting the push would)`);
    };

    say(bold('1. the agent starts and applies the pinned first commit'));
    const started = performance.now();
    const firstApply = await waitFor(/applied ([0-9a-f]{12}) "the fleet configuration"[^\n]*\((\d+) ms\)/);
    await waitFor(/\[pipeline\] capture: now [^\n]*/);
    say(
      `   ✓ applied ${firstApply[1]} in ${firstApply[2]} ms ` +
        `(${Math.round(performance.now() - started)} ms from start, process start-up included); every component configured`,
    );
    rows.push({
      step: 'first commit, at start',
      outcome: 'applied',
      commit: firstApply[1]!,
      ms: Number(firstApply[2]),
      detail: 'all six components configured',
    });
    good.push(anchor);

    await step(
      2,
      'a good change: frame rate 15 -> 10',
      'good change (fps 15 -> 10)',
      () => {
        const c = commit('frame rate 10 for the night', true, () =>
          edit('config/frame_capture.yaml', '  fps: 15', '  fps: 10'),
        );
        good.push(c);
        return c;
      },
      'applied',
    );
    await step(
      3,
      'an unsigned commit',
      'unsigned commit',
      () =>
        commit('quick fix, unsigned', false, () => edit('config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.9')),
      'refused',
      revert,
    );
    await step(
      4,
      'a commit the hardware cannot run (1080p raw YUYV: the C920 gives 5 fps)',
      'hardware cannot run it',
      () =>
        commit('raw 1080p', true, () =>
          edit(
            'config/frame_capture.yaml',
            'pixel_format: MJPG\n  width: 1280\n  height: 720',
            'pixel_format: YUYV\n  width: 1920\n  height: 1080',
          ),
        ),
      'refused',
      revert,
    );
    await step(
      5,
      'a commit whose health check fails (a model file that is not on the device)',
      'health check fails',
      () =>
        commit('new person model', true, () =>
          edit('config/detectors.yaml', 'ssd-mobilenet-v2-person.tflite', 'ssd-mobilenet-v3-person.tflite'),
        ),
      'rolled-back',
    );
    say(bold('6. an operator rolls the device back to the first release (POST /api/v1/rollback)'));
    const t6 = performance.now();
    const rb = await post('/api/v1/rollback', { to: anchor, reason: 'the night frame rate drops too many frames' });
    const ms6 = performance.now() - t6;
    say(
      `   ${rb.outcome === 'rolled-back' ? '✓' : '✗'} ${rb.outcome} to ${short(rb.commit ?? '')} in ${Math.round(ms6)} ms: ` +
        `reconfigured ${rb.components?.join(', ') || 'nothing'}; ${short(good[1]!)} is marked bad and not applied again`,
    );
    rows.push({
      step: 'operator rollback (API)',
      outcome: rb.outcome,
      commit: short(rb.commit ?? ''),
      ms: ms6,
      detail: rb.reason ?? '',
    });

    say(`\n${bold('What happened')} (time: from the push to the agent's answer, bake of 1 s included)\n`);
    const widths = [28, 12, 12, 6];
    say(['step', 'outcome', 'commit', 'ms'].map((h, i) => h.padEnd(widths[i]!)).join(' ') + ' detail');
    say(widths.map((w) => '-'.repeat(w)).join(' ') + ' ' + '-'.repeat(30));
    for (const r of rows)
      say(
        [
          r.step.padEnd(widths[0]!),
          r.outcome.padEnd(widths[1]!),
          r.commit.padEnd(widths[2]!),
          String(Math.round(r.ms)).padStart(widths[3]!),
        ].join(' ') +
          ' ' +
          r.detail.slice(0, 110),
      );
    const expected = ['applied', 'applied', 'refused', 'refused', 'rolled-back', 'rolled-back'];
    const ok = rows.every((r, i) => r.outcome === expected[i]);
    say(
      `\n${ok ? 'every step did what it should' : 'SOME STEP DID NOT DO WHAT IT SHOULD'} (total ${Math.round(performance.now() - t0)} ms)`,
    );
    if (keep) {
      say(`\nthe agent keeps running: status page ${api}/#token=${token}   (Ctrl-C ends the demo)`);
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
    }
    await new Promise<void>((r) => {
      agent.once('exit', () => r());
      agent.kill('SIGTERM');
    });
    await server.close();
    return ok ? 0 : 1;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`demo failed: ${e.message}\n`);
    process.exit(1);
  },
);

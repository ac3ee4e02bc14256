// Agent figures (issue: the agent): commit-to-applied latency through POST /api/v1/sync (warm,
// and cold: the first cycle after the worker ended) and through polling, watch-mode
// edit-to-applied, the time from a failing health verdict to the old configuration delivered
// again; and the memory table: the runtime's floor (a bare node under the unit's environment)
// beside the agent idle in remote mode, its peak during applies, with 10 event streams, and in
// watch mode over 1,000 applies (RSS, and Pss where the figure is shared with others). Side by
// side: ansible-pull applying the same change from the same repository.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer } from '../devtools/git-server.js';
import { copyExample, fleetRemote } from '../devtools/fleet-remote.js';
import { AGENT_ENV, benchDeviceSettings, benchWatchArgs } from '../devtools/bench-device.js';
import { loadTest, openStreams } from './api-load.js';
import { addToken } from '../agent/io/token-file.js';
import { ChildOutput, median } from './measure.js';
import type { Row } from './measure.js';
import { CYCLE_WORKER_IDLE_MS, CYCLE_WORKER_LIMITS } from '../agent/daemon/isolated.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user and system) a process has used, from /proc/PID/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds per minute that each process uses over the same `ms` of idling. */
async function idleCpuPerMinute(pids: number[], ms: number): Promise<number[]> {
  const before = pids.map(cpuSeconds);
  await sleep(ms);
  return pids.map((p, i) => ((cpuSeconds(p) - before[i]!) * 60_000) / ms);
}

/** A figure of /proc/PID/status (VmRSS: resident now, VmHWM: its peak) or smaps_rollup (Pss), in MB. */
function memMb(pid: number, field: 'VmRSS' | 'VmHWM' | 'Pss'): number {
  const file = field === 'Pss' ? 'smaps_rollup' : 'status';
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const rssMb = (pid: number): number => memMb(pid, 'VmRSS');

/** The runtime's floor: a bare node with one timer, under the agent's unit environment. */
function startBare(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
    env: { ...process.env, ...AGENT_ENV },
  });
}

/** Everything each agent printed, collected from its start. */
const outputs = new WeakMap<ChildProcess, ChildOutput>();
const waitForLine = async (child: ChildProcess, pattern: RegExp): Promise<string> =>
  (await outputs.get(child)!.waitFor(pattern)).match;

export async function benchAgent(root: string, cli: string): Promise<Row[]> {
  const group = 'agent';
  const memGroup = 'agent memory';
  /** The memory table, after the latency rows. */
  const memory: Row[] = [];
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  const children: ChildProcess[] = [];
  try {
    // a remote, a signing key, a trust directory
    const remote = fleetRemote(
      root,
      dir,
      { name: 'Bench', email: 'bench@example.test' },
      Date.parse('2026-03-01T00:00:00Z') / 1000,
    );
    const { work, env } = remote;
    const commit = (msg: string): string => {
      const c = remote.commit(msg);
      remote.push();
      return c;
    };
    const setFps = (fps: number): void => remote.edit('config/frame_capture.yaml', / fps: \d+/, ` fps: ${fps}`);
    const anchor = commit('anchor');
    const server = await startGitServer(join(dir, 'srv'));
    const state = join(dir, 'state');
    mkdirSync(state);
    const token = addToken(join(dir, 'tokens.yaml'), 'bench', 'operator');
    const post = { method: 'POST', headers: { authorization: `Bearer ${token}` } };
    const settings = (poll: number): string => {
      const file = join(dir, `agent-${poll}.yaml`);
      writeFileSync(
        file,
        benchDeviceSettings({
          root,
          url: `${server.url}/fleet.git`,
          trustDir: remote.trustDir,
          anchor,
          stateDir: state,
          tokensFile: join(dir, 'tokens.yaml'),
          pollSeconds: poll,
        }),
      );
      return file;
    };
    const pipeline = spawn(
      process.execPath,
      [
        join(root, 'dist/examples/pipeline/example-pipeline.js'),
        '--components-dir',
        join(state, 'components'),
        '--root',
        join(root, 'examples/device-root'),
      ],
      { stdio: 'ignore' },
    );
    children.push(pipeline);
    const startAgent = async (args: string[]): Promise<{ child: ChildProcess; api: string }> => {
      const child = spawn(process.execPath, [cli, 'agent', ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...AGENT_ENV },
      });
      children.push(child);
      outputs.set(child, new ChildOutput(child));
      const line = await waitForLine(child, /API on http:\/\/\S+/);
      return { child, api: line.replace('API on ', '') };
    };

    // 1. POST /api/v1/sync
    const a = await startAgent(['--config', settings(3600), '--bake', '0']);
    await waitForLine(a.child, /applied [0-9a-f]{12} "anchor"/);
    // idle after its first apply, once the cycle worker has ended; beside the runtime's floor
    const floor = startBare();
    children.push(floor);
    await sleep(CYCLE_WORKER_IDLE_MS.remote + 2000);
    const floorRss = rssMb(floor.pid!);
    const floorPss = memMb(floor.pid!, 'Pss');
    floor.kill('SIGTERM');
    // what the libraries the long-lived agent needs cost by themselves (fetch's undici comes with hono's server)
    const libs = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "await Promise.all(['hono', '@hono/node-server', 'prom-client', 'yaml'].map((m) => import(m))); " +
          "void globalThis.Response; console.log('ready'); setInterval(() => {}, 1000);",
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...AGENT_ENV } },
    );
    children.push(libs);
    await new Promise((r) => libs.stdout!.once('data', r));
    await sleep(1000);
    const libsRss = rssMb(libs.pid!);
    libs.kill('SIGTERM');
    const remoteIdle = rssMb(a.child.pid!);
    const remoteIdlePss = memMb(a.child.pid!, 'Pss');
    memory.push(
      {
        group: memGroup,
        name: 'bare node with one timer (the runtime floor), RSS / Pss',
        value: floorRss,
        unit: 'MB',
        note: `Pss ${floorPss.toFixed(1)} MB`,
      },
      {
        group: memGroup,
        name: `agent, remote mode, idle after its first apply (cycle worker ended), RSS (Pss ${remoteIdlePss.toFixed(1)} MB)`,
        value: remoteIdle,
        unit: 'MB',
        target: `<= 52 MB, floor + 13 MB (floor: ${floorRss.toFixed(1)} MB)`,
        pass: remoteIdle <= Math.max(52, floorRss + 13),
      },
      {
        group: memGroup,
        name: 'agent, remote mode, idle: ratio to the floor (RSS)',
        value: remoteIdle / floorRss,
        unit: 'ratio',
      },
      {
        group: memGroup,
        name: 'node with hono, @hono/node-server (and fetch), prom-client and yaml imported, nothing else (RSS)',
        value: libsRss,
        unit: 'MB',
        note: `the libraries' floor: ${(libsRss - floorRss).toFixed(1)} MB above bare node`,
      },
    );
    // the first sync after that starts a worker: the cold cycle
    setFps(4);
    commit('fps 4, cold');
    const cold0 = performance.now();
    const coldAnswer = (await (await fetch(`${a.api}/api/v1/sync`, post)).json()) as { outcome: string };
    const cold = performance.now() - cold0;
    if (coldAnswer.outcome !== 'applied') throw new Error(`bench cold sync: ${JSON.stringify(coldAnswer)}`);
    const syncTimes: number[] = [];
    for (let i = 0; i < 15; i++) {
      setFps(5 + (i % 20));
      commit(`fps ${5 + (i % 20)}`);
      const t0 = performance.now();
      const r = (await (await fetch(`${a.api}/api/v1/sync`, post)).json()) as { outcome: string };
      syncTimes.push(performance.now() - t0);
      if (r.outcome !== 'applied') throw new Error(`bench sync: ${JSON.stringify(r)}`);
    }
    const p50 = median(syncTimes);
    rows.push({
      group,
      name: 'commit to applied, POST /api/v1/sync, cold (the first after the worker ended: it starts one)',
      value: cold,
      unit: 'ms',
    });
    const peak = memMb(a.child.pid!, 'VmHWM');
    memory.push({
      group: memGroup,
      name: 'agent, remote mode, peak during 16 applies (VmHWM, the worker included)',
      value: peak,
      unit: 'MB',
      target: `< ${CYCLE_WORKER_LIMITS.maxOldGenerationSizeMb} MB heap limit of the worker + the agent`,
    });
    rows.push({
      group,
      name: 'commit to applied, POST /api/v1/sync (fetch, verify, render, decrypt, validate, deliver), p50',
      value: p50,
      unit: 'ms',
      target: '< 300 ms',
      pass: p50 < 300,
    });

    // 4. failing health verdict -> old configuration delivered again
    const rollbacks: number[] = [];
    for (let i = 0; i < 5; i++) {
      remote.edit('config/detectors.yaml', /ssd-mobilenet-v\d+-person/, `ssd-mobilenet-v${9 + i}-person`);
      commit(`broken model ${i}`);
      const r = (await (await fetch(`${a.api}/api/v1/sync`, post)).json()) as { outcome: string };
      if (r.outcome !== 'rolled-back') throw new Error(`bench rollback: ${JSON.stringify(r)}`);
      const last = readFileSync(join(state, 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; steps?: { rollback?: number } })
        .filter((e) => e.event === 'rolled-back')
        .at(-1)!;
      rollbacks.push(last.steps!.rollback!);
    }
    remote.edit('config/detectors.yaml', /ssd-mobilenet-v\d+-person/, 'ssd-mobilenet-v2-person');
    commit('model fixed');
    await fetch(`${a.api}/api/v1/sync`, post);
    const rb = median(rollbacks);
    rows.push({
      group,
      name: 'failing health verdict to the old configuration delivered again and healthy, p50',
      value: rb,
      unit: 'ms',
      target: '< 500 ms',
      pass: rb < 500,
    });

    // 6. the local API under load: GET /api/v1/status with a viewer token, then memory with 10 event streams open
    const viewer = addToken(join(dir, 'tokens.yaml'), 'bench-viewer', 'viewer');
    const auth = { authorization: `Bearer ${viewer}` };
    await loadTest(`${a.api}/api/v1/status`, auth, { concurrency: 8, maxRequests: 2000, maxSeconds: 3 }); // warm-up
    const load = await loadTest(`${a.api}/api/v1/status`, auth, {
      concurrency: 16,
      maxRequests: 40_000,
      maxSeconds: 10,
    });
    if (load.errors > 0) throw new Error(`bench API: ${load.errors} failed requests`);
    rows.push({
      group,
      name:
        `API: GET /api/v1/status with a token, 16 keep-alive connections (${load.requests} requests in ` +
        `${load.seconds.toFixed(1)} s; p50 ${load.p50ms.toFixed(1)} ms, p99 ${load.p99ms.toFixed(1)} ms)`,
      value: load.perSecond,
      unit: 'req/s',
      target: '> 2000 req/s',
      pass: load.perSecond > 2000,
    });
    await sleep(1000);
    const beforeStreams = rssMb(a.child.pid!);
    // two dashboards of five streams each: the API allows 8 streams per caller
    const second = { authorization: `Bearer ${addToken(join(dir, 'tokens.yaml'), 'bench-viewer-2', 'viewer')}` };
    const streams = await Promise.all([
      openStreams(`${a.api}/api/v1/events`, auth, 5),
      openStreams(`${a.api}/api/v1/events`, second, 5),
    ]);
    setFps(7);
    commit('fps 7 with ten watchers');
    const watched = (await (await fetch(`${a.api}/api/v1/sync`, post)).json()) as { outcome: string };
    await sleep(1500);
    const withStreams = rssMb(a.child.pid!);
    // the streams stay open while the worker ends: what the agent holds with 10 listeners
    await sleep(CYCLE_WORKER_IDLE_MS.remote + 2000);
    const streamsIdle = rssMb(a.child.pid!);
    const streamsIdlePss = memMb(a.child.pid!, 'Pss');
    const told = streams.reduce((n, s) => n + (s.received.get('applied') ?? 0), 0);
    for (const s of streams) s.close();
    if (watched.outcome !== 'applied' || told !== 10)
      throw new Error(`bench streams: ${watched.outcome}, ${told} of 10 streams told`);
    memory.push(
      {
        group: memGroup,
        name: 'agent, remote mode, after the API load, before the streams',
        value: beforeStreams,
        unit: 'MB',
      },
      {
        group: memGroup,
        name: 'agent, remote mode, 10 event streams open, just after an apply sent to all 10',
        value: withStreams,
        unit: 'MB',
      },
      {
        group: memGroup,
        name: `agent, remote mode, 10 event streams open, idle again (Pss ${streamsIdlePss.toFixed(1)} MB)`,
        value: streamsIdle,
        unit: 'MB',
        target: `<= 52 MB, floor + 13 MB (floor: ${floorRss.toFixed(1)} MB)`,
        pass: streamsIdle <= Math.max(52, floorRss + 13),
      },
    );
    a.child.kill('SIGTERM');
    await new Promise((r) => a.child.once('exit', r));

    // 2. polling: how long after its scheduled poll a pushed commit is applied
    const b = await startAgent(['--config', settings(5), '--bake', '0']);
    const overheads: number[] = [];
    for (let i = 0; i < 3; i++) {
      const status = (await (await fetch(`${b.api}/api/v1/status`)).json()) as { next_poll: string };
      setFps(30 - i);
      const c = commit(`poll ${i}`);
      for (let k = 0; k < 400; k++) {
        const s = (await (await fetch(`${b.api}/api/v1/status`)).json()) as {
          state: { last_good: string; applied_at: string };
        };
        if (s.state.last_good === c) {
          overheads.push(Date.parse(s.state.applied_at) - Date.parse(status.next_poll));
          break;
        }
        await sleep(25);
      }
    }
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
    const po = median(overheads);
    rows.push({
      group,
      name: 'polling (every 5 s): applied after the scheduled poll, p50',
      value: po,
      unit: 'ms',
      target: 'interval + < 300 ms',
      pass: po < 300,
    });

    // 3 and 5. watch mode: edit to applied, and memory over 1,000 applies
    const wdir = join(dir, 'watch');
    mkdirSync(wdir);
    copyExample(root, wdir);
    const wstate = join(dir, 'wstate');
    const wpipe = spawn(
      process.execPath,
      [
        join(root, 'dist/examples/pipeline/example-pipeline.js'),
        '--components-dir',
        join(wstate, 'components'),
        '--root',
        join(root, 'examples/device-root'),
      ],
      { stdio: 'ignore' },
    );
    children.push(wpipe);
    const w = await startAgent(benchWatchArgs(root, wdir, wstate));
    await waitForLine(w.child, /applied tree-/);
    await sleep(1000);
    const idle = rssMb(w.child.pid!);
    // idle CPU beside a bare node process with one timer (the runtime's floor), over the same 60 s
    // (/proc counts CPU in 10 ms ticks), after a minute of warm-up: the bake, the first health checks
    // and the compiler's work are done by then; the bare process starts with the warm-up, so that
    // its own start is not counted
    const bare = startBare();
    children.push(bare);
    await sleep(60_000);
    const [watchCpu, bareCpu] = await idleCpuPerMinute([w.child.pid!, bare.pid!], 60_000);
    bare.kill('SIGTERM');
    rows.push({
      group,
      name: 'watch mode idle CPU per minute over a minute, after a minute of warm-up (bare node with a timer beside it)',
      value: watchCpu! * 1000,
      unit: 'ms',
      target: `< 20 ms (bare: ${(bareCpu! * 1000).toFixed(0)} ms)`,
      pass: watchCpu! < 0.02,
    });
    const wf = join(wdir, 'config/frame_capture.yaml');
    const edits: number[] = [];
    let after100 = 0;
    for (let i = 0; i < 1000; i++) {
      const before = readFileSync(join(wstate, 'state.json'), 'utf8');
      const t0 = performance.now();
      writeFileSync(wf, readFileSync(wf, 'utf8').replace(/ fps: \d+/, ` fps: ${5 + (i % 25)}`));
      for (let k = 0; k < 2000; k++) {
        await sleep(2);
        const now = readFileSync(join(wstate, 'state.json'), 'utf8');
        if (
          now !== before &&
          (JSON.parse(now) as { last_good: string }).last_good === (JSON.parse(now) as { applied: string }).applied &&
          (JSON.parse(now) as { applied: string }).applied !== (JSON.parse(before) as { applied: string }).applied
        )
          break;
      }
      edits.push(performance.now() - t0);
      if (i === 99) after100 = rssMb(w.child.pid!);
    }
    const after1000 = rssMb(w.child.pid!);
    w.child.kill('SIGTERM');
    const e50 = median(edits.slice(0, 50));
    rows.push({
      group,
      name: 'watch mode: edit to applied (debounce, render, decrypt, validate, deliver, health), p50',
      value: e50,
      unit: 'ms',
      target: '< 100 ms',
      pass: e50 < 100,
    });
    memory.push(
      {
        group: memGroup,
        name: 'agent, watch mode, idle (its cycle worker kept warm for edits)',
        value: idle,
        unit: 'MB',
      },
      { group: memGroup, name: 'agent, watch mode, after 100 applies', value: after100, unit: 'MB' },
      {
        group: memGroup,
        name: 'agent, watch mode, after 1,000 applies',
        value: after1000,
        unit: 'MB',
        target: 'no growth after the first 100 (< 1.2x)',
        pass: after1000 < after100 * 1.2,
      },
    );

    // ansible-pull on the same repository and the same change, when it is installed
    if (spawnSync('ansible-pull', ['--version']).status === 0) {
      writeFileSync(
        join(work, 'local.yml'),
        '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n' +
          '    - name: deliver the capture configuration\n      copy:\n        src: config/frame_capture.yaml\n' +
          `        dest: "{{ lookup('env', 'ANSIBLE_DEST') }}/frame_capture.yaml"\n`,
      );
      commit('ansible playbook');
      const dest = join(dir, 'ansible-dest');
      mkdirSync(dest);
      const runs: number[] = [];
      let peak = 0;
      for (let i = 0; i < 3; i++) {
        setFps(40 + i);
        commit(`ansible fps ${40 + i}`);
        const t0 = performance.now();
        // asynchronously: the git server answering ansible-pull runs in this very process
        const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
          const p = spawn(
            '/usr/bin/time',
            [
              '-v',
              'ansible-pull',
              '-U',
              `${server.url}/fleet.git`,
              '-C',
              'main',
              '-d',
              join(dir, 'ansible-checkout'),
              'local.yml',
            ],
            {
              env: {
                ...env,
                ANSIBLE_DEST: dest,
                ANSIBLE_LOCALHOST_WARNING: 'false',
                ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
              },
            },
          );
          let out = '';
          p.stdout.on('data', (c: Buffer) => (out += c));
          p.stderr.on('data', (c: Buffer) => (out += c));
          p.on('exit', (status) => resolve({ status, out }));
        });
        runs.push(performance.now() - t0);
        if (r.status !== 0) throw new Error(`ansible-pull failed: ${r.out}`);
        peak = Math.max(peak, Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.out)?.[1] ?? 0) / 1024);
      }
      rows.push({
        group,
        name: 'ansible-pull: commit to applied, same repository and change, p50',
        value: median(runs),
        unit: 'ms',
      });
      rows.push({ group, name: 'ansible-pull: peak resident memory', value: peak, unit: 'MB' });
    } else {
      rows.push({
        group,
        name: 'ansible-pull: not installed here (apt-get install ansible-core), skipped',
        value: 0,
        unit: 'ms',
      });
    }
    await server.close();
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return [...rows, ...memory];
}

// Object store figures (issue 12, 2b): bytes a no-change poll costs the agent, beside `git
// fetch` on the same remote (the example repository and one with 10,000 devices); the device's
// store after 200 synced signed changes (packs, size) and the time of fetch + history check at
// the first changes and the last; the agent as installed over 200 applied changes.

import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyRange } from '../agent/core/trust/history.js';
import { DEFAULT_SKEW_SECONDS } from '../agent/core/trust/verify-object.js';
import { GitStore } from '../agent/io/git-store.js';
import { addToken } from '../agent/io/token-file.js';
import { AGENT_ENV, benchDeviceSettings } from '../devtools/bench-device.js';
import { loadTrustStore } from '../agent/io/trust-store.js';
import { fleetRemote } from '../devtools/fleet-remote.js';
import type { FleetRemote } from '../devtools/fleet-remote.js';
import { startGitServer } from '../devtools/git-server.js';
import type { GitServer } from '../devtools/git-server.js';
import { median } from './measure.js';
import type { Row } from './measure.js';

const CHANGES = 200;

/** Adds `n` device files to the remote in one commit (git fast-import on top of main). */
function addDevices(remote: FleetRemote, n: number): void {
  const head = execFileSync('git', ['rev-parse', 'main'], { cwd: remote.bare }).toString().trim();
  const parts = [
    `commit refs/heads/main\ncommitter Bench <bench@example.test> 1772400000 +0000\ndata 12\n10k devices\nfrom ${head}\n`,
  ];
  for (let i = 0; i < n; i++) {
    const body = `# yaml-language-server: $schema=../../../schemas/device.schema.json\nversion: 2\ndevice:\n  id: prod-fleet-${String(i).padStart(5, '0')}\n  model: edge-p4-c920\n  labels: { site: site-${i % 97}, floor: "${i % 7}" }\n`;
    parts.push(
      `M 100644 inline environments/production/devices/prod-fleet-${String(i).padStart(5, '0')}.yaml\ndata ${Buffer.byteLength(body)}\n${body}\n`,
    );
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: remote.bare, input: parts.join('') });
}

/** git as a child process, asynchronously: the git server answering it runs in this very process. */
const gitAsync = (args: string[], cwd?: string): Promise<unknown> =>
  promisify(execFile)('git', args, {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });

/** Bytes the server sends for one `git fetch` that finds nothing new. */
async function gitFetchBytes(server: GitServer, clone: string): Promise<number> {
  const before = server.bytesSent;
  await gitAsync(['fetch', '-q', 'origin'], clone);
  return server.bytesSent - before;
}

function dirBytes(path: string): number {
  return readdirSync(path, { withFileTypes: true }).reduce(
    (n, e) => n + (e.isDirectory() ? dirBytes(join(path, e.name)) : statSync(join(path, e.name)).size),
    0,
  );
}

/** The agent as installed, following the remote: commit to applied through POST /api/v1/sync over 200 changes. */
async function agentOverChanges(root: string, cli: string, dir: string, rows: Row[], group: string): Promise<void> {
  const remote = fleetRemote(
    root,
    join(dir, 'agent'),
    { name: 'Bench', email: 'bench@example.test' },
    Date.parse('2026-03-01T00:00:00Z') / 1000,
  );
  const anchor = remote.commit('anchor');
  remote.push();
  const server = await startGitServer(join(dir, 'agent/srv'));
  const children: ChildProcess[] = [];
  try {
    const state = join(dir, 'agent/state');
    const token = addToken(join(dir, 'agent/tokens.yaml'), 'bench', 'operator');
    writeFileSync(
      join(dir, 'agent/agent.yaml'),
      benchDeviceSettings({
        root,
        url: `${server.url}/fleet.git`,
        trustDir: remote.trustDir,
        anchor,
        stateDir: state,
        tokensFile: join(dir, 'agent/tokens.yaml'),
      }),
    );
    children.push(
      spawn(
        process.execPath,
        [
          join(root, 'dist/examples/pipeline/example-pipeline.js'),
          '--components-dir',
          join(state, 'components'),
          '--root',
          join(root, 'examples/device-root'),
        ],
        { stdio: 'ignore' },
      ),
    );
    const agent = spawn(process.execPath, [cli, 'agent', '--config', join(dir, 'agent/agent.yaml'), '--bake', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...AGENT_ENV },
    });
    children.push(agent);
    const api = await new Promise<string>((resolve, reject) => {
      let out = '';
      agent.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /API on (http:\/\/\S+)/.exec(out);
        if (m && /applied [0-9a-f]{12} "anchor"/.test(out)) resolve(m[1]!);
      });
      agent.once('exit', () => reject(new Error(`bench store: the agent exited: ${out.slice(-500)}`)));
    });
    const times: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      remote.edit('config/frame_capture.yaml', / fps: \d+/, ` fps: ${5 + (i % 25)}`);
      remote.commit(`change ${i}`);
      remote.push();
      const t0 = performance.now();
      const r = (await (
        await fetch(`${api}/api/v1/sync`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      ).json()) as { outcome: string };
      times.push(performance.now() - t0);
      if (r.outcome !== 'applied') throw new Error(`bench store: ${JSON.stringify(r)}`);
    }
    const first = median(times.slice(0, 10));
    const last = median(times.slice(-10));
    const packs = readdirSync(join(state, 'repo.git/objects/pack')).filter((f) => f.endsWith('.pack')).length;
    rows.push({
      group,
      name: 'agent: commit to applied through POST /api/v1/sync, changes 1-10, p50',
      value: first,
      unit: 'ms',
    });
    rows.push({
      group,
      name: `agent: commit to applied through POST /api/v1/sync, changes ${CHANGES - 9}-${CHANGES}, p50`,
      value: last,
      unit: 'ms',
      target: 'no growth (< 1.5x)',
      pass: last < first * 1.5,
    });
    rows.push({
      group,
      name: `agent: repo.git after ${CHANGES} applied changes: packs`,
      value: packs,
      unit: 'count',
      target: '<= 8',
      pass: packs <= 8,
    });
    rows.push({
      group,
      name: `agent: repo.git after ${CHANGES} applied changes: size`,
      value: dirBytes(join(state, 'repo.git')) / 2 ** 20,
      unit: 'MB',
    });
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await server.close();
  }
}

export async function benchStore(root: string, cli: string): Promise<Row[]> {
  const group = 'object store';
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  let server: GitServer | undefined;
  try {
    const remote = fleetRemote(
      root,
      dir,
      { name: 'Bench', email: 'bench@example.test' },
      Date.parse('2026-03-01T00:00:00Z') / 1000,
    );
    const anchor = remote.commit('anchor');
    remote.push();
    server = await startGitServer(join(dir, 'srv'));
    const url = `${server.url}/fleet.git`;
    const opts = { url, branch: 'main', maxBytes: 64 << 20, timeoutMs: 60_000 };
    const trust = await loadTrustStore(remote.trustDir);
    mkdirSync(join(dir, 'device'));
    const store = new GitStore(join(dir, 'device/repo.git'));
    let applied = (await store.fetch(opts)).commit;
    await store.settle(undefined, [applied]);
    const clone = join(dir, 'clone');
    await gitAsync(['clone', '-q', url, clone]);

    const poll = async (): Promise<number> => {
      const f = await store.fetch({ ...opts, have: applied });
      if (f.pack) throw new Error('bench store: a no-change poll fetched a pack');
      return f.bytes;
    };
    rows.push({
      group,
      name: 'no-change poll, example repository: bytes received by the agent (no pack asked)',
      value: await poll(),
      unit: 'bytes',
      target: 'no pack',
      pass: true,
    });
    rows.push({
      group,
      name: 'no-change poll, example repository: `git fetch` (protocol v2) on the same remote',
      value: await gitFetchBytes(server, clone),
      unit: 'bytes',
    });

    // 200 signed changes, each fetched, checked against the history policy and settled
    const times: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      remote.edit('config/frame_capture.yaml', / fps: \d+/, ` fps: ${5 + (i % 25)}`);
      const c = remote.commit(`change ${i}`);
      remote.push();
      const t0 = performance.now();
      const f = await store.fetch({ ...opts, have: applied });
      const v = await verifyRange(store.reader(), applied, c, trust, {
        now: Math.floor(Date.now() / 1000) + 86_400 * 365,
        skewSeconds: DEFAULT_SKEW_SECONDS,
        mode: 'all',
      });
      times.push(performance.now() - t0);
      if (v.verdict !== 'trusted') throw new Error(`bench store: ${v.reason}`);
      applied = c;
      store.settleLater(f, [applied, anchor], (e) => {
        throw e;
      });
    }
    await store.settled();
    const usage = store.usage();
    const first = median(times.slice(0, 10));
    const last = median(times.slice(-10));
    rows.push({
      group,
      name: `device store after ${CHANGES} synced changes: packs`,
      value: usage.packs,
      unit: 'count',
      target: '<= 8',
      pass: usage.packs <= 8,
    });
    rows.push({
      group,
      name: `device store after ${CHANGES} synced changes: size`,
      value: usage.bytes / 2 ** 20,
      unit: 'MB',
    });
    rows.push({ group, name: 'fetch + history check of one change, changes 1-10, p50', value: first, unit: 'ms' });
    rows.push({
      group,
      name: `fetch + history check of one change, changes ${CHANGES - 9}-${CHANGES}, p50`,
      value: last,
      unit: 'ms',
      target: 'no growth (< 1.5x)',
      pass: last < first * 1.5,
    });

    // a repository with 10,000 devices
    addDevices(remote, 10_000);
    const big = await store.fetch({ ...opts, have: applied });
    applied = big.commit;
    await store.settle(big, [applied, anchor]);
    await gitAsync(['fetch', '-q', 'origin'], clone);
    rows.push({
      group,
      name: 'no-change poll, 10,000-device repository: bytes received by the agent (no pack asked)',
      value: await poll(),
      unit: 'bytes',
      target: 'no pack',
      pass: true,
    });
    rows.push({
      group,
      name: 'no-change poll, 10,000-device repository: `git fetch` on the same remote',
      value: await gitFetchBytes(server, clone),
      unit: 'bytes',
    });
    await server.close();
    server = undefined;
    await agentOverChanges(root, cli, dir, rows, group);
  } finally {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

// kill -9 at many instants of an apply: after each restart, the release, `current`, last_good
// and what the pipeline runs agree. The pipeline is a separate process that lives on, as the
// components of a real doorbell do.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { treeId } from '../../agent/daemon/watch-source.js';
import { ReleaseStore } from '../../agent/io/release-store.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { startAgent } from '../helpers/agent-process.js';
import { until } from '../helpers/fleet.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('crash safety of the agent', () => {
  const repo = tempDir('crash-repo-');
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(repo, sub), { recursive: true });
  const state = tempDir('crash-state-');
  const pipeline = spawn(
    process.execPath,
    [
      join(PROJECT, 'dist/examples/pipeline/example-pipeline.js'),
      '--components-dir',
      join(state, 'components'),
      '--root',
      join(PROJECT, 'examples/device-root'),
    ],
    { stdio: 'ignore' },
  );
  afterAll(() => void pipeline.kill('SIGKILL'));
  const args = [
    '--watch',
    repo,
    '--env',
    'development',
    '--device',
    'dev-bench-01',
    '--identity',
    join(PROJECT, 'environments/development/keys/dev-bench-01.agekey'),
    '--hardware-profile',
    'recorded',
    '--state',
    state,
    '--listen',
    '127.0.0.1:0',
    '--bake',
    '0.3',
  ];

  it('after SIGKILL at many points of an apply, the device is on one whole release and the pipeline runs it', async () => {
    let midApply = 0;
    for (let i = 0; i < 16; i++) {
      const agent = startAgent(args);
      const api = await agent.api;
      // an edit, then a kill somewhere inside the apply it starts
      const file = join(repo, 'config/frame_capture.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/ fps: \d+/, ` fps: ${10 + (i % 15)}`));
      await sleep(20 + ((i * 97) % 700));
      agent.child.kill('SIGKILL');
      await new Promise((r) => agent.child.once('exit', r));
      // where did the kill land? between writing the new release and recording it as good
      const left = new ReleaseStore(state);
      const leftState = left.readState<{ last_good?: string }>({});
      const target = treeId(readWorkingTree(repo));
      if (left.hasRelease(target) && leftState.last_good !== target) midApply++;

      const again = startAgent(args);
      const url = await again.api;
      const want = treeId(readWorkingTree(repo));
      let s:
        | { current: { commit: string } | null; state: { applied: string; last_good: string; generation: number } }
        | undefined;
      for (let t = 0; t < 200; t++) {
        s = (await (await fetch(`${url}/api/v1/status`)).json()) as typeof s;
        if (s!.state.applied === want) break;
        await sleep(25);
      }
      const why = `iteration ${i}:\n${again.lines.join('\n')}\n${JSON.stringify(s)}`;
      // caught up with the tree, running the last good release, whose configuration is the tree's
      expect(s!.state.applied, why).toBe(want);
      const store = new ReleaseStore(state);
      const running = store.current()!;
      expect(running, why).toBe(s!.state.last_good);
      expect(s!.current!.commit).toBe(running);
      expect(
        (JSON.parse(store.readRelease(running, 'config.json')) as { frame_capture: { fps: number } }).frame_capture.fps,
        why,
      ).toBe(10 + (i % 15));
      // and the pipeline runs exactly that release
      const capture = JSON.parse(readFileSync(join(state, 'components/capture/config.json'), 'utf8')) as {
        commit: string;
        generation: number;
        sections: { frame_capture: { fps: number } };
      };
      expect(capture.commit, why).toBe(running);
      expect(capture.sections.frame_capture.fps).toBe(10 + (i % 15));
      const health = JSON.parse(readFileSync(join(state, 'components/capture/health.json'), 'utf8')) as {
        generation: number;
        healthy: boolean;
      };
      expect(health.healthy).toBe(true);
      await again.stop();
      void api;
    }
    // the kills landed inside applies, not only before or after them
    expect(midApply).toBeGreaterThan(0);
  }, 120_000);

  it('a candidate during whose apply the agent dies twice is marked bad at the next start, not retried for ever', async () => {
    const dir = tempDir('crash-loop-repo-');
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
    const st = tempDir('crash-loop-state-');
    // no pipeline: the agent waits in the accept step for a verdict, where it is killed
    const loopArgs = [
      '--watch',
      dir,
      '--env',
      'development',
      '--device',
      'dev-bench-01',
      '--identity',
      join(PROJECT, 'environments/development/keys/dev-bench-01.agekey'),
      '--hardware-profile',
      'recorded',
      '--state',
      st,
      '--listen',
      '127.0.0.1:0',
    ];
    const proposed = join(st, 'components/capture/proposed.json');
    const tree = treeId(readWorkingTree(dir));
    for (let attempt = 1; attempt <= 2; attempt++) {
      rmSync(proposed, { force: true });
      const agent = startAgent(loopArgs);
      await until(`attempt ${attempt} to propose`, () => existsSync(proposed), Boolean);
      agent.child.kill('SIGKILL');
      await new Promise((r) => agent.child.once('exit', r));
      expect(
        new ReleaseStore(st).readState<{ in_progress: { commit: string; attempts: number } }>({} as never).in_progress,
      ).toEqual({ commit: tree, attempts: attempt });
    }
    rmSync(proposed);
    const agent = startAgent(loopArgs);
    try {
      const api = await agent.api;
      type Status = {
        last_error: { code: string; commit: string } | null;
        last_sync: { result: string; detail?: string } | null;
        state: { bad: string[]; in_progress: unknown };
      };
      const s = await until(
        'the first sync after the restart',
        async () => (await (await fetch(`${api}/api/v1/status`)).json()) as Status,
        (v) => v.last_sync !== null,
      );
      expect(s.last_error).toMatchObject({ code: 'crash-loop', commit: tree });
      expect(s.state.bad).toContain(tree);
      expect(s.state.in_progress).toBeNull();
      expect(s.last_sync!.result).toBe('held');
      expect(s.last_sync!.detail).toMatch(/ stopped the agent while it was applied/);
      expect(existsSync(proposed)).toBe(false);
      const journal = readFileSync(join(st, 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; code?: string });
      expect(journal.filter((e) => e.event === 'refused' && e.code === 'crash-loop')).toHaveLength(1);
    } finally {
      await agent.stop();
    }
  }, 120_000);
});

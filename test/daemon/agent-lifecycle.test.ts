// Starting and stopping the watch-mode agent as an operator does: mistyped names are a usage
// error at once; SIGTERM ends it within seconds whatever it is doing; an operator's rollback
// holds until the tree changes, and a restart applies the files on disk.

import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { gitops } from '../helpers/cli.js';
import { until } from '../helpers/fleet.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const key = join(PROJECT, 'environments/development/keys/dev-bench-01.agekey');
const copy = (): string => {
  const dir = tempDir('lifecycle-repo-');
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
  return dir;
};
const watchArgs = (dir: string, extra: string[] = []): string[] => [
  '--watch',
  dir,
  '--env',
  'development',
  '--device',
  'dev-bench-01',
  '--identity',
  key,
  '--hardware-profile',
  'recorded',
  '--state',
  join(dir, '.state'),
  '--listen',
  '127.0.0.1:0',
  ...extra,
];
const setFps = (dir: string, fps: number): void => {
  const file = join(dir, 'config/frame_capture.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/ {2}fps: \d+/, `  fps: ${fps}`));
};
interface Status {
  current: { commit: string } | null;
  last_sync: { trigger: string; result: string; detail?: string; time: string } | null;
}
const status = async (api: string): Promise<Status> => (await (await fetch(`${api}/api/v1/status`)).json()) as Status;
/** SIGTERM, then the exit: well within the deadline, whatever the agent was doing. */
const terminated = async (agent: AgentProcess): Promise<number | null> => {
  agent.child.kill('SIGTERM');
  await until(
    'the agent to exit after SIGTERM',
    () => agent.child.exitCode,
    (c) => c !== null,
    15_000,
  );
  return agent.child.exitCode;
};

describe('the watch-mode agent at start and stop', () => {
  it('a mistyped --env or --device is a usage error (exit 2) with "did you mean", before anything runs', () => {
    const dir = copy();
    const env = gitops([
      'agent',
      '--watch',
      dir,
      '--env',
      'developmnt',
      '--device',
      'dev-bench-01',
      '--state',
      join(dir, '.state'),
    ]);
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('Did you mean "development"?');
    const device = gitops([
      'agent',
      '--watch',
      dir,
      '--env',
      'development',
      '--device',
      'dev-bench-1',
      '--state',
      join(dir, '.state'),
    ]);
    expect(device.status).toBe(2);
    expect(device.stderr).toContain('Did you mean "dev-bench-01"?');
    expect(existsSync(join(dir, '.state'))).toBe(false);
  });

  it('ends within seconds of SIGTERM while waiting for a component, in the middle of a bake, and idle', async () => {
    // no pipeline: it waits for verdicts that never come
    const waiting = copy();
    const a = startAgent(watchArgs(waiting));
    await until(
      'a proposal to the capture component',
      () => existsSync(join(waiting, '.state/components/capture/proposed.json')),
      Boolean,
    );
    expect(await terminated(a)).toBe(0);

    // a bake of a minute, stopped in its first seconds; then idle
    const baking = copy();
    const b = startAgent(watchArgs(baking, ['--bake', '60', '--with-example-pipeline']));
    await until(
      'the configuration delivered',
      () => existsSync(join(baking, '.state/components/capture/config.json')),
      Boolean,
      30_000,
    );
    expect(await terminated(b)).toBe(0);

    const idle = copy();
    const c = startAgent(watchArgs(idle, ['--bake', '0', '--with-example-pipeline']));
    const api = await c.api;
    await until(
      'the first apply',
      () => status(api),
      (s) => s.current !== null,
      30_000,
    );
    expect(await terminated(c)).toBe(0);
  }, 120_000);

  it('an operator rollback holds until the tree changes, and says so; a restart applies the working tree', async () => {
    const dir = copy();
    const args = watchArgs(dir, ['--bake', '0', '--with-example-pipeline']);
    let agent = startAgent(args);
    try {
      const api = await agent.api;
      const token = /#token=(dbt_\S+)/.exec(await agent.waitFor(/#token=dbt_/))![1]!;
      const first = await until(
        'the first apply',
        () => status(api),
        (s) => s.current !== null,
        30_000,
      );
      setFps(dir, 9);
      const second = await until(
        'the edit applied',
        () => status(api),
        (s) => s.current !== null && s.current.commit !== first.current!.commit,
        30_000,
      );
      const rollBack = async (reason: string): Promise<string> => {
        const r = await fetch(`${api}/api/v1/rollback`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason }),
        });
        expect(r.status, await r.clone().text()).toBe(200);
        return ((await r.json()) as { commit: string }).commit;
      };
      expect(await rollBack('fps 9 is too slow')).toBe(first.current!.commit);
      // last_good is the release last found good, the one running now; previous is the one before
      const toLastGood = await fetch(`${api}/api/v1/rollback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: 'last_good' }),
      });
      expect(toLastGood.status).toBe(409);
      expect(await toLastGood.json()).toMatchObject({ code: 'already-running' });
      // the watcher reads the same tree again (a signal asks for it): the rollback holds, and says so
      const before = (await status(api)).last_sync?.time;
      agent.child.kill('SIGHUP');
      const held = await until(
        'the signalled sync',
        () => status(api),
        (s) => s.last_sync?.trigger === 'signal' && s.last_sync.time !== before,
      );
      expect(held.current!.commit).toBe(first.current!.commit);
      expect(held.last_sync!.result).toBe('held');
      expect(held.last_sync!.detail).toMatch(
        new RegExp(`^the working tree is ${second.current!.commit}, which was rolled back`),
      );
      // a change of the tree is applied again
      setFps(dir, 11);
      const third = await until(
        'the next edit applied',
        () => status(api),
        (s) => s.current !== null && ![first, second].some((x) => x.current!.commit === s.current!.commit),
        30_000,
      );
      // rolled back once more, then a restart: the files on disk run again
      expect(await rollBack('night test')).toBe(first.current!.commit);
      await agent.stop();
      agent = startAgent(args);
      const api2 = await agent.api;
      const again = await until(
        'the first sync after the restart',
        () => status(api2),
        (s) => s.last_sync?.trigger === 'start',
        30_000,
      );
      expect(again.current!.commit).toBe(third.current!.commit);
    } finally {
      await agent.stop();
    }
  }, 120_000);
});

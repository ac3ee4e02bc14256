// The agent following its wave's ref (issue 15, item 2) end to end: the real agent process, a
// real git server (git http-backend) holding main and the rollout refs, commits signed with a
// key made for this run. The device takes a change only when its wave's ref has it, refuses a
// ref moved back, holds while its wave's ref does not exist, and follows a new wave when the
// release it runs puts it there.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignWave, waveRef } from '../../agent/core/rollout/waves.js';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { signedFleet } from '../helpers/fleet.js';
import type { SignedFleet } from '../helpers/fleet.js';
import { tempDir } from '../helpers/project.js';
import { bearer } from '../helpers/tokens.js';

interface Result {
  outcome: string;
  commit?: string;
  code?: string;
}
interface Status {
  current: { commit: string } | null;
  last_sync: { result: string; detail?: string } | null;
  state: { following: { wave: string; ref: string } | null; last_error: { code: string } | null };
}

const ENV_FILE = 'environments/development/environment.yaml';
const DEVICE_FILE = 'environments/development/devices/dev-bench-01.yaml';
const ROLLOUT = [
  'rollout:',
  '  seed: dev-1',
  '  waves:',
  '    - { name: canary, share: 50, bake: 1s }',
  '    - { name: rest, bake: 0 }',
  '',
];

describe('the agent following the ref of its wave', () => {
  let fleet: SignedFleet;
  let agent: AgentProcess;
  let api = '';
  let declared = '';
  // the bench device's file gives it the cohort canary; its bucket alone would put it here
  const mine = 'canary';
  const other = 'rest';
  const byBucket = assignWave(
    {
      seed: 'dev-1',
      waves: [
        { name: 'canary', share: 50, bakeSeconds: 1 },
        { name: 'rest', share: 50, bakeSeconds: 0 },
      ],
    },
    { id: 'dev-bench-01' },
  ).wave;
  const ref = (wave: string): string => waveRef('development', wave);

  const sync = async (): Promise<Result> =>
    (await (
      await fetch(`${api}/api/v1/sync`, { method: 'POST', headers: bearer(fleet.tokens.operator) })
    ).json()) as Result;
  const status = async (): Promise<Status> => (await (await fetch(`${api}/api/v1/status`)).json()) as Status;
  const write = (file: string, edit: (text: string) => string): void => {
    const path = join(fleet.work.dir, file);
    writeFileSync(path, edit(readFileSync(path, 'utf8')));
  };

  beforeAll(async () => {
    fleet = await signedFleet();
    write(ENV_FILE, (t) => `${t.trimEnd()}\n${ROLLOUT.join('\n')}`);
    declared = fleet.commit('development declares a rollout');
    fleet.push();
    fleet.pushRef(declared, ref(mine));
    const dir = tempDir('rollout-agent-');
    // polls once an hour: every sync of this test is asked for through the API
    agent = startAgent(['--config', fleet.settings(dir, join(dir, 'state')), '--with-example-pipeline']);
    api = await agent.api;
    await agent.waitFor(new RegExp(`applied ${declared.slice(0, 12)}`));
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await fleet?.server.close();
  });

  it('the first sync reads the rollout from the branch, fetches its wave ref and applies what it points at', async () => {
    const s = await status();
    expect(s.current?.commit).toBe(declared);
    expect(s.state.following).toEqual({ wave: mine, ref: ref(mine) });
  });

  it('a commit on main alone is not taken; once its wave ref has it, it is applied', async () => {
    write('config/frame_capture.yaml', (t) => t.replace(/fps: \d+/, 'fps: 12'));
    const change = fleet.commit('frame capture at 12 fps');
    fleet.push();
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    expect((await status()).current?.commit).toBe(declared);
    fleet.pushRef(change, ref(mine));
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: change });
  });

  it('its wave ref moved back to an older commit is refused: no rollback through a ref', async () => {
    const running = (await status()).current!.commit;
    fleet.pushRef(declared, ref(mine));
    const r = await sync();
    expect(r).toMatchObject({ outcome: 'refused', commit: declared });
    const s = await status();
    expect(s.current?.commit).toBe(running);
    expect(s.state.last_error?.code).toBe('policy'); // the history policy: an ancestor of what runs
    fleet.pushRef(running, ref(mine));
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
  });

  it('while its wave ref does not exist the device holds and says which ref it waits for', async () => {
    const running = (await status()).current!.commit;
    fleet.deleteRef(ref(mine));
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    const s = await status();
    expect(s.last_sync).toMatchObject({ result: 'held', detail: expect.stringContaining(ref(mine)) });
    expect(s.current?.commit).toBe(running);
    fleet.pushRef(running, ref(mine));
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    expect((await status()).last_sync?.result).toBe('up to date');
  });

  it('a release that changes the device cohort moves it to that wave from the next sync on', async () => {
    write(DEVICE_FILE, (t) => t.replace('  cohort: canary\n', `  cohort: ${other}\n`));
    const moved = fleet.commit(`dev-bench-01 joins ${other}`);
    fleet.push();
    fleet.pushRef(moved, ref(mine));
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: moved });
    // the other wave has not had it yet: its ref is behind what runs, and that is no rollback to take
    fleet.pushRef(moved, ref(other));
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    expect((await status()).state.following).toEqual({ wave: other, ref: ref(other) });
    write('config/frame_capture.yaml', (t) => t.replace(/fps: \d+/, 'fps: 10'));
    const later = fleet.commit('frame capture at 10 fps');
    fleet.push();
    fleet.pushRef(later, ref(mine));
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    fleet.pushRef(later, ref(other));
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: later });
  });

  it('without a cohort the bucket of its id decides', async () => {
    write(DEVICE_FILE, (t) => t.replace(`  cohort: ${other}\n`, ''));
    const bucketed = fleet.commit('dev-bench-01 goes by its bucket');
    fleet.push();
    fleet.pushRef(bucketed, ref(other));
    fleet.pushRef(bucketed, ref(mine));
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: bucketed });
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    expect((await status()).state.following).toEqual({ wave: byBucket, ref: ref(byBucket) });
  });
});

// Doorbells without a real-time clock boot with the wrong time and have it set later. The agent
// runs under libfaketime (Debian `faketime`) with the wall clock moved by hours while it works,
// the monotonic clock left alone as the kernel leaves it: bakes last their time, the rate
// limiter does not lock an operator out.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { signedFleet, until } from '../helpers/fleet.js';
import type { SignedFleet } from '../helpers/fleet.js';
import { tempDir } from '../helpers/project.js';
import { bearer } from '../helpers/tokens.js';

const libfaketime = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']
  .map((d) => join(d, 'faketime'))
  .filter((d) => existsSync(d))
  .flatMap((d) =>
    readdirSync(d)
      .filter((f) => f === 'libfaketime.so.1')
      .map((f) => join(d, f)),
  )[0];
if (!libfaketime)
  console.log(
    'NOTE: libfaketime is not installed: the clock tests are skipped (bash .ci/run installs Debian faketime).',
  );

interface Applied {
  event: string;
  commit: string;
  steps?: Record<string, number>;
}

describe.runIf(libfaketime)('the agent when the wall clock jumps', () => {
  const state = tempDir('clock-state-');
  const clockFile = join(tempDir('clock-'), 'faketime');
  const setClock = (offset: string): void => writeFileSync(clockFile, `${offset}\n`);
  let fleet: SignedFleet;
  let agent: AgentProcess;
  let api = '';
  const capture = (): { commit: string } =>
    JSON.parse(readFileSync(join(state, 'components/capture/config.json'), 'utf8')) as { commit: string };
  const sync = async (): Promise<Response> =>
    fetch(`${api}/api/v1/sync`, { method: 'POST', headers: bearer(fleet.tokens.operator) });
  const journal = (): Applied[] =>
    readFileSync(join(state, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Applied);
  let fps = 15;
  /** A signed change of the frame rate, pushed; the sync is asked for and not awaited. */
  const change = (): { commit: string; answer: Promise<Response> } => {
    const file = join(fleet.work.dir, 'config/frame_capture.yaml');
    const next = fps === 15 ? 12 : fps - 1;
    writeFileSync(file, readFileSync(file, 'utf8').replace(`  fps: ${fps}`, `  fps: ${next}`));
    fps = next;
    const commit = fleet.commit(`fps ${next}`);
    fleet.push();
    return { commit, answer: sync() };
  };

  beforeAll(async () => {
    setClock('+0');
    fleet = await signedFleet();
    const env = {
      LD_PRELOAD: libfaketime!,
      FAKETIME_TIMESTAMP_FILE: clockFile,
      FAKETIME_NO_CACHE: '1',
      DONT_FAKE_MONOTONIC: '1',
    };
    agent = startAgent(
      ['--config', fleet.settings(state, state, { mutationsPerMinute: 6 }), '--bake', '2', '--with-example-pipeline'],
      env,
    );
    api = await agent.api;
    await until(
      'the anchor applied',
      () => (existsSync(join(state, 'components/capture/config.json')) ? capture().commit : ''),
      (c) => c === fleet.anchor,
      60_000,
    );
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await fleet?.server.close();
  });

  it.each([
    ['set back an hour', '-1h'],
    ['set forward an hour', '+1h'],
  ])(
    'a bake lasts its time when the clock is %s in the middle of it',
    async (_name, offset) => {
      const { commit, answer } = change();
      // delivered: the bake has begun
      await until('the new configuration delivered', capture, (c) => c.commit === commit, 60_000);
      setClock(offset);
      const result = (await (await answer).json()) as { outcome: string; commit: string };
      expect(result).toMatchObject({ outcome: 'applied', commit });
      const applied = journal().find((e) => e.event === 'applied' && e.commit === commit)!;
      // two seconds of bake on the monotonic clock, not an hour and not none
      expect(applied.steps!.bake).toBeGreaterThanOrEqual(2000);
    },
    90_000,
  );

  it("a commit dated in the future of the device's clock is refused for now, and applied once the clock is right", async () => {
    // the commits are dated March 2026: ten months back, the device sees them in its future
    setClock('-300d');
    const { commit, answer } = change();
    expect(await (await answer).json()).toMatchObject({ outcome: 'refused', commit });
    const status = (await (await fetch(`${api}/api/v1/status`)).json()) as {
      last_error: { code: string; commit: string };
      state: { bad: string[] };
    };
    expect(status.last_error).toMatchObject({ code: 'future-dated', commit });
    expect(status.state.bad).not.toContain(commit);
    setClock('+0');
    expect(await (await sync()).json()).toMatchObject({ outcome: 'applied', commit });
  }, 90_000);

  it('the rate limiter does not lock an operator out when the clock is set back', async () => {
    setClock('+1h');
    expect((await sync()).status).toBe(200);
    setClock('-2h');
    const r = await sync();
    expect(r.status, await r.text()).toBe(200);
  }, 60_000);
});

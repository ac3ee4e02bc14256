// The agent's object store with real parts: the agent as a process following a smart-HTTP git
// server on 127.0.0.1 (git http-backend), commits signed with a key made for this run. A
// no-change poll asks for no pack, a change fetches what is new, refused pushes leave the store
// as it was, and a remote that advertises 500,000 refs or sends a huge object is refused with
// its code while the agent keeps running.

import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetRemote } from '../../devtools/fleet-remote.js';
import { benchDeviceSettings } from '../../devtools/bench-device.js';
import { startFollowing } from '../helpers/agent-process.js';
import { requestFresh } from '../helpers/fleet.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { run } from '../helpers/git.js';
import { startGitServer } from '../helpers/git-server.js';
import type { GitServer } from '../helpers/git-server.js';
import { PROJECT, tempDir } from '../helpers/project.js';
import { apiTokens, bearer } from '../helpers/tokens.js';

interface Result {
  outcome: string;
  commit: string;
  reason?: string;
}

function dirBytes(path: string): number {
  return readdirSync(path, { withFileTypes: true }).reduce(
    (n, e) => n + (e.isDirectory() ? dirBytes(join(path, e.name)) : statSync(join(path, e.name)).size),
    0,
  );
}

const peakRssMb = (pid: number): number =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe("the agent's object store", () => {
  const dir = tempDir('agent-store-');
  const remote = fleetRemote(
    PROJECT,
    dir,
    { name: 'Alice', email: 'alice@example.test' },
    Date.parse('2026-03-01T10:00:00Z') / 1000,
  );
  const state = join(dir, 'state');
  const tokens = apiTokens();
  let server: GitServer;
  let agent: AgentProcess;
  let api = '';
  let good = '';
  const objects = (): number => dirBytes(join(state, 'repo.git/objects'));
  // every call on a connection of its own: the test blocks for seconds making huge commits and refs
  const sync = async (): Promise<Result> =>
    JSON.parse(
      (await requestFresh(`${api}/api/v1/sync`, { method: 'POST', headers: bearer(tokens.operator) })).text,
    ) as Result;
  const lastError = async (): Promise<{ code: string } | null> =>
    (
      JSON.parse((await requestFresh(`${api}/api/v1/status`)).text) as {
        state: { last_error: { code: string } | null };
      }
    ).state.last_error;
  const commitAndPush = (message: string, signed = true): string => {
    const c = remote.commit(message, signed);
    remote.push();
    return c;
  };

  beforeAll(async () => {
    good = commitAndPush('the fleet configuration');
    server = await startGitServer(join(dir, 'srv'));
    writeFileSync(
      join(dir, 'agent.yaml'),
      benchDeviceSettings({
        root: PROJECT,
        url: `${server.url}/fleet.git`,
        trustDir: remote.trustDir,
        anchor: good,
        stateDir: state,
        tokensFile: tokens.file,
      }),
    );
    ({ agent, api } = await startFollowing(join(dir, 'agent.yaml'), ['--bake', '0']));
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await server?.close();
  });

  it('a no-change poll asks for no pack and costs under a kilobyte; a change fetches what is new, not the history', async () => {
    const asked = server.packRequests;
    const sent = server.bytesSent;
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    expect(server.packRequests).toBe(asked);
    expect(server.bytesSent - sent).toBeLessThan(1024);

    remote.edit('config/frame_capture.yaml', / fps: \d+/, ' fps: 12');
    good = commitAndPush('fps 12');
    const before = server.bytesSent;
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: good });
    const history = run('git', ['rev-list', '--objects', 'main'], { cwd: remote.bare })
      .toString()
      .split('\n')
      .map((l) => l.split(' ')[0])
      .join('\n');
    const whole = run('git', ['pack-objects', '--stdout'], { cwd: remote.bare, input: history }).length;
    expect(server.packRequests).toBe(asked + 1);
    expect(server.bytesSent - before).toBeLessThan(whole / 4);
  });

  it('three refused pushes of 1 MiB each leave the store as it was; a refused head is not fetched again', async () => {
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    const before = objects();
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(remote.work, `noise-${i}.bin`), run('head', ['-c', String(1 << 20), '/dev/urandom']));
      const c = commitAndPush(`noise ${i}`, false);
      expect(await sync()).toMatchObject({ outcome: 'refused', commit: c });
      expect(await lastError()).toMatchObject({ code: 'unsigned' });
    }
    const asked = server.packRequests;
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    expect(server.packRequests).toBe(asked);
    run('git', ['reset', '-q', '--hard', good], { cwd: remote.work, env: remote.env as Record<string, string> });
    remote.push();
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    expect(objects()).toBe(before);
  });

  it('a remote advertising 500,000 refs: a change cannot be fetched (its code), the agent keeps running and syncs again once the remote is fixed', async () => {
    const packed = join(remote.bare, 'packed-refs');
    const original = existsSync(packed) ? readFileSync(packed, 'utf8') : undefined;
    const lines = Array.from({ length: 500_000 }, (_, i) => `${good} refs/heads/device/${String(i).padStart(6, '0')}`);
    writeFileSync(packed, `${original ?? ''}${lines.join('\n')}\n`);
    remote.edit('config/frame_capture.yaml', / fps: \d+/, ' fps: 14');
    commitAndPush('fps 14, among 500,000 refs');
    const r = await requestFresh(`${api}/api/v1/sync`, { method: 'POST', headers: bearer(tokens.operator) });
    expect(r.status).toBe(200);
    expect(await lastError()).toMatchObject({ code: 'sync-too-many-refs' });
    if (original === undefined) rmSync(packed);
    else writeFileSync(packed, original);
    remote.edit('config/frame_capture.yaml', / fps: \d+/, ' fps: 11');
    good = commitAndPush('fps 11');
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: good });
  }, 60_000);

  it('a 128 MiB object (128 KiB on the wire) is refused before it is inflated: no memory spent on it, nothing kept', async () => {
    const before = objects();
    const peak = peakRssMb(agent.child.pid!);
    writeFileSync(join(remote.work, 'zeros.bin'), Buffer.alloc(128 << 20));
    commitAndPush('a large blob');
    expect(
      (await requestFresh(`${api}/api/v1/sync`, { method: 'POST', headers: bearer(tokens.operator) })).status,
    ).toBe(200);
    expect(await lastError()).toMatchObject({ code: 'sync-object-too-large' });
    expect(peakRssMb(agent.child.pid!) - peak).toBeLessThan(48);
    expect(objects()).toBe(before);
    // the operator takes it out of the history again; the device goes on
    rmSync(join(remote.work, 'zeros.bin'));
    run('git', ['reset', '-q', '--hard', good], { cwd: remote.work, env: remote.env as Record<string, string> });
    remote.edit('config/frame_capture.yaml', / fps: \d+/, ' fps: 10');
    good = commitAndPush('fps 10');
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: good });
  }, 60_000);
});

// Runtime adjustments end to end: the real agent (watch mode) with the example pipeline as its
// components. An operator's lease reaches the pipeline live and expires back; a lease the
// pipeline cannot keep up with is rolled back and journaled; synthetic load makes the detector
// fall behind, the load governor steps down until it keeps up, and steps back up after the load
// is gone and the dwell has passed.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import { benchWatchArgs } from '../helpers/watch-agent.js';
import { until } from '../helpers/fleet.js';
import { fastGovernor } from '../helpers/fast-governor.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { PROJECT, tempDir } from '../helpers/project.js';

/** A copy of the example repository, changed by `change` (path -> text -> text). */
function copy(change: Record<string, (text: string) => string> = {}): string {
  const dir = tempDir('leases-e2e-');
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
  for (const [path, fn] of Object.entries(change))
    writeFileSync(join(dir, path), fn(readFileSync(join(dir, path), 'utf8')));
  return dir;
}

/** The agent in watch mode with the example pipeline, and a client of its API with the session's operator token. */
async function agentOn(dir: string): Promise<{
  agent: AgentProcess;
  state: string;
  call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;
}> {
  const state = join(dir, '.state');
  const agent = startAgent(benchWatchArgs(dir, ['--with-example-pipeline']));
  const page = await agent.waitFor(/status page: (\S+)#token=(\S+)/);
  const [, url, token] = /status page: (\S+?)\/?#token=(\S+)/.exec(page)!;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  return { agent, state, call };
}

describe('runtime adjustments with the real agent and the example pipeline', () => {
  it('an operator lease is applied live and expires back; one the pipeline cannot keep up with is rolled back', async () => {
    const { agent, state, call } = await agentOn(copy());
    try {
      await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 15 fps/);
      await agent.waitFor(/applied tree-/);
      const mark = agent.lines.length;
      const set = await call('PUT', '/api/v1/tunables/frame_capture.fps', { value: 9, ttl: '4s', reason: 'e2e' });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      expect(set.body).toMatchObject({ outcome: 'applied', value: 9, winner: 'operator', components: ['capture'] });
      await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 9 fps/, 10_000, mark);
      // the lease ends by itself: the signed 15 fps again, within a tick of its expiry
      await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 15 fps/, 20_000, mark);
      // journaled once the delivery is judged
      const journal = await until(
        'the expiry in the journal',
        async () => (await call('GET', '/api/v1/journal?limit=50')).body as unknown as Array<Record<string, unknown>>,
        (j) => j.some((e) => e.event === 'lease-expired'),
      );
      expect(journal.map((e) => e.event)).toContain('lease-set');
      expect(journal.find((e) => e.event === 'lease-expired')).toMatchObject({
        path: 'frame_capture.fps',
        actor: 'this-session',
      });

      // thirty times the work per frame: at 30 fps a frame costs more than two frame periods
      writeFileSync(join(state, 'components/synthetic-load'), '30\n');
      await agent.waitFor(/\[pipeline\] load: synthetic load x30/, 10_000);
      const sick = await call('PUT', '/api/v1/tunables/frame_capture.fps', {
        value: 30,
        ttl: '10m',
        reason: 'smoother',
      });
      expect([sick.status, sick.body.code], JSON.stringify(sick.body)).toEqual([409, 'lease-rolled-back']);
      expect(String(sick.body.message)).toMatch(/a frame costs the detectors 75 ms/);
      const after = (await call('GET', '/api/v1/journal?limit=5')).body as unknown as Array<Record<string, unknown>>;
      expect(after.at(-1)).toMatchObject({ event: 'lease-rolled-back', code: 'unhealthy', value: 30 });
      expect(
        JSON.parse(readFileSync(join(state, 'components/capture/config.json'), 'utf8')).sections.frame_capture.fps,
      ).toBe(15);
      const tunables = (await call('GET', '/api/v1/tunables')).body as { leases: unknown[] };
      expect(tunables.leases).toEqual([]);
    } finally {
      await agent.stop();
    }
  }, 90_000);

  it('synthetic load: the governor steps down until the detector keeps up, and back up after the load is gone', async () => {
    const { agent, state, call } = await agentOn(copy({ 'config/load_governor.yaml': fastGovernor }));
    try {
      await agent.waitFor(/applied tree-/);
      await agent.waitFor(/\[pipeline\] detector: running person on cuda/);
      writeFileSync(join(state, 'components/synthetic-load'), '40\n');
      await agent.waitFor(/\[pipeline\] detector: overloaded/, 15_000);
      await agent.waitFor(/governor: step 0 -> 1/, 20_000);
      // 10 fps, then every other frame: 60 ms a frame at 10 fps, the detector keeps up
      await agent.waitFor(/governor: step 2 -> 3/, 30_000);
      await agent.waitFor(/\[pipeline\] detector: running person on cuda every 2 frames/, 20_000);
      await agent.waitFor(/\[pipeline\] detector: keeping up/, 20_000);
      type Held = { governor: { step: number }; leases: Array<{ owner: string; path: string }> };
      // the step's leases are in force once their delivery is judged
      const held = await until(
        'the governor leases of step 3',
        async () => (await call('GET', '/api/v1/tunables')).body as unknown as Held,
        (h) => h.leases.some((l) => l.path === 'detectors.person.frame_interval'),
      );
      expect(held.governor.step).toBeGreaterThanOrEqual(3);
      expect(held.leases.filter((l) => l.owner === 'governor').map((l) => l.path)).toEqual(
        expect.arrayContaining(['frame_capture.fps', 'detectors.person.frame_interval']),
      );
      const metrics = await fetch(`${/API on (http:\/\/\S+)/.exec(agent.lines.join('\n'))![1]}/metrics`).then((r) =>
        r.text(),
      );
      expect(metrics).toMatch(/doorbell_agent_governor_step [3-5]/);

      // the load is gone: back up one step at a time, after the dwell
      writeFileSync(join(state, 'components/synthetic-load'), '1\n');
      const calm = agent.lines.length;
      await agent.waitFor(/governor: step 1 -> 0/, 60_000);
      await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 15 fps/, 20_000, calm);
      const journal = (await call('GET', '/api/v1/journal?limit=200')).body as unknown as Array<
        Record<string, unknown>
      >;
      const moves = journal.filter((e) => e.event === 'governor-step');
      const ups = moves.filter((m) => Number(m.to) < Number(m.from)).map((m) => Date.parse(String(m.time)));
      // the journal's times are taken a few ms after the governor's own, on the wall clock
      for (let i = 1; i < ups.length; i++) expect(ups[i]! - ups[i - 1]!).toBeGreaterThanOrEqual(4000 - 100);
      expect((await call('GET', '/api/v1/tunables')).body).toMatchObject({ leases: [], governor: { step: 0 } });
    } finally {
      await agent.stop();
    }
  }, 150_000);
});

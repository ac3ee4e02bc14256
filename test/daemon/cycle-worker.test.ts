// The cycle worker as the agent runs it, end to end (a real agent process, a real git server):
// a candidate whose cycle needs more memory than the worker may use is refused as cycle-limit
// and marked bad, while the agent goes on answering its API; with the worker's normal limit the
// same commit is applied.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { signedFleet, until } from '../helpers/fleet.js';
import type { SignedFleet } from '../helpers/fleet.js';
import { tempDir } from '../helpers/project.js';

describe('the cycle worker', () => {
  let fleet: SignedFleet;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    fleet = await signedFleet();
  }, 60_000);

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await fleet?.server.close();
  });

  const status = async (api: string) =>
    (await (await fetch(`${api}/api/v1/status`)).json()) as {
      state: { last_error: { code: string; commit: string } | null; bad: string[]; applied: string | null };
    };

  it('a cycle that exhausts the worker is refused as cycle-limit; the agent answers on', async () => {
    const state = tempDir('cycle-limit-');
    // following the branch itself: the candidate is opened (fetched, verified, read) in the worker
    const settings = fleet.settings(state, state, { remote: { follow: 'branch' } });
    const agent = startAgent(['--config', settings, '--bake', '0'], { DOORBELL_CYCLE_WORKER_HEAP_MB: '4' });
    agents.push(agent);
    const api = await agent.api;
    await agent.waitFor(/refused [0-9a-f]{12}: the cycle needed more memory than its worker may use \(4 MB\)/);
    const s = await until(
      'the refusal in the status',
      () => status(api),
      (x) => x.state.last_error !== null,
    );
    expect(s.state.last_error).toMatchObject({ code: 'cycle-limit', commit: fleet.anchor });
    expect(s.state.bad).toContain(fleet.anchor);
    expect(s.state.applied).toBeNull();
    const refused = readFileSync(join(state, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; code?: string })
      .filter((e) => e.event === 'refused');
    expect(refused.map((e) => e.code)).toEqual(['cycle-limit']);
  });

  it('with its normal limit the same commit is applied', async () => {
    const state = tempDir('cycle-ok-');
    const agent = startAgent(['--config', fleet.settings(state, state), '--bake', '0', '--with-example-pipeline']);
    agents.push(agent);
    const api = await agent.api;
    await agent.waitFor(/applied [0-9a-f]{12} "the fleet configuration"/);
    expect((await status(api)).state.applied).toBe(fleet.anchor);
  });
});

// State that used to need a human: a deleted `current` link, a state.json of the wrong shape or
// not JSON at all. The agent repairs or rebuilds, says so in its journal, and runs on.

import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import { until } from '../helpers/fleet.js';
import { PROJECT, tempDir } from '../helpers/project.js';

interface Status {
  current: { commit: string } | null;
  state: { applied: string | null; last_good: string | null; generation: number };
}

describe('the agent repairs its own state at start', () => {
  const repo = tempDir('state-repo-');
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(repo, sub), { recursive: true });
  const state = tempDir('state-dir-');
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
    '0',
    '--with-example-pipeline',
  ];
  const journal = (): Array<{ event: string; reason?: string; commit?: string }> =>
    readFileSync(join(state, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  /** Runs the agent until it runs a release and its pipeline is healthy; returns its status. */
  const runOnce = async (): Promise<Status> => {
    const agent = startAgent(args);
    try {
      const api = await agent.api;
      return await until(
        'a running release',
        async () => (await (await fetch(`${api}/api/v1/status`)).json()) as Status,
        (s) => s.current !== null && s.state.applied === s.current.commit,
        60_000,
      );
    } finally {
      await agent.stop();
    }
  };

  it('a deleted current link is repaired from last good; a state.json of the wrong shape, or not JSON, is set aside and rebuilt', async () => {
    const first = await runOnce();
    const running = first.current!.commit;

    rmSync(join(state, 'current'));
    const repaired = await runOnce();
    expect(repaired.current!.commit).toBe(running);
    expect(
      journal().filter((e) => e.event === 'recovered' && /current link was missing/.test(e.reason ?? '')),
    ).toHaveLength(1);

    for (const [bad, count] of [
      ['{"good": 5, "bad": "x"}', 1],
      ['[1, 2', 2],
    ] as const) {
      const generation = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).generation as number;
      writeFileSync(join(state, 'state.json'), bad);
      const rebuilt = await runOnce();
      expect(rebuilt.current!.commit).toBe(running);
      expect(rebuilt.state.last_good).toBe(running);
      // generations only grow: the components never mistake a new proposal for an old one
      expect(rebuilt.state.generation).toBeGreaterThan(generation);
      expect(
        journal().filter((e) => e.event === 'recovered' && /state\.json was not an agent state/.test(e.reason ?? '')),
      ).toHaveLength(count);
      const aside = readdirSync(state).filter((f) => f.startsWith('state.json.bad-'));
      expect(aside).toHaveLength(count);
      expect(aside.map((f) => readFileSync(join(state, f), 'utf8'))).toContain(bad);
    }
  }, 180_000);
});

// The agent's health monitor with real component files: a component that stops reporting is
// one state change in the journal, however long it stays silent, and one more when it is back.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { FILES } from '../../agent/core/contracts/protocol.js';
import { writeProtocolFile } from '../../agent/io/protocol-files.js';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import { buildDaemon } from '../../agent/daemon/main.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { Redactor } from '../../agent/io/redactor.js';
import { loadIdentities } from '../../agent/io/sops-keys.js';
import { until } from '../helpers/fleet.js';
import { PROJECT, tempDir } from '../helpers/project.js';

describe('health monitoring', () => {
  it('a component that stays silent is journaled once as unhealthy, once as healthy again', async () => {
    const stateDir = tempDir('health-state-');
    const profile = parse(readFileSync(join(PROJECT, 'config/hardware/edge-p4-c920.yaml'), 'utf8')) as HardwareProfile;
    const { agent, health, delivery, store } = buildDaemon({
      environment: 'development',
      device: 'dev-bench-01',
      stateDir,
      identities: await loadIdentities([join(PROJECT, 'environments/development/keys/dev-bench-01.agekey')]),
      hardwareProfile: async () => profile,
      watchMode: true,
      env: {},
      redactor: new Redactor(),
    });
    await agent.stage(
      readWorkingTree(PROJECT),
      { commit: 'tree-0000000000000001', trigger: 'test' },
      (id) => store.switchCurrent(id),
      { bad: [], generation: 0 },
    );
    const components = Object.keys(
      (JSON.parse(readFileSync(join(stateDir, 'current', 'config.json'), 'utf8')) as { components: object }).components,
    );
    const report = (): void => {
      for (const name of components)
        writeProtocolFile(delivery.dirOf(name), FILES.health, {
          generation: 0,
          healthy: true,
          time: new Date().toISOString(),
        });
    };
    const changes = (): Array<{ component: string; healthy: boolean }> =>
      readFileSync(join(stateDir, 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; component: string; healthy: boolean })
        .filter((e) => e.event === 'health-changed');

    report();
    await health.check(200);
    expect([...health.health.values()].every((h) => h.healthy)).toBe(true);
    // silent from now on: stale after 200 ms, then still stale, "for 0 s", "for 1 s", ...
    await until(
      'the reports to go stale',
      async () => (await health.check(200), [...health.health.values()]),
      (hs) => hs.every((h) => !h.healthy),
    );
    const stale = changes().length;
    expect(stale).toBe(components.length);
    // checked again over more than a second of silence, as the monitor does every few seconds
    const t0 = performance.now();
    await until(
      'more than a second of silence',
      async () => (await health.check(200), performance.now() - t0),
      (ms) => ms > 1200,
    );
    expect(changes()).toHaveLength(stale);
    // reporting again: one change each
    report();
    await health.check(200);
    expect(changes()).toHaveLength(2 * components.length);
    expect(
      changes()
        .slice(-components.length)
        .every((e) => e.healthy),
    ).toBe(true);
  }, 60_000);
});

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Hardware } from '../../agent/daemon/hardware.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("the agent's view of its hardware", () => {
  it('probes once, caches, and probes again when a device node comes or goes', async () => {
    const dev = tempDir('dev-');
    const lines: string[] = [];
    const h = new Hardware(undefined, (l) => lines.push(l));
    h.watchDevices(dev);
    try {
      const first = await h.profile();
      await h.profile();
      expect(h.probes).toBe(1);
      expect(first.memory_mb).toBeGreaterThan(0);
      writeFileSync(join(dev, 'video9'), '');
      await sleep(200);
      await h.profile();
      expect(h.probes).toBe(2);
      expect(lines.at(-1)).toBe(`hardware will be probed again: ${join(dev, 'video9')} appeared or disappeared`);
      writeFileSync(join(dev, 'unrelated'), '');
      rmSync(join(dev, 'unrelated'));
      await sleep(200);
      await h.profile();
      expect(h.probes).toBe(2);
      h.invalidate('asked');
      await h.profile();
      expect(h.probes).toBe(3);
    } finally {
      h.stop();
    }
  });

  it('a recorded profile is read, never probed', async () => {
    const h = new Hardware(join(PROJECT, 'config/hardware/rpi4-camv2.yaml'));
    expect((await h.profile()).model).toBe('rpi4-camv2');
    expect(h.probes).toBe(0);
  });
});

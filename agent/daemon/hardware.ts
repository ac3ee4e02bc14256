// The hardware the agent validates against: a recorded profile, or this device probed once and
// cached, probed again when asked (POST /api/v1/hardware/probe) or when a device node appears
// or disappears under /dev (a camera unplugged, an accelerator attached).

import { parse as parseYaml } from 'yaml';
import type { HardwareProfile } from '../core/config/types.js';
import { profileFromFacts } from '../core/hardware/profile.js';
import { probeFacts } from '../io/hardware-probe.js';
import { readUserFile } from '../io/repo-files.js';
import { watchEntries } from '../io/tree-watcher.js';
import type { TreeWatch } from '../io/tree-watcher.js';
import { systemClock } from '../io/clock.js';
import type { Clock } from '../io/clock.js';

const WATCHED = /^(video\d+|nvidia\d*|nvidiactl|apex_\d+|hailo\d+|dri)$/;

export class Hardware {
  private cached: HardwareProfile | undefined;
  private watcher: TreeWatch | undefined;
  probes = 0;

  /** `source`: a profile file, or undefined to probe this machine. */
  constructor(
    private readonly source: string | undefined,
    private readonly log: (line: string) => void = () => undefined,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  async profile(): Promise<HardwareProfile> {
    if (this.cached) return this.cached;
    if (this.source) return (this.cached = parseYaml(readUserFile(this.source, 'hardware profile')) as HardwareProfile);
    this.probes++;
    return (this.cached = profileFromFacts(
      (await probeFacts({})).facts,
      this.clock.now().toISOString(),
    ) as unknown as HardwareProfile);
  }

  invalidate(why: string): void {
    if (this.cached && !this.source) this.log(`hardware will be probed again: ${why}`);
    this.cached = undefined;
  }

  /** Forgets the cached probe whenever a camera, GPU or accelerator node comes or goes. */
  watchDevices(dev = '/dev'): void {
    if (this.source) return;
    // no /dev to watch (a container): probes happen when asked
    this.watcher = watchEntries(dev, (path, name) => {
      if (WATCHED.test(name)) this.invalidate(`${path} appeared or disappeared`);
    });
  }

  stop(): void {
    this.watcher?.stop();
  }
}

// A simulated device of the end-to-end tests: the real agent built in process (buildDaemon, as
// devtools/fleet-sim builds them) with a state directory of its own, and its telemetry pusher
// (the one a real agent starts: agent/daemon/telemetry.ts) pushing to a test Prometheus with the
// labels the agent adds.

import type { Registry } from 'prom-client';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import type { Identities } from '../../agent/core/sops/keys.js';
import { buildDaemon } from '../../agent/daemon/main.js';
import type { Daemon } from '../../agent/daemon/main.js';
import { waveOf } from '../../agent/daemon/metrics.js';
import { TelemetryPusher } from '../../agent/daemon/telemetry.js';
import { systemClock } from '../../agent/io/clock.js';
import type { Clock } from '../../agent/io/clock.js';
import { Redactor } from '../../agent/io/redactor.js';
import { AGENT_JOB } from '../../agent/io/remote-write.js';
import { tempDir } from './project.js';

export function simDaemon(d: {
  environment: string;
  id: string;
  identities: Identities;
  profile: HardwareProfile;
  clock?: Clock;
}): Daemon {
  return buildDaemon({
    environment: d.environment,
    device: d.id,
    stateDir: tempDir('sim-device-'),
    identities: d.identities,
    hardwareProfile: async () => d.profile,
    bakeSeconds: 0,
    env: {},
    redactor: new Redactor(),
    log: () => undefined,
    ...(d.clock ? { clock: d.clock } : {}),
  });
}

export function simPusher(
  writeUrl: string,
  registry: Registry,
  daemon: Pick<Daemon, 'state'>,
  device: { environment: string; id: string },
): TelemetryPusher {
  return new TelemetryPusher({
    settings: { url: writeUrl, interval_seconds: 60, timeout_seconds: 30, max_queue: 10, labels: {} },
    registry,
    labels: () => ({
      environment: device.environment,
      device: device.id,
      wave: waveOf(daemon.state.state),
      job: AGENT_JOB,
      instance: device.id,
    }),
    clock: systemClock,
    log: () => undefined,
  });
}

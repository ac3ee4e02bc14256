// End to end (issue 16, item 4's evidence): simulated devices, each the real agent built in
// process (buildDaemon, as devtools/fleet-sim/device.ts builds them), sync a commit with an
// experiment for their environment; each holds its variant as an experiment-owned lease (the
// effective motion.sensitivity is the variant's) and pushes its exposure to a real Prometheus
// with its own telemetry pusher. Their CPU, lower by a known amount where the lease is in force,
// is pushed beside it. `gitops experiment report` finds the effect and says ship `low`;
// `gitops experiment conclude` opens the pull request against the local GitHub-API server, and
// the proposed branch validates.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import type { Identities } from '../../agent/core/sops/keys.js';
import { getAt } from '../../agent/core/json/value.js';
import type { Daemon } from '../../agent/daemon/main.js';
import { Experiments } from '../../agent/daemon/experiments.js';
import { AgentMetrics } from '../../agent/daemon/metrics.js';
import type { TelemetryPusher } from '../../agent/daemon/telemetry.js';
import { encodeWriteRequest, pushWriteRequest } from '../../agent/io/remote-write.js';
import { loadIdentities } from '../../agent/io/sops-keys.js';
import { gitops, gitopsAsync } from '../helpers/cli.js';
import { armSeries, EXPERIMENT, exampleExperiment } from '../helpers/experiment-fleet.js';
import type { ArmDevice } from '../helpers/experiment-fleet.js';
import { run } from '../helpers/git.js';
import { commandRepository, runnerOf, testSource } from '../helpers/in-process.js';
import { PROJECT, readText, tempDir, writeText } from '../helpers/project.js';
import { usePrometheus } from '../helpers/prometheus.js';
import { simDaemon, simPusher } from '../helpers/sim-device.js';
import { committedFleet, pullRecorder } from '../helpers/pull-requests.js';

const ENV = 'development';
const NAME = EXPERIMENT;
const DEVICES = 24;
const MIN = 60_000;
const now = Date.now();
const start = new Date(now - 30 * MIN);

const experiment = exampleExperiment({ start, environment: ENV, minDevicesPerArm: 8 });

/** The development environment (components reloaded by `true`) with DEVICES more devices and the experiment. */
function fleetFiles(): Map<string, string> {
  const files = commandRepository();
  // the simulated devices share the bench device's age identity (as devtools/fleet-sim's do)
  const recipient = /age_recipient: (\S+)/.exec(files.get(`environments/${ENV}/devices/dev-bench-01.yaml`)!)![1]!;
  for (let i = 0; i < DEVICES; i++) {
    const id = `sim-${String(i).padStart(3, '0')}`;
    files.set(
      `environments/${ENV}/devices/${id}.yaml`,
      `version: 2\ndevice:\n  id: ${id}\n  model: edge-p4-c920\n  age_recipient: ${recipient}\ndetectors:\n  person:\n    runtime: cuda\n`,
    );
  }
  return files.set(`experiments/${NAME}.yaml`, experiment);
}

interface SimDevice {
  id: string;
  daemon: Daemon;
  experiments: Experiments;
  pusher: TelemetryPusher;
}

describe('an experiment across simulated devices, reported and concluded', () => {
  const prom = usePrometheus();
  const { pulls, env } = pullRecorder();
  const files = fleetFiles();
  const devices: SimDevice[] = [];
  let identities: Identities;
  let profile: HardwareProfile;
  const arms: ArmDevice[] = [];

  beforeAll(async () => {
    identities = await loadIdentities([join(PROJECT, 'environments/development/keys/dev-bench-01.agekey')]);
    profile = parseDocument(readText(join(PROJECT, 'config/hardware/edge-p4-c920.yaml'))).toJSON() as HardwareProfile;
  });
  afterAll(async () => {
    for (const d of devices) await d.pusher.stop();
  });

  it('each device runs its variant as a lease and reports its exposure; the report finds the effect; conclude opens the PR', async () => {
    const ids = [...files.keys()]
      .filter((f) => f.startsWith(`environments/${ENV}/devices/`))
      .map((f) => f.slice(`environments/${ENV}/devices/`.length).replace(/\.yaml$/, ''));
    expect(ids.length).toBe(DEVICES + 1);
    const source = testSource();
    source.offer({ id: 'c1', files });
    for (const id of ids) {
      const daemon = simDaemon({ environment: ENV, id, identities, profile });
      const runner = runnerOf(daemon, source);
      await daemon.agent.recover(daemon.store);
      const answer = await runner.trigger('api');
      expect(answer, `${id} synced: ${JSON.stringify(answer)}`).toMatchObject({ outcome: 'applied' });
      const experiments = new Experiments({
        releases: daemon.releases,
        runtime: daemon.runtime,
        runner,
        clock: daemon.clock,
        log: () => undefined,
      });
      await experiments.tick();
      const metrics = new AgentMetrics(
        daemon,
        { environment: ENV, device: id },
        () => 0,
        () => null,
        () => experiments.view(),
      );
      const pusher = simPusher(prom().writeUrl, metrics.registry, daemon, { environment: ENV, id });
      devices.push({ id, daemon, experiments, pusher });
      await pusher.tick(); // the exposure, as the device pushes it
      expect(pusher.stats.failed, `${id} pushed`).toBe(0);
    }
    // every device is in an arm, and where it is in `low` the lease is in force
    for (const d of devices) {
      const view = d.experiments.view().find((e) => e.experiment === NAME);
      expect(view, d.id).toMatchObject({ state: 'applied' });
      const effective = getAt(d.daemon.runtime.effective('c1'), ['motion', 'sensitivity']);
      expect(effective, d.id).toBe(view!.variant === 'low' ? 0.45 : 0.6);
      arms.push({ device: d.id, variant: view!.variant! });
    }
    const perArm = (v: string): number => arms.filter((a) => a.variant === v).length;
    expect(perArm('control')).toBeGreaterThanOrEqual(8);
    expect(perArm('low')).toBeGreaterThanOrEqual(8);
    // the pipeline's figures: CPU lower by 0.05 on the devices that run the lower sensitivity
    const body = encodeWriteRequest(
      armSeries(arms, { now, experiment: NAME, environment: ENV, effect: { low: 0.05 }, exposures: false }),
    );
    expect(await pushWriteRequest({ url: prom().writeUrl, body, timeoutMs: 30_000 })).toMatchObject({ ok: true });

    // the repository the devices run, as a git repository with a remote
    const { repo, origin } = committedFleet((dir) => {
      for (const [path, text] of files) writeText(join(dir, path), text);
    }, 'origin');
    const at = new Date(Date.now() + 1000).toISOString();
    const common = ['--root', repo.dir, '--prometheus', prom().url, '--at', at];

    const report = await gitopsAsync(['experiment', 'report', NAME, '--format', 'json', ...common]);
    expect(report.stderr).toBe('');
    const json = JSON.parse(report.stdout) as {
      verdict: { decision: string; variant: string };
      exposure: { arms: Array<{ devices: number }>; unexpected: number; srm: { failed: boolean } };
      metrics: Array<{ comparisons: Array<{ difference: number; ci: [number, number] }> }>;
    };
    expect(json.exposure.arms.map((a) => a.devices)).toEqual([perArm('control'), perArm('low')]);
    expect(json.exposure).toMatchObject({ unexpected: 0, srm: { failed: false } });
    expect(json.metrics[0]!.comparisons[0]!.difference).toBeCloseTo(-0.05, 2);
    expect(json.metrics[0]!.comparisons[0]!.ci[1]).toBeLessThan(0);
    expect(json.verdict).toMatchObject({ decision: 'ship', variant: 'low' });

    const conclude = await gitopsAsync(
      ['experiment', 'conclude', NAME, '--ship', 'low', '--repo', 'fleet/config', ...common],
      { env: env() },
    );
    expect(conclude.stderr).toBe('');
    expect(conclude.status).toBe(0);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.body).toContain(`### Experiment \`${NAME}\`: **ship low**`);
    const branch = join(tempDir('branch-'), 'tree');
    run('git', ['clone', '-q', '--branch', pulls[0]!.head, origin, branch]);
    expect(readText(join(branch, `environments/${ENV}/overrides.yaml`))).toMatch(/^motion:\n {2}sensitivity: 0\.45$/m);
    const validate = gitops(['validate', '--root', branch]);
    expect(validate.status, validate.stdout).toBe(0);
  }, 600_000);
});

// End to end (issue 16, the tuner's evidence): simulated doorbells of one hardware model, each the
// real agent built in process (buildDaemon, as devtools/fleet-sim builds them) on its own fake
// clock, run the example tuning file (tuning/person-detector.yaml, set running, trials shortened
// to 30 one-second samples) with the device's real tuner (Tuners: tuner-owned leases through the
// runtime layers, the file's GP search). What a device measures is the example pipeline's load
// model (examples/pipeline/load-model.ts) evaluated on the device's *effective* configuration, so
// a trial measures the lease in force, with seeded noise and an offset of its own per device.
// Each device pushes its trial summaries to a real Prometheus with its own telemetry pusher;
// `gitops tune report` pools them and names the pipeline's known optimum (input 416, every 3rd
// frame); `gitops tune propose` opens the pull request against the local GitHub-API server and
// the proposed branch validates.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { GovernorView } from '../../agent/core/contracts/api.js';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import type { JsonObject } from '../../agent/core/json/value.js';
import { normalDraw, seededRandom } from '../../agent/core/tuning/random.js';
import { AgentMetrics } from '../../agent/daemon/metrics.js';
import type { TelemetryPusher } from '../../agent/daemon/telemetry.js';
import { registerTunerMetrics, Tuners } from '../../agent/daemon/tuner.js';
import { loadIdentities } from '../../agent/io/sops-keys.js';
import { detectionFigures, frameCost } from '../../examples/pipeline/load-model.js';
import type { LoadSections } from '../../examples/pipeline/load-model.js';
import { gitops, gitopsAsync } from '../helpers/cli.js';
import { run } from '../helpers/git.js';
import { commandRepository, fakeClock, runnerOf, testSource } from '../helpers/in-process.js';
import { PROJECT, readText, tempDir, writeText } from '../helpers/project.js';
import { usePrometheus } from '../helpers/prometheus.js';
import { simDaemon, simPusher } from '../helpers/sim-device.js';
import { committedFleet, pullRecorder } from '../helpers/pull-requests.js';

const ENV = 'development';
const MODEL = 'edge-p4-c920';
const TUNING = 'person-detector';
const FILE = `tuning/${TUNING}.yaml`;
const DEVICES = 6;
const OPTIMUM = 'detectors.person.input_size=416,detectors.person.frame_interval=3';

/** The development environment with DEVICES doorbells of MODEL whose person detector runs on the CPU, and the tuning running. */
function fleetFiles(): Map<string, string> {
  const files = commandRepository();
  const recipient = /age_recipient: (\S+)/.exec(files.get(`environments/${ENV}/devices/dev-bench-01.yaml`)!)![1]!;
  for (let i = 0; i < DEVICES; i++) {
    const id = `tune-${i}`;
    files.set(
      `environments/${ENV}/devices/${id}.yaml`,
      `version: 2\ndevice:\n  id: ${id}\n  model: ${MODEL}\n  age_recipient: ${recipient}\n` +
        `detectors:\n  person:\n    runtime: cpu\n`,
    );
  }
  const doc = parseDocument(files.get(FILE)!);
  doc.set('status', 'running');
  doc.set('environments', [ENV]);
  doc.setIn(['trial', 'settle_seconds'], 0);
  doc.setIn(['trial', 'duration_seconds'], 30);
  return files.set(FILE, doc.toString());
}

/** The governor of a device at rest (the tuner's condition governor_at_rest). */
const AT_REST: GovernorView = {
  enabled: true,
  step: 0,
  steps: [],
  signals: [],
  last_transition: null,
  transitions_last_hour: 0,
  max_transitions_per_hour: 12,
};

describe('a tuning run across simulated devices, reported and proposed', () => {
  const prom = usePrometheus();
  const { pulls, env } = pullRecorder();
  const files = fleetFiles();
  const pushers: TelemetryPusher[] = [];
  let identities: Awaited<ReturnType<typeof loadIdentities>>;
  let profile: HardwareProfile;

  beforeAll(async () => {
    identities = await loadIdentities([join(PROJECT, 'environments/development/keys/dev-bench-01.agekey')]);
    profile = parseDocument(readText(join(PROJECT, `config/hardware/${MODEL}.yaml`))).toJSON() as HardwareProfile;
  });
  afterAll(async () => {
    for (const p of pushers) await p.stop();
  });

  it("each device's tuner searches on its own figures; the pooled report names the known optimum; propose opens its PR", async () => {
    const source = testSource();
    source.offer({ id: 'c1', files });
    for (let i = 0; i < DEVICES; i++) {
      const id = `tune-${i}`;
      const clock = fakeClock();
      const daemon = simDaemon({ environment: ENV, id, identities, profile, clock });
      const runner = runnerOf(daemon, source);
      await daemon.agent.recover(daemon.store);
      expect(await runner.trigger('api'), id).toMatchObject({ outcome: 'applied' });
      // the pipeline's figures on what the device runs now (its leases in force), noisy, this device a little hotter
      const normal = (
        (r) => () =>
          normalDraw(r)
      )(seededRandom(`noise/${id}`));
      const offset = 0.004 * i;
      const sample = async (): Promise<Record<string, number>> => {
        const config = daemon.runtime.effective(daemon.releases.current()!) as JsonObject;
        const detectors = config.detectors as Record<string, NonNullable<LoadSections['detectors']>[string]>;
        const s: LoadSections = {
          frame_capture: config.frame_capture as LoadSections['frame_capture'],
          detectors: { person: detectors.person! },
        };
        const cost = frameCost(s);
        const f = detectionFigures(s, cost, cost.costMs, normal);
        return {
          'detector.cpu_ratio': f.cpu_ratio + offset,
          'detector.inference_latency_p95_ms': f.inference_latency_p95_ms,
          'detector.agreement': f.agreement,
          cpu_utilisation: 0.2,
          soc_temp_c: 50,
        };
      };
      const tuners = new Tuners({
        device: id,
        releases: daemon.releases,
        runtime: daemon.runtime,
        runner,
        sample,
        governor: () => AT_REST,
        healthy: () => true,
        clock,
        log: () => undefined,
      });
      // one tick a (fake) second until the run's budget is spent; the fields' change budgets
      // (12 an hour) make the device wait between trials, for hours of its clock
      const view = () => tuners.view().find((t) => t.tuning === TUNING);
      const waits = new Set<string>();
      for (let tick = 0; tick < 50_000 && view()?.state !== 'done'; tick++) {
        await tuners.tick();
        if (view()?.state === 'waiting') waits.add(view()!.reason ?? '');
        await clock.sleep(view()?.state === 'waiting' ? 10_000 : 1000);
      }
      expect(view(), `${id}: ${[...waits].join('; ')}`).toMatchObject({ model: MODEL, state: 'done', trials: 20 });
      // no trial is left in force: the signed configuration runs again
      expect(
        daemon.runtime.leases.filter((l) => l.owner === 'tuner'),
        id,
      ).toEqual([]);

      const metrics = new AgentMetrics(
        daemon,
        { environment: ENV, device: id },
        () => 0,
        () => null,
      );
      registerTunerMetrics(metrics.registry, () => tuners.tuners);
      const pusher = simPusher(prom().writeUrl, metrics.registry, daemon, { environment: ENV, id });
      pushers.push(pusher);
      await pusher.tick();
      expect(pusher.stats.failed, `${id} pushed`).toBe(0);
    }

    const { repo, origin } = committedFleet((dir) => {
      for (const [path, text] of files) writeText(join(dir, path), text);
    }, 'origin');
    const common = ['--root', repo.dir, '--prometheus', prom().url];
    const report = await gitopsAsync(['tune', 'report', TUNING, '--output', 'json', ...common]);
    expect(report.stderr).toBe('');
    const json = JSON.parse(report.stdout) as {
      models: Array<{ model: string; best: string | null; candidates: Array<{ candidate: string; devices: number }> }>;
    };
    const model = json.models.find((m) => m.model === MODEL)!;
    expect(model.best, JSON.stringify(model.candidates)).toBe(OPTIMUM);
    expect(model.candidates.find((c) => c.candidate === OPTIMUM)!.devices).toBeGreaterThanOrEqual(3);

    const propose = await gitopsAsync(
      ['tune', 'propose', TUNING, '--model', MODEL, '--repo', 'fleet/config', ...common],
      {
        env: env(),
      },
    );
    expect(propose.stderr).toBe('');
    expect(propose.status).toBe(0);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.title).toBe(`tuning ${TUNING}: ${OPTIMUM} for ${MODEL}`);
    const branch = join(tempDir('branch-'), 'tree');
    run('git', ['clone', '-q', '--branch', pulls[0]!.head, origin, branch]);
    const device = readText(join(branch, `environments/${ENV}/devices/tune-0.yaml`));
    expect(device).toMatch(/^ {4}input_size: 416$/m);
    expect(device).toMatch(/^ {4}frame_interval: 3$/m);
    const validate = gitops(['validate', '--root', branch]);
    expect(validate.status, validate.stdout).toBe(0);
  }, 600_000);
});

// A configuration repository for experiment tests: the example repository (experiments/ and
// tuning/ included) with `count` more production devices, and the example experiment
// motion-sensitivity started at a given time over every production device (no namespace), so
// that the arms have enough devices for a verdict; and the per-device series the devices of
// each arm would push (exposure, CPU with a known effect, detection latency).

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assignFleet } from '../../agent/core/experiments/fleet.js';
import { readExperiment } from '../../agent/core/experiments/read.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { encodeWriteRequest, pushWriteRequest } from '../../agent/io/remote-write.js';
import type { TimeSeries } from '../../agent/io/remote-write.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { fileSchemaCache } from '../../agent/io/schema-cache.js';
import type { PrometheusServer } from '../../devtools/prometheus-server.js';
import { PROJECT, tempDir } from './project.js';

export const EXPERIMENT = 'motion-sensitivity';
const MIN = 60_000;

/**
 * The example experiment's text, started at `start`, over every device of its environments (no
 * namespace); with `environment`, run there instead of production; with `minDevicesPerArm`, that stop rule.
 */
export function exampleExperiment(o: { start: Date; environment?: string; minDevicesPerArm?: number }): string {
  const text = readFileSync(join(PROJECT, `experiments/${EXPERIMENT}.yaml`), 'utf8');
  let edited = text.replace(/^start: .*$/m, `start: ${o.start.toISOString()}`).replace(/^namespace: .*\n/m, '');
  if (o.environment) edited = edited.replace(/^environments: \[production\]$/m, `environments: [${o.environment}]`);
  if (o.minDevicesPerArm)
    edited = edited.replace('min_devices_per_arm: 30', `min_devices_per_arm: ${o.minDevicesPerArm}`);
  const expected = [
    'start: ',
    o.environment ? `environments: [${o.environment}]` : '',
    `min_devices_per_arm: ${o.minDevicesPerArm ?? 30}`,
  ];
  if (edited.includes('namespace:') || !expected.every((e) => edited.includes(e)))
    throw new Error('test setup: the example experiment changed');
  return edited;
}

/** Copies the example repository into `dir` (or a new temp directory) with `count` extra production devices. */
export function experimentRepo(count: number, start: Date, dir = tempDir('experiment-repo-')): string {
  for (const sub of ['config', 'environments', 'schemas', 'experiments', 'tuning', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
  const template = readFileSync(join(PROJECT, 'environments/production/devices/prod-hamburg-002.yaml'), 'utf8');
  for (let i = 1; i <= count; i++) {
    const id = `prod-sim-${String(i).padStart(3, '0')}`;
    writeFileSync(join(dir, `environments/production/devices/${id}.yaml`), template.replaceAll('prod-hamburg-002', id));
  }
  writeFileSync(join(dir, `experiments/${EXPERIMENT}.yaml`), exampleExperiment({ start }));
  return dir;
}

/** One series of a remote-write request: sorted labels, samples at their own timestamps. */
export const series = (labels: Record<string, string>, samples: Array<[number, number]>): TimeSeries => ({
  labels: Object.keys(labels)
    .sort()
    .map((name) => ({ name, value: labels[name]! })),
  samples: samples.map(([timestamp, value]) => ({ timestamp, value })),
});

/** A fixed spread, the same every run: device i's level and a small wobble per sample. */
const level = (i: number): number => 0.5 + 0.05 * Math.sin(i * 12.9898);
const wobble = (i: number, k: number): number => 0.005 * Math.sin(i * 78.233 + k * 3.7);

export interface ArmDevice {
  device: string;
  variant: string;
  /** The exposure's extra labels (a stratum, the hardware model). */
  labels?: Record<string, string>;
}

/**
 * Each device's exposure (after the start), its CPU before the start (the CUPED pre-period) and
 * after it, lowered by `effect[variant]`, and its detection latency p95: samples at fixed minutes
 * before `now` (the start is 30 minutes before it).
 */
export function armSeries(
  devices: readonly ArmDevice[],
  options: {
    now: number;
    experiment: string;
    environment: string;
    effect: Record<string, number>;
    exposures?: boolean;
  },
): TimeSeries[] {
  const { now } = options;
  const pre = [45, 40, 35].map((m) => now - m * MIN);
  const post = [20, 10, 1].map((m) => now - m * MIN);
  const out: TimeSeries[] = [];
  devices.forEach((d, i) => {
    const base = { device: d.device, environment: options.environment, job: 'doorbell-agent', instance: d.device };
    if (options.exposures !== false)
      out.push(
        series(
          {
            ...base,
            ...d.labels,
            __name__: 'doorbell_experiment_exposure',
            experiment: options.experiment,
            variant: d.variant,
          },
          post.map((t) => [t, 1]),
        ),
      );
    const cut = options.effect[d.variant] ?? 0;
    out.push(
      series({ ...base, __name__: 'doorbell_component_figure', component: 'detector', figure: 'cpu_ratio' }, [
        ...pre.map((t, k): [number, number] => [t, level(i) + wobble(i, k)]),
        ...post.map((t, k): [number, number] => [t, level(i) + wobble(i, k + 3) - cut]),
      ]),
      series(
        { ...base, __name__: 'doorbell_component_figure', component: 'detector', figure: 'inference_latency_p95_ms' },
        [...pre, ...post].map((t, k) => [t, 100 + 10 * Math.sin(i * 3.1) + Math.sin(i + k)]),
      ),
    );
  });
  return out;
}

/** The devices of repository `dir` in an arm of the example experiment, by the repository's assignment. */
export function assignedDevices(dir: string): ArmDevice[] {
  const repo = openRepository(readWorkingTree(dir), fileSchemaCache());
  const read = readExperiment(repo, EXPERIMENT);
  if (read.kind !== 'read') throw new Error('test setup: the experiment does not read');
  return assignFleet(repo, read.experiment).devices.flatMap((d) =>
    d.variant ? [{ device: d.device, variant: d.variant }] : [],
  );
}

/** Pushes the series of the assigned devices of `dir` (the CPU cut by `effect`) to Prometheus; returns them. */
export async function pushArms(
  dir: string,
  prom: PrometheusServer,
  now: number,
  effect: Record<string, number>,
): Promise<ArmDevice[]> {
  const devices = assignedDevices(dir);
  const body = encodeWriteRequest(
    armSeries(devices, { now, experiment: EXPERIMENT, environment: 'production', effect }),
  );
  const r = await pushWriteRequest({ url: prom.writeUrl, body, timeoutMs: 30_000 });
  if (!r.ok) throw new Error(`test setup: Prometheus refused the series: ${r.reason}\n${prom.log()}`);
  return devices;
}

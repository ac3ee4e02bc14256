#!/usr/bin/env node
// An example doorbell pipeline built on agent/client: one process standing in for the
// components of config/components.yaml. It simulates frame capture at the configured fps and
// resolution, a detector and notifications, and logs every reconfiguration as it applies it
// live (no restart). Its detector is unhealthy when a model file does not exist, so the agent's
// rollback can be seen.
//
// It simulates load (examples/pipeline/load-model.ts): a frame costs more with a higher fps and
// resolution, each enabled detector (more with a larger input_size, less with a larger
// frame_interval) and face recognition. About once a second the detector reports, through
// agent/client report(), inference_latency_ms, dropped_frames_per_s and queue_depth, and capture
// reports frames_per_s; with them it reports cpu_ratio, inference_latency_p95_ms and agreement
// (detection agreement with the reference configuration), drawn from a noise model seeded by
// --seed (default `pipeline`), so that experiments and the tuner have a real, noisy signal with a
// known optimum (load-model.ts). A synthetic load factor multiplies the cost: --synthetic-load N at start,
// and at any time the file DIR/synthetic-load (DIR the --components-dir) holding a number from 0
// to 1000, read once a second; the file wins while it exists, and removing it gives back the flag's.
//
//   node dist/examples/pipeline/example-pipeline.js --components-dir STATE/components --root examples/device-root
//   echo 10 > STATE/components/synthetic-load      # ten times the work per frame: latency and drops rise

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from '../../agent/client/index.js';
import type { Client } from '../../agent/client/index.js';
import { normalDraw, seededRandom } from '../../agent/core/tuning/random.js';
import { detectionFigures, emptyQueue, frameCost, parseLoadFactor, stepQueue, takeFigures } from './load-model.js';
import type { LoadSections } from './load-model.js';

interface Capture {
  width: number;
  height: number;
  fps: number;
  pixel_format: string;
  buffer_frames?: number;
}
type Detectors = Record<
  string,
  { enabled: boolean; runtime: string; model_path: string; input_size?: number; frame_interval?: number }
>;

const { values } = parseArgs({
  options: {
    'components-dir': { type: 'string' },
    root: { type: 'string' },
    components: { type: 'string' },
    'synthetic-load': { type: 'string' },
    seed: { type: 'string' },
  },
});
const dir = values['components-dir'];
if (!dir) {
  process.stderr.write(
    'usage: example-pipeline --components-dir DIR [--root DIR] [--components capture,detector,...] [--synthetic-load N] [--seed S]\n',
  );
  process.exit(2);
}
const root = values.root ?? '/';
const names = (values.components ?? 'capture,detector,notifier,recorder,web,logging').split(',');
const say = (line: string): void => void process.stdout.write(`[pipeline] ${line}\n`);
const flagLoad = values['synthetic-load'] === undefined ? 1 : parseLoadFactor(values['synthetic-load']);
if (flagLoad === undefined) {
  process.stderr.write('example-pipeline: --synthetic-load takes a number from 0 to 1000\n');
  process.exit(2);
}

/** How often a detector runs, when not on every frame: ` every 2 frames`. */
const every = (interval: number | undefined): string => ((interval ?? 1) > 1 ? ` every ${interval} frames` : '');

let frames = 0;
let frameTimer: NodeJS.Timeout | undefined;
const clients: Client[] = [];
/** What the simulated load is computed from, as each component last applied it. */
const running: LoadSections = {};

for (const name of names) {
  const c = createClient({ dir: join(dir, name), pollMs: 100 });
  clients.push(c);
  if (name === 'capture') {
    c.on('frame_capture', (v) => {
      const fc = v as Capture;
      running.frame_capture = fc;
      if (frameTimer) clearInterval(frameTimer);
      frameTimer = setInterval(() => (frames++, framesSinceReport++), 1000 / fc.fps);
      say(`capture: now ${fc.width}x${fc.height} ${fc.pixel_format} at ${fc.fps} fps (live, no restart)`);
    });
    c.on('motion', (v) => say(`capture: motion sensitivity ${(v as { sensitivity: number }).sensitivity}`));
    c.validate((s) =>
      ((s.frame_capture as Capture | undefined)?.fps ?? 0) > 60
        ? 'this pipeline cannot keep up with more than 60 fps'
        : undefined,
    );
    // unhealthy when the detectors cannot keep up with the frames at all (a frame costs more than
    // two frame periods under the load of the moment): the agent rolls such a change back
    c.health((s) => {
      const cost = frameCost({ ...running, frame_capture: s.frame_capture as Capture }, readLoadFactor().factor);
      return cost.fps > 0 && cost.costMs > 2000 / cost.fps
        ? `capture: a frame costs the detectors ${Math.round(cost.costMs)} ms and one comes every ${Math.round(1000 / cost.fps)} ms at ${cost.fps} fps`
        : undefined;
    });
  }
  if (name === 'detector') {
    c.on('detectors', (v) => {
      running.detectors = v as Detectors;
      const enabled = Object.entries(v as Detectors).filter(([, d]) => d.enabled);
      say(
        `detector: running ${enabled.map(([n, d]) => `${n} on ${d.runtime}${every(d.frame_interval)}`).join(', ') || 'nothing'}`,
      );
    });
    c.on('face_recognition', (v) => {
      running.face_recognition = v as LoadSections['face_recognition'];
      say(`detector: face recognition ${(v as { enabled: boolean }).enabled ? 'on' : 'off'}`);
    });
    c.health((s) => {
      for (const [n, d] of Object.entries((s.detectors ?? {}) as Detectors)) {
        if (d.enabled && !existsSync(join(root, d.model_path)))
          return `detector ${n}: model file ${d.model_path} does not exist`;
      }
      return undefined;
    });
  }
  if (name === 'notifier')
    c.on('notifications', (v) =>
      say(
        `notifier: channels ${
          Object.entries(v as Record<string, { enabled?: boolean }>)
            .filter(([, x]) => typeof x === 'object' && x?.enabled)
            .map(([k]) => k)
            .join(', ') || 'none'
        }`,
      ),
    );
  if (name === 'recorder')
    c.on('storage', (v) => say(`recorder: keeping clips ${(v as { retention_days: number }).retention_days} days`));
  if (name === 'web')
    c.on('web_interface', (v) =>
      say(
        `web: port ${(v as { port: number }).port}, auth ${(v as { auth?: { mode?: string } }).auth?.mode ?? 'none'}`,
      ),
    );
  if (name === 'logging') c.on('logging', (v) => say(`logging: level ${(v as { level: string }).level}`));
  c.start();
}

// the simulated load: the queue in front of the detectors stepped every 100 ms, reported every second
const loadFile = join(dir, 'synthetic-load');
let loadFactor = flagLoad;
let loadFrom = 'default';
/** The factor in the file (read bounded), the flag's while there is none, and what to say of a bad one. */
const readLoadFactor = (): { factor: number; from: string } => {
  try {
    if (statSync(loadFile).size > 64) return { factor: loadFactor, from: `${loadFile} (too large: ignored)` };
    const v = parseLoadFactor(readFileSync(loadFile, 'utf8'));
    return v === undefined
      ? { factor: loadFactor, from: `${loadFile} (not a number from 0 to 1000: ignored)` }
      : { factor: v, from: loadFile };
  } catch {
    return { factor: flagLoad, from: values['synthetic-load'] === undefined ? 'default' : '--synthetic-load' };
  }
};
const random = seededRandom(values.seed ?? 'pipeline');
const normal = (): number => normalDraw(random);
let queue = emptyQueue();
let overloaded = false;
let last = performance.now();
let reported = last;
let framesSinceReport = 0;
const clientOf = (name: string): Client | undefined => clients[names.indexOf(name)];
const load = setInterval(() => {
  const now = performance.now();
  const cost = frameCost(running, loadFactor);
  queue = stepQueue(queue, cost, now - last);
  last = now;
  if (now - reported < 1000) return;
  const seconds = (now - reported) / 1000;
  reported = now;
  const read = readLoadFactor();
  if (read.factor !== loadFactor || read.from !== loadFrom) {
    ({ factor: loadFactor, from: loadFrom } = read);
    say(`load: synthetic load x${loadFactor} (${loadFrom})`);
  }
  const { figures, next } = takeFigures(queue, cost);
  queue = next;
  const behind = figures.dropped_frames_per_s > 0;
  if (behind !== overloaded) {
    overloaded = behind;
    say(
      behind
        ? `detector: overloaded: ${figures.inference_latency_ms} ms per frame, ${figures.dropped_frames_per_s} frames dropped a second`
        : `detector: keeping up: ${figures.inference_latency_ms} ms per frame`,
    );
  }
  // figures only from a component that runs a configuration: before that there is nothing to measure
  const detector = clientOf('detector');
  if (detector?.current())
    detector.report({ ...figures, ...detectionFigures(running, cost, figures.inference_latency_ms, normal) });
  const capture = clientOf('capture');
  if (capture?.current()) capture.report({ frames_per_s: Math.round((framesSinceReport / seconds) * 100) / 100 });
  framesSinceReport = 0;
}, 100);
load.unref();

const stats = setInterval(() => {
  if (frames > 0) say(`capture: ${frames} frames in the last 10 s`);
  frames = 0;
}, 10_000);
stats.unref();

const stop = (): void => {
  for (const c of clients) c.stop();
  if (frameTimer) clearInterval(frameTimer);
  clearInterval(load);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
say(`started: ${names.join(', ')} (waiting for the agent)`);

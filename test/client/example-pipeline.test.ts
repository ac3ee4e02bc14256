// The example pipeline's simulated load: the cost model (more with fps, resolution, detectors,
// their input size and face recognition; less with a detector's frame_interval; times the
// synthetic load factor) and its bounded queue, then the real pipeline process: handed its
// configuration through the file protocol, it reports inference_latency_ms, dropped_frames_per_s
// and queue_depth (and the noisy cpu_ratio, inference_latency_p95_ms, agreement) about once a second; the synthetic-load file raises them at runtime and a
// lighter configuration brings them back down.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILES } from '../../agent/core/contracts/protocol.js';
import type { ComponentMetrics } from '../../agent/core/contracts/protocol.js';
import { readProtocolFile, writeProtocolFile } from '../../agent/io/protocol-files.js';
import { emptyQueue, frameCost, parseLoadFactor, stepQueue, takeFigures } from '../../examples/pipeline/load-model.js';
import type { LoadSections } from '../../examples/pipeline/load-model.js';
import { until } from '../helpers/fleet.js';
import { coverageEnv, PROJECT, tempDir } from '../helpers/project.js';

const base = (): Required<LoadSections> => ({
  frame_capture: { fps: 15, width: 1280, height: 720, buffer_frames: 4 },
  detectors: {
    person: { enabled: true, runtime: 'cpu', input_size: 300 },
    package: { enabled: false, runtime: 'cpu', input_size: 320 },
  },
  face_recognition: { enabled: false, detector: 'person', runtime: 'cpu' },
});

describe('the load model', () => {
  it('costs more with resolution, each enabled detector, its input size and face recognition', () => {
    const b = frameCost(base()).costMs;
    expect(b).toBeCloseTo(8.5);
    const s = base();
    s.frame_capture.width = 1920;
    s.frame_capture.height = 1080;
    expect(frameCost(s).costMs).toBeGreaterThan(b);
    const d = base();
    d.detectors.package!.enabled = true;
    expect(frameCost(d).costMs).toBeGreaterThan(b);
    const big = base();
    big.detectors.person!.input_size = 640;
    expect(frameCost(big).costMs).toBeGreaterThan(b);
    const faces = base();
    faces.face_recognition.enabled = true;
    expect(frameCost(faces).costMs).toBeCloseTo(b + 12);
    expect(frameCost(faces).parts).toMatchObject({ face_recognition: 12 });
  });

  it('costs less with a larger frame_interval (absent: every frame) and on an accelerator; the load factor multiplies', () => {
    const b = frameCost(base()).costMs;
    const skip = base();
    skip.detectors.person!.frame_interval = 2;
    expect(frameCost(skip).costMs).toBeCloseTo(0.5 + 4);
    const gpu = base();
    gpu.detectors.person!.runtime = 'cuda';
    expect(frameCost(gpu).costMs).toBeCloseTo(0.5 + 2);
    expect(frameCost(base(), 10).costMs).toBeCloseTo(10 * b);
    // face recognition runs on its detector's frames: nothing when that detector is off
    const off = base();
    off.face_recognition.enabled = true;
    off.detectors.person!.enabled = false;
    expect(frameCost(off).parts.face_recognition).toBeUndefined();
    expect(frameCost({}).fps).toBe(0);
  });

  it('keeps up below capacity: no queue, no drops, the latency is the cost', () => {
    const cost = frameCost(base());
    let q = emptyQueue();
    for (let i = 0; i < 10; i++) q = stepQueue(q, cost, 100);
    const { figures, next } = takeFigures(q, cost);
    expect(figures).toEqual({ inference_latency_ms: 8.5, dropped_frames_per_s: 0, queue_depth: 0 });
    expect(next.elapsedMs).toBe(0);
  });

  it('above capacity, the queue fills to buffer_frames and the rest is dropped', () => {
    const cost = frameCost(base(), 20); // 170 ms a frame: 5.9 frames a second against 15
    let q = emptyQueue();
    for (let i = 0; i < 50; i++) q = stepQueue(q, cost, 100); // 5 s: full after about one
    q = takeFigures(q, cost).next;
    for (let i = 0; i < 10; i++) q = stepQueue(q, cost, 100);
    const { figures } = takeFigures(q, cost);
    expect(figures.queue_depth).toBe(4);
    expect(figures.dropped_frames_per_s).toBeCloseTo(15 - 1000 / 170, 1);
    expect(figures.inference_latency_ms).toBeCloseTo(170 * 5, 0);
  });

  it.each([
    ['1', 1],
    [' 2.5\n', 2.5],
    ['0', 0],
    ['1000', 1000],
    ['1001', undefined],
    ['-1', undefined],
    ['ten', undefined],
    ['', undefined],
    ['1e3', undefined],
  ])('reads the synthetic load %j as %j', (text, factor) => expect(parseLoadFactor(text)).toBe(factor));
});

describe('the example pipeline process', () => {
  const dir = tempDir('pipeline-load-');
  const lines: string[] = [];
  let child: ChildProcess;
  let generation = 0;
  const configure = (s: Required<LoadSections>): void => {
    generation++;
    const sections = (names: string[]) => Object.fromEntries(names.map((n) => [n, (s as Record<string, unknown>)[n]]));
    const model = (d: object) => ({ ...d, model_path: '/opt/doorbell/models/ssd-mobilenet-v2-person.tflite' });
    const detectors = Object.fromEntries(Object.entries(s.detectors).map(([k, d]) => [k, model(d)]));
    writeProtocolFile(join(dir, 'capture'), FILES.config, {
      generation,
      commit: `c${generation}`,
      sections: { frame_capture: { ...s.frame_capture, pixel_format: 'MJPG' } },
    });
    writeProtocolFile(join(dir, 'detector'), FILES.config, {
      generation,
      commit: `c${generation}`,
      sections: { ...sections(['face_recognition']), detectors },
    });
  };
  /** The detector's next report that `done` accepts (a report is written about once a second). */
  const report = (what: string, done: (v: Record<string, number>) => boolean): Promise<ComponentMetrics> =>
    until(
      `the detector to report ${what}`,
      () => readProtocolFile<ComponentMetrics>(join(dir, 'detector'), FILES.metrics),
      (m) => m !== undefined && done(m.values),
      20_000,
    ) as Promise<ComponentMetrics>;
  const said = (pattern: RegExp) =>
    until(
      `the pipeline to print ${pattern}`,
      () => lines.slice(),
      (l) => l.some((x) => pattern.test(x)),
      20_000,
    );

  beforeAll(() => {
    child = spawn(
      process.execPath,
      [
        join(PROJECT, 'dist/examples/pipeline/example-pipeline.js'),
        '--components-dir',
        dir,
        '--root',
        join(PROJECT, 'examples/device-root'),
        '--components',
        'capture,detector',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...coverageEnv() } },
    );
    let buffer = '';
    const onData = (c: Buffer): void => {
      buffer += c.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      lines.push(...parts);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  afterAll(() => void child?.kill('SIGTERM'));

  it('reports nothing before it runs a configuration, then its figures about once a second', async () => {
    await said(/started: capture, detector/);
    expect(readProtocolFile(join(dir, 'detector'), FILES.metrics)).toBeUndefined();
    configure(base());
    await said(/capture: now 1280x720 MJPG at 15 fps/);
    const first = await report('its latency', (v) => v.inference_latency_ms === 8.5);
    expect(first.values).toMatchObject({ inference_latency_ms: 8.5, dropped_frames_per_s: 0, queue_depth: 0 });
    // and the noisy figures the tuner and experiments read (load-model.ts): 8.5 ms a frame at 15 fps
    expect(Object.keys(first.values).sort()).toEqual([
      'agreement',
      'cpu_ratio',
      'dropped_frames_per_s',
      'inference_latency_ms',
      'inference_latency_p95_ms',
      'queue_depth',
    ]);
    expect(first.values.cpu_ratio).toBeGreaterThan(0.1);
    expect(first.values.cpu_ratio).toBeLessThan(0.16);
    expect(first.values.agreement).toBeGreaterThan(0.9);
    expect(first.values.inference_latency_p95_ms).toBeGreaterThan(8.5);
    const second = await until(
      'a newer report',
      () => readProtocolFile<ComponentMetrics>(join(dir, 'detector'), FILES.metrics),
      (m) => m !== undefined && m.time !== first.time,
    );
    const gap = Date.parse(second!.time) - Date.parse(first.time);
    expect(gap).toBeGreaterThanOrEqual(900);
    // capture reports what it captures
    await until(
      'capture to report frames_per_s',
      () => readProtocolFile<ComponentMetrics>(join(dir, 'capture'), FILES.metrics),
      (m) => (m?.values.frames_per_s ?? 0) > 5,
    );
  });

  it('face recognition costs more; the synthetic-load file overloads it; a lighter configuration recovers', async () => {
    const faces = base();
    faces.face_recognition.enabled = true;
    configure(faces);
    await report('the cost of face recognition', (v) => v.inference_latency_ms === 20.5);

    writeFileSync(join(dir, 'synthetic-load'), '20\n');
    await said(/load: synthetic load x20 \(.*synthetic-load\)/);
    const hot = await report('drops under load', (v) => (v.dropped_frames_per_s ?? 0) > 5 && v.queue_depth === 4);
    expect(hot.values.inference_latency_ms).toBeGreaterThan(1000);
    await said(/detector: overloaded: /);

    // what a load governor would do: fewer frames, every other one through the detector, no faces
    const light = base();
    light.frame_capture.fps = 5;
    light.detectors.person!.frame_interval = 2;
    configure(light);
    await said(/detector: running person on cpu every 2 frames/);
    // once the queue has drained, a whole second at (0.5 + 8 / 2) x 20 ms a frame
    await report(
      'recovery',
      (v) => v.dropped_frames_per_s === 0 && v.queue_depth === 0 && v.inference_latency_ms === 90,
    );
    await said(/detector: keeping up: /);

    // a bad file is ignored (the factor stays), and removing it gives back the default
    writeFileSync(join(dir, 'synthetic-load'), 'lots');
    await said(/synthetic-load \(not a number from 0 to 1000: ignored\)/);
    rmSync(join(dir, 'synthetic-load'));
    await said(/load: synthetic load x1 \(default\)/);
    await report('the latency without load', (v) => v.inference_latency_ms === 4.5);
  });
});

#!/usr/bin/env node
// An example doorbell pipeline built on agent/client: one process standing in for the
// components of config/components.yaml. It simulates frame capture at the configured fps and
// resolution, a detector and notifications, and logs every reconfiguration as it applies it
// live (no restart). Its detector is unhealthy when a model file does not exist, so the agent's
// rollback can be seen.
//
//   node dist/examples/pipeline/example-pipeline.js --components-dir STATE/components --root examples/device-root

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from '../../agent/client/index.js';
import type { Client } from '../../agent/client/index.js';

interface Capture {
  width: number;
  height: number;
  fps: number;
  pixel_format: string;
}
type Detectors = Record<string, { enabled: boolean; runtime: string; model_path: string }>;

const { values } = parseArgs({
  options: { 'components-dir': { type: 'string' }, root: { type: 'string' }, components: { type: 'string' } },
});
const dir = values['components-dir'];
if (!dir) {
  process.stderr.write(
    'usage: example-pipeline --components-dir DIR [--root DIR] [--components capture,detector,...]\n',
  );
  process.exit(2);
}
const root = values.root ?? '/';
const names = (values.components ?? 'capture,detector,notifier,recorder,web,logging').split(',');
const say = (line: string): void => void process.stdout.write(`[pipeline] ${line}\n`);

let frames = 0;
let frameTimer: NodeJS.Timeout | undefined;
const clients: Client[] = [];

for (const name of names) {
  const c = createClient({ dir: join(dir, name), pollMs: 100 });
  clients.push(c);
  if (name === 'capture') {
    c.on('frame_capture', (v) => {
      const fc = v as Capture;
      if (frameTimer) clearInterval(frameTimer);
      frameTimer = setInterval(() => frames++, 1000 / fc.fps);
      say(`capture: now ${fc.width}x${fc.height} ${fc.pixel_format} at ${fc.fps} fps (live, no restart)`);
    });
    c.on('motion', (v) => say(`capture: motion sensitivity ${(v as { sensitivity: number }).sensitivity}`));
    c.validate((s) =>
      ((s.frame_capture as Capture | undefined)?.fps ?? 0) > 60
        ? 'this pipeline cannot keep up with more than 60 fps'
        : undefined,
    );
  }
  if (name === 'detector') {
    c.on('detectors', (v) => {
      const enabled = Object.entries(v as Detectors).filter(([, d]) => d.enabled);
      say(`detector: running ${enabled.map(([n, d]) => `${n} on ${d.runtime}`).join(', ') || 'nothing'}`);
    });
    c.on('face_recognition', (v) =>
      say(`detector: face recognition ${(v as { enabled: boolean }).enabled ? 'on' : 'off'}`),
    );
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

const stats = setInterval(() => {
  if (frames > 0) say(`capture: ${frames} frames in the last 10 s`);
  frames = 0;
}, 10_000);
stats.unref();

const stop = (): void => {
  for (const c of clients) c.stop();
  if (frameTimer) clearInterval(frameTimer);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
say(`started: ${names.join(', ')} (waiting for the agent)`);

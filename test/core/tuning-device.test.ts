// The tuning runs a device takes part in (deviceTunings, kept in the release's runtime context):
// on the example repository, tuning/person-detector.yaml targets dev-bench-01 (a hardware model it
// names, in development) with its space resolved there, and no production device (the file runs
// in development and staging only).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openRepository } from '../../agent/core/repo/repository.js';
import { deviceTunings } from '../../agent/core/tuning/device.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';

const root = new URL('../..', import.meta.url).pathname;
const FILE = 'tuning/person-detector.yaml';
const repo = openRepository(readWorkingTree(root).set(FILE, readFileSync(root + FILE, 'utf8')));

describe('deviceTunings', () => {
  it('gives the device the tuning files that target it, with the space resolved from its specs', () => {
    const [t, ...rest] = deviceTunings(repo, 'development', 'dev-bench-01');
    expect(rest).toEqual([]);
    expect(t!.tuning.name).toBe('person-detector');
    expect(t!.space.dims.map((d) => [d.path, d.values])).toEqual([
      ['detectors.person.input_size', [256, 288, 300, 320, 416, 512]],
      ['detectors.person.frame_interval', [1, 2, 3, 4]],
    ]);
    // a JSON value: it is kept with the release
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });

  it('gives nothing to a device outside its environments', () => {
    for (const device of repo.devices('production')) expect(deviceTunings(repo, 'production', device)).toEqual([]);
  });
});

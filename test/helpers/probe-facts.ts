// Probe facts of a plain x86 device with memory and a disk and nothing else, for tests to change in one place.

import type { ProbeFacts } from '../../agent/core/hardware/profile.js';

export const probeFacts = (over: Partial<ProbeFacts> = {}): ProbeFacts => ({
  model: 'probe',
  cpu: { arch: 'x86_64', cores: 4 },
  board: null,
  memory: { totalMb: 16384, availableMb: 12000 },
  disk: { path: '/var/lib/doorbell', totalMb: 500000, freeMb: 400000 },
  nvidia: null,
  nvidiaProc: null,
  tegra: null,
  accelerators: [],
  cameras: [],
  streams: [],
  modelFiles: [],
  unknown: {},
  ...over,
});

// The arguments of the agent most process tests run: watch mode on a copy of the example
// repository as the development bench dev-bench-01 (its age key, the recorded hardware), its
// state under the copy, the API on a free loopback port.

import { join } from 'node:path';
import { PROJECT } from './project.js';

export function benchWatchArgs(dir: string, extra: string[] = []): string[] {
  return [
    ...['--watch', dir, '--env', 'development', '--device', 'dev-bench-01'],
    ...['--identity', join(PROJECT, 'environments/development/keys/dev-bench-01.agekey')],
    ...['--hardware-profile', 'recorded', '--state', join(dir, '.state'), '--listen', '127.0.0.1:0'],
    ...extra,
  ];
}

// Programs some suites drive (Debian's chromium and prometheus's promtool, which .ci/run
// installs): found on PATH, or the suites that need them skip with a visible note.

import { spawnSync } from 'node:child_process';

export function which(program: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status === 0 && path) return path;
  process.stderr.write(
    `\nNOTE: ${program} is not installed: the tests that need it are skipped (bash .ci/run installs it).\n\n`,
  );
  return undefined;
}

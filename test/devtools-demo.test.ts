// npm run demo end to end: every step does what it says, and the table is printed.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT } from './helpers/project.js';

describe('npm run demo', () => {
  it('applies a good change, refuses an unsigned and an unrunnable commit, rolls back a failing one and an operator rolls back', () => {
    const r = spawnSync(process.execPath, [join(PROJECT, 'dist/devtools/demo.js')], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^good change \(fps 15 -> 10\) +applied +[0-9a-f]{12} +\d+ reconfigured capture; pipeline: capture: now 1280x720 MJPG at 10 fps/m,
    );
    expect(r.stdout).toMatch(/^unsigned commit +refused +[0-9a-f]{12} +\d+ .*the commit has no signature/m);
    expect(r.stdout).toMatch(
      /^hardware cannot run it +refused +[0-9a-f]{12} +\d+ camera \/dev\/video0 supports at most 5 fps at 1920x1080 YUYV/m,
    );
    expect(r.stdout).toMatch(/^health check fails +rolled-back +[0-9a-f]{12} +\d+ detector is unhealthy/m);
    expect(r.stdout).toMatch(/^operator rollback \(API\) +rolled-back +[0-9a-f]{12} +\d+ the night frame rate/m);
    expect(r.stdout).toContain('every step did what it should');
  }, 100_000);
});

// The component library on a full disk: a real component process whose directory is a small
// tmpfs that the test fills. It keeps running the configuration it has, says once that it
// cannot write, leaves no temp file behind, and carries on when space comes back.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILES } from '../../agent/core/contracts/protocol.js';
import { writeProtocolFile } from '../../agent/io/protocol-files.js';
import { until } from '../helpers/fleet.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const mountPoint = tempDir('client-tmpfs-');
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]).status === 0;
if (!mounted)
  console.log('NOTE: cannot mount a tmpfs here (needs root): the full-disk test of agent/client is skipped.');

const COMPONENT = `
import { createClient } from ${JSON.stringify(join(PROJECT, 'dist/agent/client/index.js'))};
createClient({ dir: process.argv[1], pollMs: 50 })
  .on('frame_capture', (fc) => console.log('applied fps=' + fc.fps))
  .start();
console.log('started');
let ticks = 0;
setInterval(() => console.log('tick ' + ++ticks), 50); // the heartbeats run as often
`;

describe.runIf(mounted)('agent/client on a full disk', () => {
  const dir = join(mountPoint, 'capture');
  let child: ChildProcess;
  const lines: string[] = [];
  const seen = (pattern: RegExp) =>
    until(
      `the component to print ${pattern}`,
      () => lines.slice(),
      (l) => l.some((x) => pattern.test(x)),
    );

  beforeAll(async () => {
    child = spawn(process.execPath, ['--input-type=module', '-e', COMPONENT, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!])
      stream.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    await seen(/^started$/);
  });

  afterAll(() => {
    child?.kill('SIGKILL');
    spawnSync('umount', [mountPoint]);
  });

  it('keeps its configuration and keeps running while nothing can be written, and carries on after', async () => {
    writeProtocolFile(dir, FILES.config, { generation: 1, commit: 'c1', sections: { frame_capture: { fps: 15 } } });
    await seen(/^applied fps=15$/);
    await until(
      'the first health report',
      () => readdirSync(dir),
      (f) => f.includes(FILES.health),
    );

    // fill the disk
    const filler = join(mountPoint, 'filler');
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(16 * 1024, 1));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    await seen(/cannot write to .* \(ENOSPC\); keeping the configuration that runs/);
    const before = lines.length;
    // ten more heartbeat periods fail meanwhile; the process lives, says it once, and leaves no temp file
    await until(
      'ten more ticks',
      () => lines.slice(before).filter((l) => l.startsWith('tick ')).length,
      (n) => n >= 10,
    );
    expect(child.exitCode).toBeNull();
    expect(lines.slice(before).filter((l) => /cannot write/.test(l))).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, FILES.health), 'utf8'))).toMatchObject({ generation: 1, healthy: true });

    // space again: it says so, reports health, and takes the next configuration
    rmSync(filler);
    await seen(/writing to .* works again/);
    writeProtocolFile(dir, FILES.config, { generation: 2, commit: 'c2', sections: { frame_capture: { fps: 9 } } });
    await seen(/^applied fps=9$/);
    await until(
      'health for generation 2',
      () => JSON.parse(readFileSync(join(dir, FILES.health), 'utf8')) as { generation: number },
      (h) => h.generation === 2,
    );
    expect(child.exitCode).toBeNull();
  }, 60_000);
});

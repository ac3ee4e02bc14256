// The agent's systemd unit: systemd itself checks it (systemd-analyze verify) and scores its
// hardening (systemd-analyze security, offline), and it starts what this package builds.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_ENV } from '../../devtools/bench-device.js';
import { PROJECT } from '../helpers/project.js';
import { which } from '../helpers/tools.js';

const UNIT = join(PROJECT, 'agent/doorbell-agent.service');
const analyze = which('systemd-analyze');

describe('agent/doorbell-agent.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const settings = (key: string): string[] => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);

  it('runs the built agent as a dedicated user, writing only its state directory', () => {
    expect(settings('User')).toEqual(['doorbell-agent']);
    expect(settings('NoNewPrivileges')).toEqual(['yes']);
    expect(settings('ProtectSystem')).toEqual(['strict']);
    expect(settings('ReadWritePaths')).toEqual(['/var/lib/doorbell-agent']);
    expect(settings('StateDirectory')).toEqual(['doorbell-agent']);
    const environment = settings('Environment').map((v) => v.replace(/^"(.*)"$/, '$1'));
    for (const [name, value] of Object.entries(AGENT_ENV)) expect(environment).toContain(`${name}=${value}`); // what the benchmark measures
    const exec = settings('ExecStart')[0]!;
    const script = /\/opt\/doorbell-gitops\/(\S+)/.exec(exec)![1]!;
    expect(existsSync(join(PROJECT, script))).toBe(true); // built by npm run build
    expect(exec).toContain('agent --config /etc/doorbell-agent/agent.yaml');
    expect(readFileSync(join(PROJECT, 'README.md'), 'utf8')).toContain(
      'sudo cp agent/doorbell-agent.service /etc/systemd/system/',
    );
  });

  it.runIf(analyze)('systemd accepts it, and rates its exposure below 3 of 10 (OK)', () => {
    const verify = spawnSync(analyze!, ['verify', UNIT], { encoding: 'utf8' });
    expect(verify.stderr + verify.stdout).toBe('');
    expect(verify.status).toBe(0);
    const security = spawnSync(analyze!, ['security', '--offline=yes', '--threshold=30', UNIT], { encoding: 'utf8' });
    expect(security.stdout).toMatch(/Overall exposure level for doorbell-agent.service: [0-2]\.\d/);
    expect(security.status).toBe(0);
  });
});

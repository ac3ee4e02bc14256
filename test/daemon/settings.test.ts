// The agent's own settings (agent.yaml) in process: defaults filled in, relative paths resolved
// against the file, and every kind of bad file refused by its code before anything starts.

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRemoteToken } from '../../agent/daemon/remote-token.js';
import { loadSettings } from '../../agent/daemon/settings.js';
import { tempDir } from '../helpers/project.js';
import { withCode } from '../helpers/codes.js';

const MINIMAL = [
  'version: 2',
  'remote: { url: "https://git.example.test/fleet.git" }',
  'environment: production',
  'device_id: prod-berlin-001',
  'trust: { dir: trust }',
  'state_dir: state',
  '',
].join('\n');

describe('agent settings', () => {
  it('fills in the defaults and resolves relative paths against the settings file', () => {
    const dir = tempDir('settings-');
    writeFileSync(
      join(dir, 'agent.yaml'),
      MINIMAL + 'age_identity_file: /etc/doorbell-agent/device.agekey\napi: { tokens_file: tokens.yaml }\n',
    );
    const s = loadSettings(join(dir, 'agent.yaml'));
    expect(s.remote).toMatchObject({ branch: 'main', max_fetch_mb: 64, fetch_timeout_seconds: 60 });
    expect(s.trust).toEqual({ dir: join(dir, 'trust'), mode: 'all' });
    expect(s.state_dir).toBe(join(dir, 'state'));
    expect(s.poll_interval_seconds).toBe(60);
    expect(s.api).toEqual({
      listen: '127.0.0.1:8420',
      allow_loopback_reads: true,
      mutations_per_minute: 30,
      tokens_file: join(dir, 'tokens.yaml'),
    });
    expect(s.age_identity_file).toBe('/etc/doorbell-agent/device.agekey'); // the schema asks for an absolute path
    expect(s.hardware_profile_file).toBeUndefined();
  });

  it('absolute paths stay as they are', () => {
    const dir = tempDir('settings-');
    writeFileSync(join(dir, 'agent.yaml'), MINIMAL.replace('state_dir: state', 'state_dir: /var/lib/doorbell-agent'));
    expect(loadSettings(join(dir, 'agent.yaml')).state_dir).toBe('/var/lib/doorbell-agent');
  });

  it('a file that is missing, a directory, not YAML or not valid is refused by its code', () => {
    const dir = tempDir('settings-');
    expect(() => loadSettings(join(dir, 'missing.yaml'))).toThrow(withCode('settings-unreadable'));
    mkdirSync(join(dir, 'adir'));
    expect(() => loadSettings(join(dir, 'adir'))).toThrow(withCode('settings-unreadable'));
    writeFileSync(join(dir, 'broken.yaml'), 'version: 2\nremote: [\n');
    expect(() => loadSettings(join(dir, 'broken.yaml'))).toThrow(withCode('settings-invalid'));
    writeFileSync(join(dir, 'wrong.yaml'), MINIMAL.replace('version: 2', 'version: 2\npoll_interval_seconds: "soon"'));
    expect(() => loadSettings(join(dir, 'wrong.yaml'))).toThrow(withCode('settings-invalid'));
    // a link to the real file is followed: operators keep agent.yaml under /etc and link it
    writeFileSync(join(dir, 'real.yaml'), MINIMAL);
    symlinkSync(join(dir, 'real.yaml'), join(dir, 'linked.yaml'));
    expect(loadSettings(join(dir, 'linked.yaml')).device_id).toBe('prod-berlin-001');
  });

  it("the remote's token: a line, trimmed; a file that cannot be read or is too large is a coded error", () => {
    const dir = tempDir('token-');
    writeFileSync(join(dir, 'token'), '  ghp_exampletoken\n');
    expect(readRemoteToken(join(dir, 'token'))).toBe('ghp_exampletoken');
    expect(() => readRemoteToken(join(dir, 'missing'))).toThrow(withCode('file-not-readable'));
    writeFileSync(join(dir, 'huge'), 'x'.repeat(100_000));
    expect(() => readRemoteToken(join(dir, 'huge'))).toThrow(withCode('file-too-large'));
  });
});

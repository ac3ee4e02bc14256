import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../agent/core/validate/diagnostics.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { edit, exampleFiles, withFiles } from '../helpers/project.js';
import { examplePosition, positionIn } from '../helpers/lines.js';

const errorsOf = (files: Map<string, string>, options = {}): Diagnostic[] =>
  validateRepository(files, options).diagnostics.filter((d) => d.severity === 'error');
const one = (files: Map<string, string>, code: string, options = {}): Diagnostic => {
  const hits = errorsOf(files, options).filter((d) => d.code === code);
  expect(hits, `expected one ${code}; got ${JSON.stringify(errorsOf(files, options), null, 1)}`).toHaveLength(1);
  return hits[0]!;
};

describe('the example repository', () => {
  it('is valid: every environment and device', () => {
    const report = validateRepository(exampleFiles());
    expect(report.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(report.valid).toBe(true);
    expect(report.targets.map((t) => `${t.target.environment}/${t.target.device}`)).toEqual([
      'development/dev-bench-01',
      'production/prod-berlin-001',
      'production/prod-hamburg-002',
      'staging/stg-office-01',
    ]);
  });

  it('has production devices on two different models', () => {
    const models = validateRepository(exampleFiles(), { environments: ['production'] }).targets.map(
      (t) => t.result.device?.model,
    );
    expect(new Set(models).size).toBe(2);
  });
});

describe('schema diagnostics point at the file, line and column and say how to fix it', () => {
  it('fps out of range names the range', () => {
    const d = one(edit(exampleFiles(), 'config/frame_capture.yaml', '  fps: 15', '  fps: 500'), 'schema-range');
    expect(d).toMatchObject({
      file: 'config/frame_capture.yaml',
      ...examplePosition('config/frame_capture.yaml', '  fps: 15', '  fps: '.length),
      path: 'frame_capture.fps',
    });
    expect(d.message).toBe('frame_capture.fps is 500, above the maximum 120');
    expect(d.hint).toMatch(/allowed range: more than 0 and at most 120/);
  });

  it('a pid file under /dev, /proc or /sys is refused (the device would refuse to read it)', () => {
    for (const path of ['/dev/zero', '/proc/self/fd/0', '/sys']) {
      const d = one(
        edit(exampleFiles(), 'config/components.yaml', 'pid_file: /run/doorbell/notifier.pid', `pid_file: ${path}`),
        'schema-format',
      );
      expect(d).toMatchObject({
        file: 'config/components.yaml',
        line: examplePosition('config/components.yaml', 'pid_file: /run/doorbell/notifier.pid').line,
        path: 'components.notifier.reload.pid_file',
      });
    }
  });

  it('a misspelled key gets "Did you mean" and the allowed keys', () => {
    const d = one(edit(exampleFiles(), 'config/frame_capture.yaml', '  fps: 15', '  fsp: 15'), 'unknown-key');
    expect(d).toMatchObject({
      file: 'config/frame_capture.yaml',
      ...examplePosition('config/frame_capture.yaml', '  fps: 15', 2),
      suggestion: 'fps',
    });
    expect(d.message).toBe('"fsp" is not allowed in frame_capture. Did you mean "fps"?');
    expect(d.hint).toContain('allowed keys: source, device');
  });

  it('a misspelled key in an environment override is located in that file', () => {
    const files = edit(exampleFiles(), 'environments/production/overrides.yaml', '  port: 8443', '  prot: 8443');
    const d = one(files, 'unknown-key');
    expect(d).toMatchObject({
      file: 'environments/production/overrides.yaml',
      ...examplePosition('environments/production/overrides.yaml', '  port: 8443', 2),
      suggestion: 'port',
    });
  });

  it('an enum typo suggests the nearest allowed value', () => {
    const d = one(
      edit(exampleFiles(), 'config/frame_capture.yaml', 'pixel_format: MJPG', 'pixel_format: MJPEG'),
      'schema-enum',
    );
    expect(d.suggestion).toBe('MJPG');
    expect(d.hint).toMatch(/allowed values: MJPG, YUYV/);
  });

  it('a wrong type says what it got', () => {
    const d = one(
      edit(exampleFiles(), 'config/motion.yaml', 'cooldown_seconds: 10', 'cooldown_seconds: two weeks'),
      'schema-type',
    );
    expect(d.message).toBe('motion.cooldown_seconds must be integer, not a string ("two weeks")');
    expect(d.file).toBe('config/motion.yaml');
  });

  it('a wrong value in a base file is reported even where every device overrides it', () => {
    const d = one(
      edit(exampleFiles(), 'config/storage.yaml', 'retention_days: 14', 'retention_days: 0'),
      'schema-range',
    );
    expect(d).toMatchObject({
      file: 'config/storage.yaml',
      ...examplePosition('config/storage.yaml', 'retention_days: 14', 'retention_days: '.length),
    });
  });

  it('an unknown section file suggests the right name', () => {
    const files = withFiles({ 'config/framecapture.yaml': 'version: 2\nframecapture:\n  fps: 1\n' });
    const d = one(files, 'unknown-section-file');
    expect(d.suggestion).toBe('config/frame_capture.yaml');
  });

  it('a section file may hold only its own section', () => {
    const files = edit(exampleFiles(), 'config/motion.yaml', 'version: 2\n', 'version: 2\nlogging:\n  level: info\n');
    expect(one(files, 'section-file-mismatch')).toMatchObject({
      file: 'config/motion.yaml',
      ...positionIn(files.get('config/motion.yaml')!, 'logging:'),
      hint: 'move it to config/logging.yaml',
    });
  });

  it('a schema that references nothing is reported, not thrown', () => {
    const files = edit(
      exampleFiles(),
      'schemas/config.schema.json',
      '"$ref": "motion.schema.json"',
      '"$ref": "nothing.schema.json"',
    );
    const report = validateRepository(files);
    expect(report.valid).toBe(false);
    expect(report.diagnostics[0]).toMatchObject({ code: 'schema-invalid', file: 'schemas/config.schema.json' });
    expect(report.diagnostics[0]!.message).toMatch(/nothing\.schema\.json/);
  });
});

describe('cross-section rules', () => {
  it('face recognition needs a defined, enabled detector', () => {
    let files = edit(exampleFiles(), 'config/face_recognition.yaml', 'detector: person', 'detector: persn');
    expect(one(files, 'face-recognition-detector', { environments: ['production'] }).suggestion).toBe('person');
    files = edit(exampleFiles(), 'config/detectors.yaml', 'person:\n    enabled: true', 'person:\n    enabled: false');
    const d = one(files, 'face-recognition-detector', { environments: ['production'] });
    expect(d).toMatchObject({ file: 'config/detectors.yaml', path: 'detectors.person.enabled' });
  });

  it('an enabled notification channel needs its credentials, secrets through the SOPS file', () => {
    const files = edit(
      exampleFiles(),
      'config/notifications.yaml',
      'telegram:\n    enabled: false',
      'telegram:\n    enabled: true\n    chat_id: "42"',
    );
    const d = one(files, 'notification-credentials', { environments: ['staging'] });
    expect(d.message).toBe('notifications.telegram is enabled but has no bot_token');
    expect(d.hint).toBe(
      'add it to the encrypted secrets: gitops secrets set environments/staging/secrets.sops.yaml notifications.telegram.bot_token -',
    );
  });

  it('credentials present in the (encrypted) secrets file satisfy the rule without keys', () => {
    // development's secrets.sops.yaml holds a telegram bot_token; staging's does not
    const files = edit(
      exampleFiles(),
      'config/notifications.yaml',
      'telegram:\n    enabled: false',
      'telegram:\n    enabled: true\n    chat_id: "42"',
    );
    expect(errorsOf(files, { environments: ['development'] })).toEqual([]);
    expect(one(files, 'notification-credentials', { environments: ['staging'] }).message).toBe(
      'notifications.telegram is enabled but has no bot_token',
    );
  });

  it('TLS needs a certificate and a key', () => {
    const files = edit(
      exampleFiles(),
      'environments/production/overrides.yaml',
      '    key_file: /etc/doorbell/tls/web.key\n',
      '',
    );
    expect(one(files, 'tls-files', { environments: ['production'] }).message).toBe(
      'web_interface.tls is enabled but web_interface.tls.key_file is not set',
    );
  });

  it('no two components listen on the same port', () => {
    const files = edit(exampleFiles(), 'config/components.yaml', 'listen_port: 9102', 'listen_port: 9101');
    expect(one(files, 'port-conflict', { environments: ['development'] }).message).toBe(
      'components.detector.listen_port uses port 9101, already taken by components.capture.listen_port',
    );
  });

  it('storage retention must fit max_size_gb, with the numbers to change', () => {
    const files = edit(
      exampleFiles(),
      'environments/staging/devices/stg-office-01.yaml',
      'retention_days: 7',
      'retention_days: 365',
    );
    const d = one(files, 'storage-retention', { environments: ['staging'] });
    expect(d.message).toMatch(/^storage\.retention_days 365 needs about [\d.]+ GB/);
    expect(d.hint).toMatch(/lower storage\.retention_days to \d+/);
  });

  it('components reference only existing sections and components, without cycles', () => {
    let files = edit(exampleFiles(), 'config/components.yaml', 'sections: [notifications]', 'sections: [notification]');
    expect(one(files, 'component-section', { environments: ['development'] }).suggestion).toBe('notifications');
    files = edit(
      exampleFiles(),
      'config/components.yaml',
      'depends_on: [capture]\n    listen_port: 9102',
      'depends_on: [notifier]\n    listen_port: 9102',
    );
    expect(one(files, 'component-cycle', { environments: ['development'] }).message).toMatch(
      /detector -> notifier -> detector/,
    );
  });
});

describe('environment policy', () => {
  it('production refuses debug logging', () => {
    const files = edit(
      exampleFiles(),
      'environments/production/overrides.yaml',
      'face_recognition:',
      'logging:\n  level: debug\nface_recognition:',
    );
    const d = one(files, 'policy-log-level', { environments: ['production'] });
    expect(d).toMatchObject({
      file: 'environments/production/overrides.yaml',
      line: positionIn(files.get('environments/production/overrides.yaml')!, 'level: debug').line,
    });
  });

  it('production refuses an open or plain-HTTP web interface', () => {
    const files = edit(
      edit(exampleFiles(), 'environments/production/overrides.yaml', '    mode: client_certificate', '    mode: none'),
      'environments/production/overrides.yaml',
      'tls:\n    enabled: true',
      'tls:\n    enabled: false',
    );
    const codes = errorsOf(files, { environments: ['production'] })
      .map((d) => d.code)
      .sort();
    expect(codes).toEqual(['policy-tls', 'policy-web-auth']);
  });

  it('a production-tier environment cannot weaken the baseline (watch mode, signatures)', () => {
    const files = edit(
      exampleFiles(),
      'environments/production/environment.yaml',
      'allow_watch_mode: false',
      'allow_watch_mode: true',
    );
    expect(one(files, 'policy-baseline', { environments: ['production'] })).toMatchObject({
      file: 'environments/production/environment.yaml',
      path: 'policy.allow_watch_mode',
    });
  });

  it('a secret with a plaintext value outside a SOPS file is an error at its location', () => {
    const files = edit(
      exampleFiles(),
      'config/notifications.yaml',
      'telegram:\n    enabled: false',
      'telegram:\n    enabled: false\n    bot_token: "123:abc"',
    );
    const d = one(files, 'plaintext-secret', { environments: ['development'] });
    expect(d).toMatchObject({ file: 'config/notifications.yaml', path: 'notifications.telegram.bot_token' });
    expect(JSON.stringify(d)).not.toContain('123:abc');
  });
});

describe('hardware', () => {
  it('a GPU detector on the board without a GPU names the device, its model and what it lacks', () => {
    const files = edit(
      exampleFiles(),
      'environments/production/devices/prod-hamburg-002.yaml',
      'storage:',
      'detectors:\n  person:\n    runtime: cuda\nstorage:',
    );
    const d = one(files, 'hardware-no-cuda');
    expect(d.message).toBe(
      'detector "person" runs on cuda, but device prod-hamburg-002 (model rpi4-camv2) has no NVIDIA GPU and no CUDA',
    );
    const device = 'environments/production/devices/prod-hamburg-002.yaml';
    expect(d).toMatchObject({ file: device, ...positionIn(files.get(device)!, 'runtime: cuda', 'runtime: '.length) });
  });

  it('a camera mode the board does not have names the nearest modes it has', () => {
    const files = edit(
      exampleFiles(),
      'environments/production/devices/prod-hamburg-002.yaml',
      'width: 1024',
      'width: 1025',
    );
    const d = one(files, 'hardware-camera-mode');
    expect(d.message).toMatch(
      /cannot capture 1025x768 in YUYV; it takes sizes from 32x32 to 3280x2464 in steps of 2\/2 pixels; nearest: 1024x768, 1026x768/,
    );
  });

  it('the webcam model refuses YUYV 1080p at 20 fps and names MJPG and H264', () => {
    const files = edit(
      exampleFiles(),
      'environments/production/devices/prod-berlin-001.yaml',
      'fps: 20',
      'fps: 20\n  pixel_format: YUYV',
    );
    const d = one(files, 'hardware-camera-mode');
    expect(d.message).toMatch(
      /^camera \/dev\/video0 supports at most 5 fps at 1920x1080 YUYV; H264 1920x1080 gives 30; MJPG 1920x1080 gives 30/,
    );
  });

  it('CUDA older than the configuration needs is refused', () => {
    const files = edit(exampleFiles(), 'config/hardware.yaml', 'min_cuda_version: "11.4"', 'min_cuda_version: "12.4"');
    expect(one(files, 'hardware-cuda-version', { environments: ['production'] }).message).toBe(
      'device prod-berlin-001 (model edge-p4-c920) offers CUDA 12.0 (driver 525.60.13); the configuration needs CUDA 12.4 or newer',
    );
  });

  it('GPU memory, RAM and disk are checked against the profile', () => {
    let files = edit(exampleFiles(), 'config/detectors.yaml', 'gpu_memory_mb: 900', 'gpu_memory_mb: 9000');
    expect(one(files, 'hardware-gpu-memory', { environments: ['production'] }).message).toMatch(
      /needs 9000 MiB of GPU memory but device prod-berlin-001 \(model edge-p4-c920\) has 7680 MiB on its Tesla P4/,
    );
    files = edit(exampleFiles(), 'config/hardware.yaml', 'min_ram_mb: 1024', 'min_ram_mb: 8192');
    expect(one(files, 'hardware-ram', { environments: ['staging'] }).message).toBe(
      'device stg-office-01 (model rpi4-camv2) has 3792 MiB of RAM; the configuration needs 8192 MiB',
    );
    files = edit(
      exampleFiles(),
      'environments/staging/devices/stg-office-01.yaml',
      'max_size_gb: 8',
      'max_size_gb: 64',
    );
    expect(one(files, 'hardware-disk', { environments: ['staging'] }).hint).toBe(
      'lower storage.max_size_gb to at most 27',
    );
  });

  it('a device whose model has no profile gets "Did you mean"', () => {
    const files = edit(
      exampleFiles(),
      'environments/staging/devices/stg-office-01.yaml',
      'model: rpi4-camv2',
      'model: rpi4-cam2',
    );
    expect(one(files, 'unknown-model').suggestion).toBe('rpi4-camv2');
  });
});

describe('targets', () => {
  it('an unknown environment or device is a diagnostic with a suggestion', () => {
    expect(one(exampleFiles(), 'unknown-environment', { environments: ['prodution'] }).suggestion).toBe('production');
    expect(
      one(exampleFiles(), 'unknown-device', { environments: ['production'], devices: ['prod-berlin-01'] }).suggestion,
    ).toBe('prod-berlin-001');
  });

  it('a device file whose id differs from its name is refused', () => {
    const files = edit(
      exampleFiles(),
      'environments/staging/devices/stg-office-01.yaml',
      'id: stg-office-01',
      'id: stg-office-02',
    );
    expect(one(files, 'device-id-mismatch')).toMatchObject(
      positionIn(files.get('environments/staging/devices/stg-office-01.yaml')!, 'id: stg-office-02', 'id: '.length),
    );
  });

  it('a missing environment.yaml is reported', () => {
    const files = withFiles({ 'environments/staging/environment.yaml': undefined });
    expect(one(files, 'missing-environment-file').file).toBe('environments/staging/environment.yaml');
  });

  it('malformed YAML in one file is a located diagnostic and the rest still validates', () => {
    const files = edit(exampleFiles(), 'config/motion.yaml', 'enabled: true', 'enabled: true\n  enabled: false');
    const errs = errorsOf(files);
    expect(errs.find((d) => d.code === 'duplicate-key')).toMatchObject({
      file: 'config/motion.yaml',
      line: positionIn(files.get('config/motion.yaml')!, 'enabled: false').line,
    });
  });
});

describe('environment-variable overrides', () => {
  it('apply only to x-env fields the policy allows, coerced to the schema type', () => {
    const report = validateRepository(exampleFiles(), {
      environments: ['development'],
      env: { DOORBELL_CAMERA_FPS: '25' },
    });
    expect((report.targets[0]!.result.config.frame_capture as { fps: number }).fps).toBe(25);
    expect(report.targets[0]!.result.provenance.get('/frame_capture/fps')).toMatchObject({
      layer: 'env',
      file: 'env:DOORBELL_CAMERA_FPS',
    });
  });

  it('are ignored with a warning where the policy forbids them', () => {
    const report = validateRepository(exampleFiles(), {
      environments: ['production'],
      env: { DOORBELL_CAMERA_FPS: '25' },
    });
    expect((report.targets[0]!.result.config.frame_capture as { fps: number }).fps).toBe(20);
    expect(report.diagnostics.find((d) => d.code === 'env-override-forbidden')?.hint).toMatch(/allowed_env_overrides/);
  });

  it('a value of the wrong type is an error naming the variable', () => {
    const d = one(exampleFiles(), 'env-override-type', {
      environments: ['development'],
      env: { DOORBELL_CAMERA_FPS: 'fast' },
    });
    expect(d.message).toBe('DOORBELL_CAMERA_FPS="fast" is not a number (it overrides frame_capture.fps)');
  });

  it('out-of-range values are still caught by the schema', () => {
    const d = one(exampleFiles(), 'schema-range', {
      environments: ['development'],
      env: { DOORBELL_CAMERA_FPS: '900' },
    });
    expect(d.file).toBe('env:DOORBELL_CAMERA_FPS');
  });
});

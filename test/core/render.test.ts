import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadDocument } from '../../agent/core/repo/documents.js';
import { renderJson, renderYaml } from '../../agent/core/format/render.js';
import { plaintextSecrets, REDACTED, redactSecrets, render } from '../../agent/core/config/render.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { summariseTarget } from '../../agent/core/format/summary.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { edit, exampleFiles, PROJECT, readText } from '../helpers/project.js';
import { examplePosition } from '../helpers/lines.js';

const BERLIN = 'environments/production/devices/prod-berlin-001.yaml';

const berlin = { environment: 'production', device: 'prod-berlin-001' };

describe('render', () => {
  it('a label interpolated past the length cap is a located error, for CI and the device alike', () => {
    const labelled = edit(
      exampleFiles(),
      'config/notifications.yaml',
      'topic: doorbell-${environment}-${device.id}',
      'topic: doorbell-${device.door}',
    );
    const files = edit(
      labelled,
      'environments/production/devices/prod-berlin-001.yaml',
      'door: front',
      `door: ${'f'.repeat(20_000)}`,
    );
    const r = render(openRepository(files), berlin);
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.path])).toContainEqual([
      'interpolation-too-long',
      expect.any(String),
    ]);
    expect(
      validateRepository(files, { environments: ['production'], devices: ['prod-berlin-001'] }).diagnostics.find(
        (d) => d.code === 'interpolation-too-long',
      ),
    ).toMatchObject({ file: expect.stringMatching(/\.yaml$/), line: expect.any(Number) });
  });
  it('merges the layers in order and interpolates device variables', () => {
    const r = render(openRepository(exampleFiles()), berlin);
    expect(r.diagnostics).toEqual([]);
    expect(r.config.frame_capture).toMatchObject({ width: 1920, fps: 20, pixel_format: 'MJPG', rotation: 0 });
    expect((r.config.notifications as { push: { topic: string } }).push.topic).toBe(
      'doorbell-production-prod-berlin-001',
    );
    expect(r.device).toMatchObject({
      id: 'prod-berlin-001',
      model: 'edge-p4-c920',
      labels: { site: 'berlin-torstrasse', door: 'front' },
    });
    expect(r.environment).toMatchObject({ name: 'production', tier: 'production' });
  });

  it('an environment without a device leaves device variables for the device and says so softly', () => {
    const r = render(openRepository(exampleFiles()), { environment: 'production' });
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'unknown-variable', severity: 'info' })]);
  });

  it('an unknown variable is an error with a suggestion', () => {
    const files = edit(exampleFiles(), 'config/notifications.yaml', '${device.id}', '${device.idd}');
    const r = render(openRepository(files), berlin);
    expect(r.diagnostics[0]).toMatchObject({
      code: 'unknown-variable',
      severity: 'error',
      file: 'config/notifications.yaml',
      suggestion: '${device.id}',
    });
  });

  it('merges decrypted secrets on the device, and redacts them for output', () => {
    const repo = openRepository(exampleFiles());
    const r = render(repo, berlin, { secrets: { notifications: { telegram: { bot_token: '123:secret' } } } });
    expect((r.config.notifications as { telegram: { bot_token: string } }).telegram.bot_token).toBe('123:secret');
    expect(r.provenance.get('/notifications/telegram/bot_token')).toMatchObject({
      layer: 'secrets',
      file: 'environments/production/secrets.sops.yaml',
    });
    expect(plaintextSecrets(repo, r)).toEqual([]);
    const shown = redactSecrets(repo, r.config);
    expect((shown.notifications as { telegram: { bot_token: string } }).telegram.bot_token).toBe(REDACTED);
    expect(renderYaml(shown)).not.toContain('123:secret');
    expect(renderJson(shown, r.provenance)).not.toContain('123:secret');
  });
});

describe('printing a rendered configuration', () => {
  const r = render(openRepository(exampleFiles()), berlin);
  it('YAML with origins puts file:line (layer) beside each value and still parses to the same data', () => {
    const text = renderYaml(r.config, r.provenance);
    const fps = examplePosition(BERLIN, '  fps: 20', '  fps: '.length);
    expect(text).toContain(`fps: 20 # ${BERLIN}:${fps.line}:${fps.column} (device)`);
    expect(parse(text)).toEqual(r.config);
  });
  it('JSON with origins lists the whole chain of each leaf', () => {
    const parsed = JSON.parse(renderJson(r.config, r.provenance)) as {
      origins: Record<string, Array<{ file: string; line?: number; layer: string }>>;
    };
    expect(parsed.origins['frame_capture.width']).toEqual([
      { layer: 'device', file: BERLIN, ...examplePosition(BERLIN, '  width: 1920', '  width: '.length) },
      {
        layer: 'base',
        file: 'config/frame_capture.yaml',
        ...examplePosition('config/frame_capture.yaml', '  width: ', '  width: '.length),
      },
      { layer: 'default', file: 'schemas/frame_capture.schema.json' },
    ]);
    expect(JSON.parse(renderJson(r.config))).toEqual(r.config);
  });
  it('a summary line says what a device runs', () => {
    const report = validateRepository(exampleFiles(), { environments: ['production'], devices: ['prod-berlin-001'] });
    expect(summariseTarget(report.targets[0]!)).toBe(
      '✓ production/prod-berlin-001     edge-p4-c920, 1920x1080 MJPG @ 20 fps, detectors person[cuda], faces[cuda], ' +
        'notify telegram,push, web :8443 tls auth=client_certificate, log info',
    );
  });
});

describe('documents behind the current version', () => {
  it('are migrated in memory with positions kept, and reported', () => {
    const text = readText(`${PROJECT}/test/fixtures/v1/config/frame_capture.yaml`);
    const d = loadDocument('config/frame_capture.yaml', text);
    expect(d.version).toBe(1);
    expect(d.value?.frame_capture).toMatchObject({ width: 1280, height: 720 });
    expect(d.positions.values.get('/frame_capture/width')).toEqual({ line: 10, column: 15 });
    expect(d.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'migration-pending',
        hint: expect.stringMatching(/gitops migrate/),
      }),
    ]);
  });

  it('a step that cannot convert a value is an error', () => {
    const d = loadDocument('config/frame_capture.yaml', 'version: 1\nframe_capture:\n  resolution: huge\n');
    expect(d.diagnostics.map((x) => x.code)).toEqual(['migration-pending', 'migration-failed']);
  });

  it('a non-integer version is refused', () => {
    expect(loadDocument('a.yaml', 'version: "2"\n').diagnostics[0]).toMatchObject({ code: 'bad-version' });
  });
});

// The semantic diff in process: what changes per environment and device, the file and line
// that caused it, policy changes, the head's validity, the risk, and both printed forms.

import { describe, expect, it } from 'vitest';
import { diffRepositories } from '../../agent/core/change/diff.js';
import { formatDiffMarkdown, formatDiffText, riskLine } from '../../agent/core/format/diff.js';
import { edit, exampleFiles, withFiles } from '../helpers/project.js';
import { examplePosition } from '../helpers/lines.js';

const DEVICE = 'environments/production/devices/prod-berlin-001.yaml';

describe('diffRepositories', () => {
  it('the same files: no change, valid, low risk, said plainly in both forms', () => {
    const r = diffRepositories(exampleFiles(), exampleFiles());
    expect(r.targets).toEqual([]);
    expect(r.environments).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.risk.production).toBe(false);
    expect(formatDiffText(r)).toContain('no rendered configuration changes');
    expect(formatDiffMarkdown(r)).toContain('No device runs a different configuration after this change.');
  });

  it('a device value: one target, old -> new with the file and line, production risk', () => {
    const r = diffRepositories(exampleFiles(), edit(exampleFiles(), DEVICE, '  fps: 20', '  fps: 18'), {
      environments: ['production'],
    });
    const fpsLine = examplePosition(DEVICE, '  fps: 20').line;
    expect(r.targets).toHaveLength(1);
    expect(r.targets[0]).toMatchObject({
      environment: 'production',
      device: 'prod-berlin-001',
      tier: 'production',
      status: 'changed',
    });
    expect(r.targets[0]!.changes).toEqual([
      { path: 'frame_capture.fps', change: 'changed', old: 20, new: 18, file: DEVICE, line: fpsLine },
    ]);
    expect(r.risk).toMatchObject({ production: true, devicesAffected: 1 });
    expect(riskLine(r)).toContain('production touched; 1 device(s) affected');
    expect(formatDiffText(r)).toContain(`  ~ frame_capture.fps: 20 -> 18    (${DEVICE}:${fpsLine})`);
    expect(formatDiffMarkdown(r)).toContain(`| \`frame_capture.fps\` | \`20\` | \`18\` | ${DEVICE}:${fpsLine} |`);
  });

  it('a policy change is reported per environment and marked sensitive', () => {
    const r = diffRepositories(
      exampleFiles(),
      edit(
        exampleFiles(),
        'environments/production/environment.yaml',
        '  max_log_level: info',
        '  max_log_level: debug',
      ),
    );
    const prod = r.environments.find((e) => e.environment === 'production')!;
    expect(prod.policy).toEqual([
      expect.objectContaining({ path: 'policy.max_log_level', change: 'changed', old: 'info', new: 'debug' }),
    ]);
    expect(formatDiffText(r)).toContain('production environment:');
    expect(formatDiffMarkdown(r)).toContain('- policy `policy.max_log_level`: `info` → `debug`');
  });

  it('a removed device and an invalid head: status, diagnostics, and the invalid verdict in both forms', () => {
    const head = withFiles(
      { [DEVICE]: undefined },
      edit(exampleFiles(), 'config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 7'),
    );
    const r = diffRepositories(exampleFiles(), head);
    expect(r.valid).toBe(false);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.targets.find((t) => t.device === 'prod-berlin-001')?.status).toBe('removed');
    expect(formatDiffText(r)).toMatch(/head is INVALID \(\d+ error\(s\)\)/);
    const markdown = formatDiffMarkdown(r);
    expect(markdown).toContain('**❌ invalid**');
    expect(markdown).toContain('| file | code | message |');
    expect(markdown).toContain('<b>production/prod-berlin-001</b> (production, removed)');
  });
});

describe('the head validation of a diff', () => {
  const OTHER = 'environments/production/devices/prod-hamburg-002.yaml';
  // a fault the base already has, in a device the change does not touch
  const broken = (): Map<string, string> => withFiles({ [OTHER]: 'version: 2\ndevice:\n  model: [\n' });

  it('a change confined to device files checks those devices (and says so): what it breaks, not an older fault elsewhere', () => {
    const base = broken();
    const r = diffRepositories(base, edit(base, DEVICE, '  fps: 20', '  fps: 18'));
    expect(r.checked).toEqual({ devices: ['prod-berlin-001'] });
    expect(r.valid).toBe(true);
    expect(formatDiffText(r)).toContain('head is valid (the 1 changed device(s) checked;');
    const bad = diffRepositories(base, edit(base, DEVICE, '  fps: 20', '  fps: 500'));
    expect(bad.valid).toBe(false);
    expect(new Set(bad.diagnostics.map((d) => d.file))).toEqual(new Set([DEVICE]));
  });

  it('gitops ci pr asks for the whole head whatever the change', () => {
    const base = broken();
    const r = diffRepositories(base, edit(base, DEVICE, '  fps: 20', '  fps: 18'), { validateWhole: true });
    expect(r.checked).toBeUndefined();
    expect(r.valid).toBe(false);
    expect(r.diagnostics.some((d) => d.file === OTHER)).toBe(true);
  });

  it('any other file in the change: the whole head is checked, the older fault included', () => {
    const base = broken();
    const head = edit(
      edit(base, DEVICE, '  fps: 20', '  fps: 18'),
      'config/motion.yaml',
      'sensitivity: 0.6',
      'sensitivity: 0.5',
    );
    const r = diffRepositories(base, head);
    expect(r.checked).toBeUndefined();
    expect(r.valid).toBe(false);
    expect(r.diagnostics.some((d) => d.file === OTHER)).toBe(true);
    expect(formatDiffText(r)).not.toContain('changed device(s) checked');
  });
});

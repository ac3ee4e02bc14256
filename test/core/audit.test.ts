// The audit trail's pure part: what a commit changed on a selection, the names a selection asks
// for checked against the trees read, pull requests named in subjects, and the text form.

import { describe, expect, it } from 'vitest';
import { AuditSelection, formatAuditText, pullRequestOfSubject } from '../../agent/core/change/audit.js';
import type { AuditEntry } from '../../agent/core/change/audit.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { edit, exampleFiles } from '../helpers/project.js';
import { examplePosition } from '../helpers/lines.js';

const DEVICE = 'environments/production/devices/prod-berlin-001.yaml';

describe('AuditSelection', () => {
  it('a commit that changed a selected device: the change with its target, file and line', () => {
    const before = exampleFiles();
    const after = edit(before, DEVICE, '  fps: 20', '  fps: 18');
    const selection = new AuditSelection({ environments: ['production'], devices: [], path: 'frame_capture' });
    expect(selection.changesOf(before, after)).toEqual({
      changes: [
        {
          target: 'production/prod-berlin-001',
          path: 'frame_capture.fps',
          change: 'changed',
          old: 20,
          new: 18,
          file: DEVICE,
          line: examplePosition(DEVICE, '  fps: 20').line,
        },
      ],
      secrets: [],
    });
    expect(() => selection.check(openRepository(after).schemas)).not.toThrow();
  });

  it('nothing when the commit changed nothing selected: another path, another environment', () => {
    const before = exampleFiles();
    const after = edit(before, DEVICE, '  fps: 20', '  fps: 18');
    expect(
      new AuditSelection({ environments: [], devices: [], path: 'frame_capture.width' }).changesOf(before, after),
    ).toBeUndefined();
    expect(new AuditSelection({ environments: ['staging'], devices: [] }).changesOf(before, after)).toBeUndefined();
    expect(new AuditSelection({ environments: [], devices: [] }).wanted('frame_capture.fps')).toBe(true);
  });

  it('a name no tree held is an error with the nearest name', () => {
    const files = exampleFiles();
    const env = new AuditSelection({ environments: ['prodution'], devices: [] });
    env.note(files);
    expect(() => env.check(undefined)).toThrow(
      expect.objectContaining({ code: 'unknown-environment', message: expect.stringContaining('"production"') }),
    );
    const device = new AuditSelection({ environments: ['production'], devices: ['prod-berlin-01'] });
    device.note(files);
    expect(() => device.check(undefined)).toThrow(expect.objectContaining({ code: 'unknown-device' }));
    const path = new AuditSelection({ environments: [], devices: [], path: 'frame_capture.fsp' });
    path.note(files);
    expect(() => path.check(openRepository(files).schemas)).toThrow(
      expect.objectContaining({ code: 'unknown-path', message: expect.stringContaining('frame_capture.fps') }),
    );
  });
});

describe('pullRequestOfSubject', () => {
  it('reads merge and squash subjects, and nothing else', () => {
    expect(pullRequestOfSubject('Merge pull request #12 from a/b')).toBe(12);
    expect(pullRequestOfSubject('staging: fps 18 (#7)')).toBe(7);
    expect(pullRequestOfSubject('fix #7 later')).toBeUndefined();
  });
});

describe('formatAuditText', () => {
  const entry: AuditEntry = {
    commit: 'a'.repeat(40),
    date: '2026-12-01T10:00:00+00:00',
    subject: 'slower camera',
    author: 'A <a@x>',
    committer: 'C <c@x>',
    pr: 3,
    signature: { verdict: 'trusted', signer: 'ops@x' },
    changes: [
      {
        target: 'production/d1',
        path: 'frame_capture.fps',
        change: 'changed',
        old: 20,
        new: 18,
        file: 'f.yaml',
        line: 2,
      },
      { target: 'production/d1', path: 'labels', change: 'added', new: { a: 1 } },
      { target: 'production/d1', path: 'x', change: 'removed', old: 'y' },
    ],
    secrets: [{ environment: 'production', path: 'web.password', change: 'changed' }],
  };

  it('a commit line, who signed it, then each change', () => {
    expect(formatAuditText([entry])).toEqual([
      'aaaaaaaaaaaa 2026-12-01 10:00:00  slower camera  (PR #3)',
      '    author A <a@x>; committer C <c@x>; signature trusted by ops@x',
      '    production/d1: frame_capture.fps 20 -> 18  (f.yaml:2)',
      '    production/d1: labels + {"a":1}',
      '    production/d1: x - y',
      '    production: secret web.password changed',
    ]);
    expect(formatAuditText([])).toEqual(['no commit changed what the selected devices run']);
  });
});

// How `gitops agent ...` prints the API's answers (core/format/agent-answers.ts), to the byte,
// at a fixed time: status, journal, releases, diff, sync and rollback.

import { describe, expect, it } from 'vitest';
import { INITIAL_STATE } from '../../agent/core/contracts/agent-state.js';
import type { StatusAnswer, SyncAnswer } from '../../agent/core/contracts/api.js';
import {
  ago,
  formatDiff,
  formatJournal,
  formatReleases,
  formatRollback,
  formatStatus,
  formatSync,
  syncFailed,
} from '../../agent/core/format/agent-answers.js';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('ago', () => {
  it('counts seconds, minutes, hours and days before now', () => {
    expect(ago('2026-12-01T11:59:15.000Z', NOW)).toBe('45 s ago');
    expect(ago('2026-12-01T11:30:00.000Z', NOW)).toBe('30 min ago');
    expect(ago('2026-12-01T06:00:00.000Z', NOW)).toBe('6 h ago');
    expect(ago('2026-11-21T12:00:00.000Z', NOW)).toBe('10 days ago');
    expect(ago(null, NOW)).toBe('never');
  });
});

describe('formatStatus', () => {
  const status: StatusAnswer = {
    environment: 'production',
    device: 'front-door-01',
    mode: 'remote',
    current: {
      commit: A,
      subject: 'faster capture',
      signer: 'ops@example.com',
      committed_at: '2026-12-01T11:00:00.000Z',
      written_at: '2026-12-01T11:01:00.000Z',
      applied_at: '2026-12-01T11:58:00.000Z',
    },
    last_good: { commit: A },
    components: [],
    syncing: false,
    last_sync: { time: '2026-12-01T11:59:30.000Z', trigger: 'poll', result: 'up to date' },
    last_error: null,
    next_poll: '2026-12-01T12:01:00.000Z',
    caller: { role: 'viewer', name: 'loopback' },
    state: INITIAL_STATE,
  };

  it('says what runs, since when, the last sync and the components', () => {
    expect(formatStatus(status, NOW)).toBe(
      [
        'production/front-door-01 (remote)',
        '  runs       aaaaaaaaaaaa "faster capture", signed by ops@example.com, committed 60 min ago; applied 2 min ago',
        '  last good  the same',
        '  last sync  up to date (poll, 30 s ago); next poll 2026-12-01T12:01:00.000Z',
        '  components not checked yet',
      ].join('\n'),
    );
  });

  it('a device following its wave says which ref and wave', () => {
    const following = {
      ...status,
      state: { ...INITIAL_STATE, following: { wave: 'canary', ref: 'refs/heads/rollout/production/canary' } },
    };
    expect(formatStatus(following, NOW).split('\n')[1]).toBe(
      '  follows    refs/heads/rollout/production/canary (wave canary)',
    );
    const branch = { ...status, state: { ...INITIAL_STATE, following: { wave: 'all', ref: 'refs/heads/main' } } };
    expect(formatStatus(branch, NOW).split('\n')[1]).toBe('  follows    refs/heads/main');
  });

  it("names each experiment's variant and state, and a switchback experiment's block, phase and next switch", () => {
    const inExperiments: StatusAnswer = {
      ...status,
      experiments: [
        { experiment: 'motion', bucket: 0.2, variant: 'low', set: { 'motion.sensitivity': 0.45 }, state: 'applied' },
        {
          experiment: 'night',
          bucket: 0.7,
          variant: 'control',
          set: {},
          state: 'applied',
          switchback: {
            block_hours: 1,
            washout_minutes: 15,
            block: 493932,
            phase: 'washout',
            block_end: '2026-12-01T13:00:00.000Z',
            washout_end: '2026-12-01T12:15:00.000Z',
            next_switch: '2026-12-01T14:00:00.000Z',
          },
        },
        { experiment: 'other', bucket: 0.9, variant: null, set: {}, state: 'not-in' },
      ],
    };
    expect(
      formatStatus(inExperiments, NOW)
        .split('\n')
        .find((l) => l.startsWith('  experiments')),
    ).toBe(
      '  experiments motion: low (applied), ' +
        'night: control (applied) [switchback block 493932, washout, next switch 2026-12-01T14:00:00.000Z], other: not in',
    );
  });

  it('a sync that found nothing to do says why, after its result', () => {
    const held = {
      ...status,
      last_sync: {
        time: '2026-12-01T11:59:30.000Z',
        trigger: 'watch',
        result: 'held' as const,
        detail: 'the working tree is tree-0123456789abcdef, which was refused',
      },
      next_poll: null,
    };
    expect(formatStatus(held, NOW).split('\n')[3]).toBe(
      '  last sync  held (watch, 30 s ago): the working tree is tree-0123456789abcdef, which was refused',
    );
  });
  it('shows another last good, the last error over several lines, and unhealthy components', () => {
    const text = formatStatus(
      {
        ...status,
        current: null,
        last_good: { commit: B, subject: null, signer: null, committed_at: null, written_at: null },
        last_sync: null,
        next_poll: null,
        last_error: {
          time: '2026-12-01T11:50:00.000Z',
          commit: B,
          code: 'invalid',
          reason: 'the configuration is not valid:\nframe_capture.fps too high',
        },
        components: [
          { name: 'capture', healthy: true, since: '2026-12-01T11:00:00.000Z' },
          { name: 'detector', healthy: false, reason: 'no heartbeat', since: '2026-12-01T11:00:00.000Z' },
          { name: 'uploader', healthy: false, since: '2026-12-01T11:00:00.000Z' },
        ],
      },
      NOW,
    );
    expect(text).toBe(
      [
        'production/front-door-01 (remote)',
        '  runs       nothing',
        '  last good  bbbbbbbbbbbb',
        '  last sync  none yet',
        '  last error invalid on bbbbbbbbbbbb 10 min ago: the configuration is not valid:',
        '             frame_capture.fps too high',
        '  components capture healthy, detector UNHEALTHY (no heartbeat), uploader UNHEALTHY (?)',
      ].join('\n'),
    );
  });
});

describe('formatJournal', () => {
  it('puts one entry on a line, with what it has, and says when there is none', () => {
    expect(
      formatJournal([
        {
          time: '2026-12-01T08:00:00.000Z',
          event: 'rolled-back',
          commit: A,
          to: B,
          by: 'alice',
          code: 'health',
          reason: 'detector crashed\nstack...',
        },
        { time: '2026-12-01T07:00:00.000Z', event: 'health-changed', commit: A, component: 'detector' },
        { event: 'refused', subject: { odd: true } },
      ]),
    ).toBe(
      [
        '2026-12-01T08:00:00.000Z  rolled-back    aaaaaaaaaaaa -> bbbbbbbbbbbb by alice [health]: detector crashed',
        '2026-12-01T07:00:00.000Z  health-changed aaaaaaaaaaaa detector',
        '?  refused        - "{"odd":true}"',
      ].join('\n'),
    );
    expect(formatJournal([])).toBe('the journal is empty');
  });
});

describe('formatJournal of runtime layers', () => {
  it('says which lease (owner, path, value, actor) and which governor move', () => {
    expect(
      formatJournal([
        {
          time: 'T1',
          event: 'lease-set',
          commit: A,
          path: 'frame_capture.fps',
          owner: 'operator',
          actor: 'ops',
          value: 10,
        },
        {
          time: 'T2',
          event: 'lease-refused',
          path: 'frame_capture.fps',
          owner: 'operator',
          value: 40,
          code: 'lease-out-of-bounds',
        },
        { time: 'T3', event: 'governor-step', from: 0, to: 1, step: 'face_recognition_off', reason: 'soc_temp is hot' },
        { time: 'T4', event: 'lease-cleared', path: 'frame_capture.fps', owner: 'governor', actor: 'governor/ladder' },
      ]),
    ).toBe(
      [
        'T1  lease-set      aaaaaaaaaaaa operator frame_capture.fps=10 by ops',
        'T2  lease-refused  - operator frame_capture.fps=40 [lease-out-of-bounds]',
        'T3  governor-step  - step 0 -> 1 (face_recognition_off): soc_temp is hot',
        'T4  lease-cleared  - governor frame_capture.fps by governor/ladder',
      ].join('\n'),
    );
  });
});

describe('formatReleases', () => {
  it('marks the running release and each one good, bad or neither', () => {
    const release = { subject: null, signer: null, committed_at: null, written_at: null, last_good: false };
    expect(
      formatReleases([
        { ...release, commit: A, current: true, good: true, bad: false, subject: 'x', signer: 'ops', written_at: 'T2' },
        { ...release, commit: B, current: false, good: true, bad: true },
        { ...release, commit: 'tree-0123456789abcdef', current: false, good: false, bad: false },
      ]),
    ).toBe(['* aaaaaaaaaaaa  good T2  x (ops)', '  bbbbbbbbbbbb  bad    ', '  tree-0123456  -      '].join('\n'));
  });
});

describe('formatDiff', () => {
  it('shows each change, a secret without its values, and no differences', () => {
    expect(
      formatDiff({
        from: { commit: A },
        to: { commit: B },
        changes: [
          { path: 'frame_capture.fps', change: 'changed', old: 15, new: 30 },
          { path: 'detectors[1]', change: 'added', new: { model: 'yolo' } },
          { path: 'uploader.token', change: 'changed', secret: true },
          { path: 'debug', change: 'removed', old: true },
        ],
      }),
    ).toBe(
      [
        'aaaaaaaaaaaa -> bbbbbbbbbbbb',
        '  ~ frame_capture.fps: 15 -> 30',
        '  + detectors[1]: null -> {"model":"yolo"}',
        '  ~ uploader.token (secret, value not shown)',
        '  - debug: true -> null',
      ].join('\n'),
    );
    expect(formatDiff({ from: null, to: { commit: A }, changes: [] })).toBe('- -> aaaaaaaaaaaa\n  no differences');
  });
});

describe('formatSync and formatRollback', () => {
  it('print the outcome, and say when a sync did not apply', () => {
    const applied: SyncAnswer = { outcome: 'applied', commit: A, components: ['capture', 'detector'], ms: 1234.4 };
    expect(formatSync(applied)).toBe('applied aaaaaaaaaaaa: reconfigured capture, detector in 1234 ms');
    const refused: SyncAnswer = { outcome: 'refused', commit: A, reason: 'unsigned\ncommit is not signed', ms: 5 };
    expect(formatSync(refused)).toBe('refused aaaaaaaaaaaa\n  unsigned\n  commit is not signed in 5 ms');
    const failed: SyncAnswer = {
      outcome: 'no-change',
      state: { time: '2026-12-01T11:59:00.000Z', trigger: 'api (alice)', result: 'failed' },
      error: null,
    };
    expect(formatSync(failed)).toBe('no-change: failed');
    expect(formatSync({ outcome: 'no-change', state: null, error: null })).toBe('no-change');
    expect([applied, refused, failed].map(syncFailed)).toEqual([false, true, true]);
    expect(syncFailed({ outcome: 'rolled-back', commit: A, ms: 1 })).toBe(true);
    expect(formatRollback({ outcome: 'rolled-back', commit: B, components: [], ms: 99.6 })).toBe(
      'rolled back to bbbbbbbbbbbb; reconfigured nothing in 100 ms',
    );
  });
});

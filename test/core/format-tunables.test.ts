// Durations on the command line (parseDuration: 30m, 2h, 90s, 1h30m; a bad one is a usage error)
// and shown back (formatDuration, remaining), and the runtime layers as people read them, to the
// byte at a fixed time: the tunables answer (fields, bounds, signed and effective values, the
// winner, each lease with owner, actor, reason and remaining time), the governor's view, and
// what a lease change came to. Answers of another agent version may lack fields.

import { describe, expect, it } from 'vitest';
import type { GovernorView, LeaseAnswer, TunableEntry, TunablesAnswer } from '../../agent/core/contracts/api.js';
import { formatDuration, parseDuration, remaining } from '../../agent/core/format/duration.js';
import {
  describeLease,
  formatActiveLeases,
  formatGovernor,
  formatLeaseAnswer,
  formatRuntimeLayers,
  formatTunables,
} from '../../agent/core/format/tunables.js';
import { parseLeaseAssignment } from '../../agent/core/format/tune-args.js';
import { effectiveValue } from '../../agent/core/tunables/effective.js';
import type { Lease } from '../../agent/core/tunables/lease.js';
import type { TunableSpec } from '../../agent/core/tunables/spec.js';
import { withCode } from '../helpers/codes.js';

const NOW = Date.parse('2030-06-01T12:00:00.000Z');
const iso = (offsetS: number): string => new Date(NOW + offsetS * 1000).toISOString();
const A = 'a'.repeat(40);

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1d', 86_400],
    ['45', 45],
    [' 10m ', 600],
  ])('reads %j as %i seconds', (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  it.each(['', '0', '0m', '-5m', '1.5h', '30 minutes', 'm', '1h 30m', '30M', 'forever', '1w'])(
    'refuses %j as a usage error with a hint',
    (text) => {
      expect(() => parseDuration(text)).toThrow(withCode('usage', 'is not a duration'));
      try {
        parseDuration(text);
      } catch (e) {
        expect((e as { hint: string }).hint).toContain('1h30m');
      }
    },
  );
});

describe('parseLeaseAssignment', () => {
  it.each([
    ['frame_capture.fps=10', 10],
    ['motion.sensitivity=0.45', 0.45],
    ['face_recognition.enabled=false', false],
    ['face_recognition.enabled=true', true],
    ['logging.level=debug', 'debug'],
    ['logging.level="info"', 'info'],
    ['logging.level=a=b', 'a=b'],
    ['logging.level=', ''],
  ])('reads %j', (arg, value) => expect(parseLeaseAssignment(arg).value).toEqual(value));

  it.each([
    'frame_capture.fps',
    '=10',
    'fps=10',
    'frame capture.fps=1',
    'a.b[0]=1',
    'a.b={"x":1}',
    'a.b=[1]',
    'a.b=null',
  ])('refuses %j as a usage error', (arg) => expect(() => parseLeaseAssignment(arg)).toThrow(withCode('usage')));
});

describe('formatDuration and remaining', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [60, '1m'],
    [1799, '29m59s'],
    [3600, '1h'],
    [5400, '1h30m'],
    [5430, '1h30m'],
    [90_000, '1d1h'],
    [-3, '0s'],
  ])('%i s is %s', (s, text) => expect(formatDuration(s)).toBe(text));

  it('counts down to an expiry, and says when it has passed', () => {
    expect(remaining(iso(1799.2), NOW)).toBe('30m left');
    expect(remaining(iso(61), NOW)).toBe('1m1s left');
    expect(remaining(iso(0), NOW)).toBe('expired');
    expect(remaining('soon', NOW)).toBe('?');
  });
});

const fpsSpec: TunableSpec = {
  kind: 'range',
  path: 'frame_capture.fps',
  minimum: 5,
  maximum: 20,
  step: 1,
  origin: 1,
  applies: 'restart',
  safe_direction: 'down',
  owners: ['operator', 'governor', 'experiment', 'tuner'],
  default_ttl_seconds: 900,
  max_ttl_seconds: 86_400,
  max_changes_per_hour: 6,
  narrowed_by: ['environments/production/overrides.yaml'],
};
const levelSpec: TunableSpec = {
  kind: 'enum',
  path: 'logging.level',
  enum: ['debug', 'info', 'warn'],
  applies: 'hot',
  owners: ['operator'],
  default_ttl_seconds: 3600,
  max_ttl_seconds: 86_400,
  max_changes_per_hour: 12,
  narrowed_by: [],
};
const lease = (over: Partial<Lease>): Lease => ({
  path: 'frame_capture.fps',
  owner: 'operator',
  actor: 'oncall',
  reason: 'hot afternoon',
  value: 10,
  start: iso(-60),
  expires: iso(1799),
  commit: A,
  ...over,
});
const entry = (spec: TunableSpec, signed: TunableEntry['signed'], leases: Lease[]): TunableEntry => {
  const ev = effectiveValue(signed ?? undefined, spec, leases, NOW);
  return { path: spec.path, spec, signed, value: ev.value ?? null, winner: ev.winner, layers: ev.layers };
};

const governor: GovernorView = {
  enabled: true,
  step: 1,
  steps: [
    { name: 'no-faces', set: { 'face_recognition.enabled': false } },
    { name: 'fewer-frames', set: { 'frame_capture.fps': 10, 'detectors.person.frame_interval': 2 } },
  ],
  signals: [
    { name: 'soc_temp_c', value: 81.5, state: 'hot', since: iso(-120), enter_above: 78, exit_below: 70 },
    { name: 'inference_latency_ms', value: null, state: 'normal', since: null, enter_above: 250, exit_below: 120 },
    { name: 'dropped_frames_per_s', value: 0.4, state: 'leaving', since: iso(-30), enter_above: 2, exit_below: 0.5 },
  ],
  last_transition: { at: iso(-90), from: 0, to: 1, reason: 'soc_temp_c above 78 for 30 s' },
  transitions_last_hour: 1,
  max_transitions_per_hour: 6,
};

describe('formatTunables', () => {
  const leases = [
    lease({}),
    lease({ owner: 'governor', actor: 'load-governor', reason: 'step fewer-frames', value: 12, expires: iso(300) }),
    lease({ path: 'motion.sensitivity', value: 0.5, actor: 'alice', reason: 'windy', expires: iso(-5) }),
  ];
  const answer: TunablesAnswer = {
    commit: A,
    now: iso(0),
    tunables: [entry(fpsSpec, 15, leases), entry(levelSpec, 'info', [])],
    leases,
    governor,
  };

  it('shows each field, its layers, the winner, the leases with their remaining time, and the governor', () => {
    expect(formatTunables(answer)).toBe(
      [
        'tunables of aaaaaaaaaaaa',
        'frame_capture.fps = 10  (operator lease; signed 15; 5..20 step 1, applies by restart)',
        '    governor 12 by load-governor "step fewer-frames", 5m left',
        '  * operator 10 by oncall "hot afternoon", 29m59s left',
        'logging.level = "info"  (signed; one of debug, info, warn, applies hot)',
        'leases on fields this release does not list:',
        '  motion.sensitivity: operator 0.5 by alice "windy", expired',
        'governor   step 1 of 2 (no-faces); 1 move in the last hour, at most 6',
        '  > 1 no-faces: face_recognition.enabled=false',
        '    2 fewer-frames: frame_capture.fps=10, detectors.person.frame_interval=2',
        '  signal soc_temp_c 81.5: HOT since 2 min ago (enter above 78, exit below 70)',
        '  signal inference_latency_ms (no sample): normal (enter above 250, exit below 120)',
        '  signal dropped_frames_per_s 0.4: below its exit threshold, dwelling since 30 s ago (enter above 2, exit below 0.5)',
        '  last move 0 -> 1 2 min ago: soc_temp_c above 78 for 30 s',
      ].join('\n'),
    );
  });

  it('counts down from the time given, and marks held, clamped and expired layers', () => {
    const odd = [
      lease({ value: 25 }), // clamped to 20
      lease({ owner: 'governor', actor: 'load-governor', reason: 'step', value: 18, expires: iso(300) }), // less safe than 15: held
    ];
    const text = formatTunables(
      { ...answer, tunables: [entry(fpsSpec, 15, odd)], leases: odd, governor: null },
      NOW + 600_000,
    );
    expect(text).toBe(
      [
        'tunables of aaaaaaaaaaaa',
        'frame_capture.fps = 20  (operator lease; signed 15; 5..20 step 1, applies by restart)',
        '    governor 18 by load-governor "step", expired [held: the layers below are more conservative]',
        '  * operator 25 by oncall "hot afternoon", 19m59s left (clamped to 20)',
      ].join('\n'),
    );
  });

  it('says when nothing runs or nothing is tunable, and survives an answer missing fields', () => {
    expect(formatTunables({ commit: null, now: iso(0), tunables: [], leases: [], governor: null })).toBe(
      'tunables of nothing (no release runs yet)\n  no field of this release is tunable at runtime',
    );
    const sparse = { commit: A, now: iso(0), tunables: [{ path: 'x.y', value: 3, winner: 'signed' }] };
    expect(formatTunables(sparse as unknown as TunablesAnswer)).toBe('tunables of aaaaaaaaaaaa\nx.y = 3  (signed)');
    expect(describeLease({}, NOW)).toBe('? (not set) by ?, ?');
  });
});

describe('formatRuntimeLayers', () => {
  it('lists every layer lowest first, the winner marked, and what runs', () => {
    const leases = [
      lease({}),
      lease({ owner: 'governor', actor: 'load-governor', reason: 'step', value: 18, expires: iso(300) }),
    ];
    expect(formatRuntimeLayers(entry(fpsSpec, 15, leases), A, NOW)).toBe(
      [
        '  runtime layers on the agent (release aaaaaaaaaaaa), lowest first:',
        '    signed     15',
        '    experiment -',
        '    tuner      -',
        '    governor   18 by load-governor "step", 5m left [held: the layers below are more conservative]',
        '  * operator   10 by oncall "hot afternoon", 29m59s left',
        '  runs 10 (the operator lease wins)',
      ].join('\n'),
    );
    expect(
      formatRuntimeLayers(entry(fpsSpec, 15, []), A, NOW)
        .split('\n')
        .slice(1, 2)
        .concat(
          formatRuntimeLayers(entry(fpsSpec, 15, []), A, NOW)
            .split('\n')
            .slice(-1),
        ),
    ).toEqual(['  * signed     15', '  runs 15 (the signed value wins)']);
  });
});

describe('formatGovernor', () => {
  it('shows an idle governor at the signed configuration, and one that is off', () => {
    const idle: GovernorView = { ...governor, step: 0, signals: [], last_transition: null, transitions_last_hour: 0 };
    expect(formatGovernor(idle, NOW)).toBe(
      [
        'governor   step 0 of 2 (the signed configuration); 0 moves in the last hour, at most 6',
        '    1 no-faces: face_recognition.enabled=false',
        '    2 fewer-frames: frame_capture.fps=10, detectors.person.frame_interval=2',
      ].join('\n'),
    );
    expect(formatGovernor({ ...governor, enabled: false }, NOW)).toBe('governor   off');
  });
});

describe('formatActiveLeases', () => {
  it('lists the leases in force only, one a line', () => {
    const list = [
      lease({}),
      lease({ path: 'logging.level', value: 'debug', expires: iso(-1) }),
      lease({ path: 'storage.retention_days', value: 3, start: iso(10) }),
    ];
    expect(formatActiveLeases(list, NOW)).toBe(
      '  leases     frame_capture.fps: operator 10 by oncall "hot afternoon", 29m59s left',
    );
    expect(formatActiveLeases([lease({}), lease({ path: 'logging.level', value: 'debug' })], NOW)).toBe(
      [
        '  leases     frame_capture.fps: operator 10 by oncall "hot afternoon", 29m59s left',
        '             logging.level: operator "debug" by oncall "hot afternoon", 29m59s left',
      ].join('\n'),
    );
    expect(formatActiveLeases([], NOW)).toBe('  leases     none');
  });
});

describe('formatLeaseAnswer', () => {
  it('says what was applied, reconfigured and for how long; and what a clear gave back', () => {
    const set: LeaseAnswer = {
      outcome: 'applied',
      path: 'frame_capture.fps',
      owner: 'operator',
      lease: lease({ start: iso(0), expires: iso(1800) }),
      value: 10,
      winner: 'operator',
      components: ['capture', 'detector'],
      ms: 41.6,
    };
    expect(formatLeaseAnswer(set, NOW)).toBe(
      'applied: frame_capture.fps = 10 (operator lease); reconfigured capture, detector in 42 ms\n' +
        '  lease operator 10 by oncall "hot afternoon", 30m left',
    );
    const clear: LeaseAnswer = {
      ...set,
      outcome: 'unchanged',
      lease: null,
      value: 15,
      winner: 'signed',
      components: [],
    };
    expect(formatLeaseAnswer(clear, NOW)).toBe(
      'unchanged: frame_capture.fps = 15 (signed); nothing to reconfigure in 42 ms',
    );
  });
});

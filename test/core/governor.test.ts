// The load governor's state machine on replayed traces with an injected clock (every time is an epoch
// millisecond passed in): one signal's hysteresis and dwell, the ladder degrading fast and restoring
// slowly within its hourly budget, no data holding, the governor turned off, rules that change under a
// running state, and the view the API shows.

import { describe, expect, it } from 'vitest';
import { governorRules, isProtected, expandPath, rulesOfConfig } from '../../agent/core/governor/rules.js';
import type { GovernorRules, SignalRule } from '../../agent/core/governor/rules.js';
import { initialSignal, initialState, stepSignal, tick, wantedDetail } from '../../agent/core/governor/governor.js';
import type { GovernorMove, GovernorState, Samples, SignalState } from '../../agent/core/governor/governor.js';
import { governorView } from '../../agent/core/governor/view.js';
import { governorSection } from '../helpers/governor.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const S = 1000;

const section = governorSection;

/** Replays `value(t)` (seconds since T0 -> samples) once a tick from `from` to `to` seconds; the moves, the states. */
function replay(
  rules: GovernorRules,
  samples: (t: number) => Samples,
  to: number,
  options: { from?: number; state?: GovernorState } = {},
): { moves: GovernorMove[]; state: GovernorState; steps: number[] } {
  let state = options.state ?? initialState();
  const moves: GovernorMove[] = [];
  const steps: number[] = [];
  for (let t = options.from ?? 0; t <= to; t += rules.tickMs / S) {
    const r = tick(rules, state, samples(t), T0 + t * S);
    state = r.state;
    if (r.move) moves.push(r.move);
    steps.push(state.step);
  }
  return { moves, state, steps };
}

const temp = (f: (t: number) => number | undefined) => (t: number) => ({ soc_temp_c: f(t) });
const at = (t: number): number => T0 + t * S;

describe('one signal: two thresholds and two dwell times', () => {
  const rule: SignalRule = governorRules(section()).signals[0]!;
  const run = (values: Array<[number, number | undefined]>) => {
    let s = initialSignal();
    return values.map(([t, v]) => (s = stepSignal(rule, s, v, at(t))).state);
  };

  it('enters after staying above enter_above for enter_for_seconds, leaves after staying below exit_below for exit_for_seconds', () => {
    expect(
      run([
        [0, 60],
        [1, 79],
        [30, 79],
        [31, 79],
        [40, 72],
        [50, 69],
        [349, 69],
        [350, 69],
      ]),
    ).toEqual(['normal', 'entering', 'entering', 'hot', 'hot', 'leaving', 'leaving', 'normal']);
  });

  it('a value back inside the band ends a dwell: entering falls back to normal, leaving back to hot', () => {
    expect(
      run([
        [0, 80],
        [20, 75],
        [21, 80],
        [51, 80],
        [60, 65],
        [200, 71],
        [201, 65],
      ]),
    ).toEqual(['entering', 'normal', 'entering', 'hot', 'leaving', 'hot', 'leaving']);
  });

  it('between the thresholds a signal stays where it is', () => {
    expect(
      run([
        [0, 74],
        [1, 77.9],
        [2, 70.1],
        [3, 78],
      ]),
    ).toEqual(['normal', 'normal', 'normal', 'normal']);
    let s: SignalState = { ...initialSignal(), state: 'hot', since: at(0) };
    for (let t = 1; t < 1000; t++) s = stepSignal(rule, s, 70 + (t % 9), at(t));
    expect(s.state).toBe('hot');
  });

  it('a zero dwell enters and leaves at the first sample beyond the threshold', () => {
    const quick = { ...rule, enterForMs: 0, exitForMs: 0 };
    let s = stepSignal(quick, initialSignal(), 79, at(0));
    expect(s).toEqual({ state: 'hot', since: at(0), value: 79, sampled_at: at(0) });
    s = stepSignal(quick, s, 69, at(1));
    expect(s.state).toBe('normal');
  });

  it('a signal where low is bad (enter_below, exit_above) mirrors it', () => {
    const memory = governorRules(
      section({
        signals: {
          memory: {
            source: 'mem_available_ratio',
            enter_below: 0.1,
            exit_above: 0.2,
            enter_for_seconds: 10,
            exit_for_seconds: 60,
          },
        },
      }),
    ).signals[0]!;
    expect(memory).toMatchObject({ direction: 'below', enter: 0.1, exit: 0.2 });
    let s = initialSignal();
    const states = (
      [
        [0, 0.05],
        [10, 0.05],
        [11, 0.15],
        [12, 0.25],
        [72, 0.25],
      ] as const
    ).map(([t, v]) => (s = stepSignal(memory, s, v, at(t))).state);
    expect(states).toEqual(['entering', 'hot', 'hot', 'leaving', 'normal']);
  });

  it('no data holds: a missing sample keeps the state, the entering dwell runs on, the leaving dwell starts over', () => {
    expect(
      run([
        [0, 79],
        [10, undefined],
        [30, 79],
      ]),
    ).toEqual(['entering', 'entering', 'hot']);
    let s = stepSignal(rule, { ...initialSignal(), state: 'hot', since: at(0) }, 60, at(10));
    expect(s).toMatchObject({ state: 'leaving', since: at(10) });
    s = stepSignal(rule, s, undefined, at(200));
    expect(s).toMatchObject({ state: 'leaving', since: at(200), value: null, sampled_at: at(10) });
    // 300 s after the gap, not after the first sample below
    s = stepSignal(rule, s, 60, at(310));
    expect(s.state).toBe('leaving');
    s = stepSignal(rule, s, 60, at(500));
    expect(s.state).toBe('normal');
    expect(stepSignal(rule, initialSignal(), Number.NaN, at(0))).toEqual({ ...initialSignal(), value: null });
  });
});

describe('the ladder', () => {
  const rules = governorRules(section());

  it('a signal that turns hot steps down in the same tick, and the step is wanted at once', () => {
    let state = initialState();
    for (let t = 0; t < 30; t++) {
      const r = tick(rules, state, { soc_temp_c: 80 }, at(t));
      expect(r.move).toBeNull();
      expect(r.wanted).toEqual({});
      state = r.state;
    }
    const r = tick(rules, state, { soc_temp_c: 80 }, at(30));
    expect(r.move).toEqual({
      at: at(30),
      from: 0,
      to: 1,
      reason: 'soc_temp is hot: soc_temp_c 80 above 78 for 30 s',
      signal: 'soc_temp',
      value: 80,
    });
    expect(r.wanted).toEqual({ 'face_recognition.enabled': false });
    expect(r.changes).toEqual([{ signal: 'soc_temp', from: 'entering', to: 'hot', value: 80, at: at(30) }]);
  });

  it('degrades one step per degrade_interval while hot, to the end of the ladder, later steps winning', () => {
    const { moves, state } = replay(
      rules,
      temp(() => 85),
      600,
    );
    expect(moves.map((m) => [(m.at - T0) / S, m.from, m.to])).toEqual([
      [30, 0, 1],
      [60, 1, 2],
      [90, 2, 3],
      [120, 3, 4],
    ]);
    expect(tick(rules, state, { soc_temp_c: 85 }, at(601)).wanted).toEqual({
      'face_recognition.enabled': false,
      'frame_capture.fps': 5,
      'detectors.person.frame_interval': 2,
    });
    expect(wantedDetail(rules, 4).find((w) => w.path === 'frame_capture.fps')).toEqual({
      path: 'frame_capture.fps',
      value: 5,
      step: 'fps_5',
    });
  });

  it('restores one step per restore_interval once every signal is normal, after the exit dwell', () => {
    const hot = replay(
      rules,
      temp(() => 85),
      100,
    );
    expect(hot.state.step).toBe(3);
    const cool = replay(
      rules,
      temp(() => 60),
      3000,
      { from: 101, state: hot.state },
    );
    // normal 300 s after the first sample below 70 (t=101 -> 401); the last move was at t=90: 401 is 311 s later
    expect(cool.moves.map((m) => [(m.at - T0) / S, m.from, m.to])).toEqual([
      [401, 3, 2],
      [701, 2, 1],
      [1001, 1, 0],
    ]);
    expect(cool.moves[0]!.reason).toBe(
      'every signal is normal; the last to settle, soc_temp: soc_temp_c 60 below 70 for 300 s',
    );
    expect(cool.state.step).toBe(0);
  });

  it('holds while a signal is entering or leaving, and says why it holds a due move', () => {
    const hot = replay(
      rules,
      temp(() => 85),
      35,
    );
    expect(hot.state.step).toBe(1);
    const r = tick(rules, hot.state, { soc_temp_c: 85 }, at(40));
    expect(r.move).toBeNull();
    expect(r.held).toEqual({ direction: 'down', reason: 'the last step down was 10 s ago, at least 30 s apart' });
    const leaving = replay(
      rules,
      temp(() => 65),
      200,
      { from: 36, state: hot.state },
    );
    expect(leaving.moves).toEqual([]);
    expect(leaving.state.signals.soc_temp!.state).toBe('leaving');
  });

  it('never makes more than max_transitions_per_hour moves in any hour', () => {
    const tight = governorRules(
      section({
        max_transitions_per_hour: 3,
        restore_interval_seconds: 0,
        degrade_interval_seconds: 0,
        signals: { soc_temp: { source: 'soc_temp_c', enter_above: 78, exit_below: 70 } },
      }),
    );
    // flips every 10 s between hot and cool: without a budget, a move every 10 s
    const { moves } = replay(
      tight,
      temp((t) => (Math.floor(t / 10) % 2 === 0 ? 90 : 50)),
      7199,
    );
    const times = moves.map((m) => m.at);
    for (const t of times) expect(times.filter((x) => x > t - 3_600_000 && x <= t).length).toBeLessThanOrEqual(3);
    expect(moves.length).toBe(6);
    const held = tick(
      tight,
      replay(
        tight,
        temp(() => 90),
        25,
      ).state,
      { soc_temp_c: 90 },
      at(26),
    );
    expect(held.state.step).toBe(3);
  });

  it('no data holds: a hot signal without samples steps no further, a step is never restored on missing data', () => {
    const hot = replay(
      rules,
      temp(() => 85),
      35,
    );
    expect(hot.state.step).toBe(1);
    const silent = replay(
      rules,
      temp(() => undefined),
      7200,
      { from: 36, state: hot.state },
    );
    expect(silent.moves).toEqual([]);
    expect(silent.state.signals.soc_temp).toMatchObject({ state: 'hot', value: null });
    // data again: still hot, so it goes on down
    const again = replay(
      rules,
      temp(() => 85),
      7201,
      { from: 7201, state: silent.state },
    );
    expect(again.moves.map((m) => m.to)).toEqual([2]);
  });

  it('with several signals, any hot one degrades and all must be normal to restore', () => {
    const two = governorRules(
      section({
        signals: {
          soc_temp: { source: 'soc_temp_c', enter_above: 78, exit_below: 70 },
          latency: { source: 'detector.inference_latency_ms', enter_above: 100, exit_below: 50 },
        },
      }),
    );
    let r = tick(two, undefined, { soc_temp_c: 60, 'detector.inference_latency_ms': 150 }, at(0));
    expect(r.move).toMatchObject({
      to: 1,
      signal: 'latency',
      reason: 'latency is hot: detector.inference_latency_ms 150 above 100 for 0 s',
    });
    r = tick(two, r.state, { soc_temp_c: 60, 'detector.inference_latency_ms': 40 }, at(400));
    expect(r.move).toMatchObject({ from: 1, to: 0, signal: 'latency' });
    r = tick(two, r.state, { soc_temp_c: 90, 'detector.inference_latency_ms': 40 }, at(401));
    expect(r.move).toMatchObject({ from: 0, to: 1, signal: 'soc_temp' });
    r = tick(two, r.state, { soc_temp_c: 90, 'detector.inference_latency_ms': 160 }, at(700));
    r = tick(two, r.state, { soc_temp_c: 60, 'detector.inference_latency_ms': 160 }, at(2000));
    // one signal normal, the other still hot: it degrades on, never restores
    expect(r.move).toMatchObject({ from: 2, to: 3, signal: 'latency' });
    // the latency has no sample now: it stays hot (no data holds): no further step down, no restore
    r = tick(two, r.state, { soc_temp_c: 60 }, at(2400));
    expect(r.move).toBeNull();
    r = tick(two, r.state, { soc_temp_c: 60, 'detector.inference_latency_ms': 40 }, at(2401));
    expect(r.move).toMatchObject({ from: 3, to: 2, signal: 'latency' });
  });

  it('turned off, it lets go of its step at once and wants nothing', () => {
    const hot = replay(
      rules,
      temp(() => 85),
      100,
    );
    const off = governorRules(section({ enabled: false }));
    const r = tick(off, hot.state, { soc_temp_c: 85 }, at(101));
    expect(r.move).toMatchObject({ from: 3, to: 0, reason: 'the load governor is turned off', signal: null });
    expect(r.wanted).toEqual({});
    expect(tick(off, r.state, { soc_temp_c: 85 }, at(102)).move).toBeNull();
  });

  it('takes a state of older rules: a shorter ladder cuts the step, gone signals are dropped, new ones start normal', () => {
    const hot = replay(
      rules,
      temp(() => 85),
      200,
    );
    expect(hot.state.step).toBe(4);
    const shorter = governorRules(
      section({
        ladder: [{ name: 'faces_off', set: { 'face_recognition.enabled': false } }],
        signals: { cpu: { source: 'cpu_utilisation', enter_above: 0.9, exit_below: 0.7 } },
      }),
    );
    const r = tick(shorter, hot.state, { cpu_utilisation: 0.5 }, at(201));
    expect(r.state.step).toBe(1);
    expect(Object.keys(r.state.signals)).toEqual(['cpu']);
    expect(r.wanted).toEqual({ 'face_recognition.enabled': false });
  });

  it('keeps its state as plain JSON', () => {
    const { state } = replay(
      rules,
      temp((t) => (t < 200 ? 85 : 60)),
      900,
    );
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    const a = tick(rules, state, { soc_temp_c: 60 }, at(901));
    const b = tick(rules, JSON.parse(JSON.stringify(state)) as GovernorState, { soc_temp_c: 60 }, at(901));
    expect(b).toEqual(a);
  });
});

describe('rules', () => {
  it('expand * over the signed configuration, and keep protected paths out of what the governor wants', () => {
    const config = { detectors: { person: { input_size: 300 }, package: {} }, notifications: { events: ['ring'] } };
    expect(expandPath('detectors.*.frame_interval', config)).toEqual([
      'detectors.package.frame_interval',
      'detectors.person.frame_interval',
    ]);
    expect(expandPath('motion.*.ignore', config)).toEqual([]);
    expect(expandPath('frame_capture.fps', config)).toEqual(['frame_capture.fps']);
    const rules = governorRules(
      section({
        ladder: [{ name: 'bad', set: { 'detectors.*.frame_interval': 2, 'notifications.push.enabled': false } }],
        protected: [],
      }),
      config,
    );
    expect(rules.protected).toEqual(['notifications', 'web_interface', 'storage']);
    expect(rules.ladder[0]!.set).toEqual({
      'detectors.package.frame_interval': 2,
      'detectors.person.frame_interval': 2,
      'notifications.push.enabled': false,
    });
    expect(tick(rules, undefined, {}, at(0)).wanted).toEqual({});
    expect(wantedDetail(rules, 1).map((w) => w.path)).toEqual([
      'detectors.package.frame_interval',
      'detectors.person.frame_interval',
    ]);
    expect(isProtected('storage', ['storage'])).toBe(true);
    expect(isProtected('storage_extra.x', ['storage'])).toBe(false);
    expect(isProtected('detectors.person.labels', ['detectors.*.labels'])).toBe(true);
    expect(isProtected('detectors.*.labels', ['detectors.person'])).toBe(true);
  });

  it('a configuration without the section has the schema defaults: off, nothing watched', () => {
    const rules = rulesOfConfig({});
    expect(rules).toMatchObject({ enabled: false, tickMs: 1000, signals: [], ladder: [], maxTransitionsPerHour: 12 });
  });
});

describe('the view', () => {
  it('shows steps, signals with their thresholds and since, the last transition and the hourly count', () => {
    const rules = governorRules(
      section({
        signals: {
          soc_temp: {
            source: 'soc_temp_c',
            enter_above: 78,
            exit_below: 70,
            enter_for_seconds: 30,
            exit_for_seconds: 300,
          },
          memory: { source: 'mem_available_ratio', enter_below: 0.1, exit_above: 0.2 },
        },
      }),
    );
    expect(governorView(rules, undefined, at(0))).toMatchObject({
      enabled: true,
      step: 0,
      last_transition: null,
      transitions_last_hour: 0,
      max_transitions_per_hour: 12,
      signals: [
        {
          name: 'soc_temp',
          value: null,
          state: 'normal',
          since: null,
          enter_above: 78,
          exit_below: 70,
          direction: 'above',
        },
        {
          name: 'memory',
          value: null,
          state: 'normal',
          since: null,
          enter_above: 0.1,
          exit_below: 0.2,
          direction: 'below',
        },
      ],
    });
    const { state } = replay(rules, (t) => ({ soc_temp_c: 85, mem_available_ratio: t < 10 ? 0.5 : undefined }), 40);
    const view = governorView(rules, state, at(40));
    expect(view.step).toBe(1);
    expect(view.steps[0]).toEqual({ name: 'faces_off', set: { 'face_recognition.enabled': false } });
    expect(view.signals[0]).toMatchObject({ value: 85, state: 'hot', since: '2026-12-01T10:00:30.000Z' });
    expect(view.signals[1]).toMatchObject({ value: null, state: 'normal', since: '2026-12-01T10:00:00.000Z' });
    expect(view.last_transition).toEqual({
      at: '2026-12-01T10:00:30.000Z',
      from: 0,
      to: 1,
      reason: 'soc_temp is hot: soc_temp_c 85 above 78 for 30 s',
    });
    expect(view.transitions_last_hour).toBe(1);
    expect(governorView(rules, state, at(40 + 3600)).transitions_last_hour).toBe(0);
  });
});

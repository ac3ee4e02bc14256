// The load governor over replayed traces (fast-check), with an injected clock: over any trace the ladder
// moves one step at a time, degrades no faster than degrade_interval, restores no sooner than
// restore_interval after its last move, never exceeds its hourly budget, takes a due step in the tick
// that makes it due (within one tick), and never wants a protected field. A temperature oscillating
// inside the hysteresis band never flaps. With the example's rules, every value the governor wants
// passes what CI asks of a ladder value (checkAssignment against the target's narrowed specs) and is at
// least as conservative as the signed value. Last, a thermal ramp is followed step by step down and
// back up: shared/fixtures/hardware holds no temperature trace over time (its tegrastats capture is a
// single idle line), so the ramp is modelled here, a first-order heating curve that starts at that
// capture's idle tj temperature and whose heat falls with each step.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { governorRules, isProtected, rulesOfConfig } from '../../agent/core/governor/rules.js';
import type { GovernorRules } from '../../agent/core/governor/rules.js';
import { initialState, tick, wantedValues } from '../../agent/core/governor/governor.js';
import type { GovernorMove, GovernorState, Samples, TickResult } from '../../agent/core/governor/governor.js';
import type { LoadGovernor } from '../../agent/core/config/schema-types.js';
import { governorSection, SOC_TEMP } from '../helpers/governor.js';
import { render } from '../../agent/core/config/render.js';
import { getAt } from '../../agent/core/json/value.js';
import { parseTegrastats } from '../../agent/core/parsers/tegra.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { atLeastAsSafe } from '../../agent/core/tunables/effective.js';
import { checkAssignment } from '../../agent/core/tunables/lease.js';
import { targetTunables } from '../../agent/core/tunables/narrowing.js';
import { keySegments } from '../../agent/core/tunables/spec.js';
import { exampleFiles } from '../helpers/project.js';
import { fixture, hasShared } from '../helpers/shared.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const HOUR = 3_600_000;

interface Tick {
  at: number;
  samples: Samples;
  result: TickResult;
  before: GovernorState;
}

function run(rules: GovernorRules, trace: Array<{ at: number; samples: Samples }>, start?: GovernorState): Tick[] {
  let state = start ?? initialState();
  return trace.map(({ at, samples }) => {
    const result = tick(rules, state, samples, at);
    const t = { at, samples, result, before: state };
    state = result.state;
    return t;
  });
}

/** What every run of the governor keeps to, whatever the trace (plain checks: thousands of ticks a run). */
function checkInvariants(rules: GovernorRules, ticks: Tick[]): void {
  const fail = (t: Tick, why: string): never =>
    expect.fail(`at ${(t.at - T0) / 1000} s: ${why} (${JSON.stringify(t.result.state)})`);
  const moves: GovernorMove[] = [];
  let lastDown: GovernorMove | undefined;
  for (const t of ticks) {
    const { state, move, wanted } = t.result;
    if (state.step < 0 || state.step > rules.ladder.length) fail(t, `step ${state.step} is off the ladder`);
    if (JSON.stringify(wanted) !== JSON.stringify(wantedValues(rules, state.step)))
      fail(t, 'wanted is not the merged steps');
    for (const path of Object.keys(wanted))
      if (isProtected(path, rules.protected)) fail(t, `wanted holds protected ${path}`);
    const hotNow = rules.signals.some(
      (r) => state.signals[r.name]!.state === 'hot' && state.signals[r.name]!.value !== null,
    );
    const allNormal = rules.signals.every((r) => state.signals[r.name]!.state === 'normal');
    if (move) {
      if (Math.abs(move.to - move.from) !== 1) fail(t, 'a move of more than one step');
      if (move.to > move.from) {
        if (!hotNow) fail(t, 'a step down without a hot, sampled signal');
        if (lastDown && move.at - lastDown.at < rules.degradeIntervalMs)
          fail(t, 'two steps down within degrade_interval');
        lastDown = move;
      } else {
        if (!allNormal) fail(t, 'a step up while a signal is not normal');
        const previous = moves.at(-1);
        if (previous && move.at - previous.at < rules.restoreIntervalMs) fail(t, 'a step up within restore_interval');
      }
      moves.push(move);
      if (moves.filter((x) => x.at > move.at - HOUR).length > rules.maxTransitionsPerHour)
        fail(t, 'over the hourly budget');
    } else {
      // a step down that is due is taken in this tick: within one tick of the signal turning hot
      const before = t.before.last_down_at;
      const recent = t.before.moves.filter((m) => m > t.at - HOUR && m <= t.at).length;
      if (
        hotNow &&
        t.before.step < rules.ladder.length &&
        (before === null || t.at - before >= rules.degradeIntervalMs) &&
        recent < rules.maxTransitionsPerHour
      )
        fail(t, 'a due step down was not taken');
    }
  }
}

const sectionArb: fc.Arbitrary<LoadGovernor> = fc
  .record({
    degrade: fc.integer({ min: 0, max: 60 }),
    restore: fc.integer({ min: 0, max: 600 }),
    budget: fc.integer({ min: 1, max: 20 }),
    enterFor: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 3, maxLength: 3 }),
    exitFor: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 3, maxLength: 3 }),
    steps: fc.integer({ min: 1, max: 6 }),
  })
  .map(({ degrade, restore, budget, enterFor, exitFor, steps }) =>
    governorSection({
      degrade_interval_seconds: degrade,
      restore_interval_seconds: restore,
      max_transitions_per_hour: budget,
      signals: {
        soc_temp: { ...SOC_TEMP, enter_for_seconds: enterFor[0], exit_for_seconds: exitFor[0] },
        cpu: {
          source: 'cpu_utilisation',
          enter_above: 0.9,
          exit_below: 0.7,
          enter_for_seconds: enterFor[1],
          exit_for_seconds: exitFor[1],
        },
        latency: {
          source: 'detector.inference_latency_ms',
          enter_above: 100,
          exit_below: 50,
          enter_for_seconds: enterFor[2],
          exit_for_seconds: exitFor[2],
        },
      },
      // every step also tries a protected field: the governor must never want it
      ladder: Array.from({ length: steps }, (_, i) => ({
        name: `step_${i + 1}`,
        set: { 'frame_capture.fps': 20 - i * 3, [`notifications.push.step_${i}`]: false, 'storage.retention_days': 1 },
      })),
      protected: [],
    }),
  );

/** A trace: ticks 1 s apart (sometimes skipped), each source's value, or none (a missing sample). */
const traceArb = fc
  .array(
    fc.record({
      gap: fc.constantFrom(1, 1, 1, 1, 5, 60),
      soc: fc.option(fc.double({ min: 40, max: 95, noNaN: true }), { freq: 8 }),
      cpu: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 8 }),
      latency: fc.option(fc.double({ min: 0, max: 300, noNaN: true }), { freq: 4 }),
      hold: fc.integer({ min: 1, max: 120 }),
    }),
    { minLength: 1, maxLength: 80 },
  )
  .map((segments) => {
    // each segment holds its values for `hold` ticks, so that dwell times can pass
    const out: Array<{ at: number; samples: Samples }> = [];
    let t = T0;
    for (const s of segments)
      for (let i = 0; i < s.hold; i++) {
        t += s.gap * 1000;
        out.push({
          at: t,
          samples: {
            soc_temp_c: s.soc ?? undefined,
            cpu_utilisation: s.cpu ?? undefined,
            'detector.inference_latency_ms': s.latency ?? undefined,
          },
        });
      }
    return out;
  });

describe('the governor over any trace', () => {
  it('moves one step at a time, within its intervals and hourly budget, at once when due, never wanting a protected field', () => {
    fc.assert(
      fc.property(sectionArb, traceArb, (section, trace) => {
        const rules = governorRules(section);
        checkInvariants(rules, run(rules, trace));
      }),
      { numRuns: 150 },
    );
  });

  it('a temperature oscillating inside the hysteresis band never flaps', () => {
    const rules = governorRules(
      governorSection({
        ladder: [1, 2, 3, 4, 5].map((i) => ({ name: `s${i}`, set: { 'frame_capture.fps': 20 - i } })),
      }),
    );
    const band = fc.array(fc.double({ min: 70, max: 78, noNaN: true }), { minLength: 1, maxLength: 4000 });
    fc.assert(
      fc.property(band, fc.boolean(), (values, startHot) => {
        // the trip point's half band either side of the middle: 74 +- 4, thresholds included
        const trace = values.map((v, i) => ({ at: T0 + (i + 1) * 1000, samples: { soc_temp_c: v } }));
        const start: GovernorState = startHot
          ? { ...initialState(), signals: { soc_temp: { state: 'hot', since: T0, value: 80, sampled_at: T0 } } }
          : initialState();
        const ticks = run(rules, trace, start);
        checkInvariants(rules, ticks);
        const moves = ticks.map((t) => t.result.move).filter((m): m is GovernorMove => m !== null);
        // starting normal nothing moves; starting hot it only degrades (never a step back up), one step per window
        if (!startHot) expect(moves).toEqual([]);
        else expect(moves.every((m) => m.to === m.from + 1)).toBe(true);
        for (let i = 1; i < moves.length; i++) expect(moves[i]!.at - moves[i - 1]!.at).toBeGreaterThanOrEqual(30_000);
        expect(moves.length).toBeLessThanOrEqual(Math.min(5, Math.ceil(values.length / 30)));
      }),
      { numRuns: 60 },
    );
  });

  it('a temperature flipping across both thresholds faster than the dwell times never moves the ladder', () => {
    const rules = rulesOfConfig(
      render(openRepository(exampleFiles()), { environment: 'production', device: 'prod-berlin-001' }).config,
    );
    // 20 s above 78, 20 s below 70: entering needs 30 s, leaving 300 s
    const trace = Array.from({ length: 7200 }, (_, i) => ({
      at: T0 + i * 1000,
      samples: { soc_temp_c: Math.floor(i / 20) % 2 ? 65 : 82 },
    }));
    const ticks = run(rules, trace);
    expect(ticks.filter((t) => t.result.move)).toEqual([]);
  });
});

describe('with the example repository', () => {
  const repo = openRepository(exampleFiles());
  const targets = [
    { environment: 'production', device: 'prod-berlin-001' },
    { environment: 'production', device: 'prod-hamburg-002' },
    { environment: 'staging', device: 'stg-office-01' },
  ];

  it.each(targets)(
    'every value the governor wants on $device passes checkAssignment and is at least as safe as the signed one',
    (target) => {
      const config = render(repo, target).config;
      const rules = rulesOfConfig(config);
      expect(rules.enabled).toBe(true);
      const table = targetTunables(repo, target)!;
      const exampleTrace = traceArb.map((trace) =>
        trace.map((t) => ({
          at: t.at,
          samples: {
            ...t.samples,
            'detector.dropped_frames_per_s': (t.samples.cpu_utilisation ?? 0) * 3,
            gpu_throttled: (t.samples.soc_temp_c ?? 0) > 85 ? 1 : 0,
            mem_available_ratio: 1 - (t.samples.cpu_utilisation ?? 0),
          },
        })),
      );
      fc.assert(
        fc.property(exampleTrace, (trace) => {
          const ticks = run(rules, trace);
          checkInvariants(rules, ticks);
          const wanted = new Map(
            ticks.flatMap((t) => Object.entries(t.result.wanted).map(([p, v]) => [`${p}=${v}`, [p, v] as const])),
          );
          for (const [path, value] of wanted.values()) {
            expect(
              checkAssignment(path, value, 'governor', (p) => table.at(p)),
              path,
            ).toEqual([]);
            expect(atLeastAsSafe(table.at(path)!, value, getAt(config, keySegments(path)) ?? 1), path).toBe(true);
          }
        }),
        { numRuns: 40 },
      );
    },
  );
});

describe('a thermal ramp is followed step by step down and back up', () => {
  // The idle temperature of the ramp: tj of the captured Jetson AGX Orin tegrastats line (44.343 C).
  const idle = hasShared ? parseTegrastats(fixture('jetson/tegrastats_agx-orin-64gb.txt')).temperaturesC.tj! : 44.343;
  if (!hasShared)
    process.stderr.write('NOTE: ../shared is absent: the thermal ramp starts at the recorded 44.343 C itself\n');
  const rules = rulesOfConfig(
    render(openRepository(exampleFiles()), { environment: 'production', device: 'prod-berlin-001' }).config,
  );

  /**
   * First-order heating towards idle + heat x (1 - 0.1 x step): a workload from 60 s to 2400 s heats
   * the SoC by 46 C at step 0 (towards about 90 C), each step down takes a tenth of that heat away;
   * the time constant is 60 s. One sample a second.
   */
  function simulate(governed: boolean): { ticks: Tick[]; temps: number[] } {
    let state = initialState();
    let temp = idle;
    const ticks: Tick[] = [];
    const temps: number[] = [];
    for (let s = 0; s < 3 * 3600; s++) {
      const at = T0 + s * 1000;
      const heat = s >= 60 && s < 2400 ? 46 : 0;
      const step = governed ? state.step : 0;
      temp += (idle + heat * (1 - 0.1 * step) - temp) / 60;
      const samples = { soc_temp_c: Math.round(temp * 1000) / 1000 };
      const result = tick(rules, state, samples, at);
      ticks.push({ at, samples, result, before: state });
      temps.push(temp);
      if (governed) state = result.state;
    }
    return { ticks, temps };
  }

  it('down while hot, back to the signed configuration after the load, one step at a time, cooler than without it', () => {
    expect(idle).toBeCloseTo(44.343, 3);
    const governed = simulate(true);
    checkInvariants(rules, governed.ticks);
    const moves = governed.ticks.map((t) => t.result.move).filter((m): m is GovernorMove => m !== null);
    const path = moves.map((m) => m.to);
    // first all the way down, step by step (hot until below 70 C, which only the last step reaches)
    expect(path.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    for (const m of moves.slice(0, 5))
      expect(m.reason).toMatch(/^soc_temp is hot: soc_temp_c \d+(\.\d+)? above 78 for 30 s$/);
    // the first step is taken in the tick in which the signal turned hot
    const hotAt = governed.ticks.find((t) => t.result.changes.some((c) => c.to === 'hot'))!;
    expect(hotAt.result.move).toMatchObject({ from: 0, to: 1 });
    // after the workload: back up to 0, one step per restore interval at least, and nothing more
    const afterLoad = moves.filter((m) => m.at >= T0 + 2400 * 1000);
    expect(afterLoad.length).toBeGreaterThan(0);
    expect(afterLoad.every((m) => m.to === m.from - 1)).toBe(true);
    expect(governed.ticks.at(-1)!.result.state.step).toBe(0);
    expect(moves.at(-1)!.reason).toMatch(
      /^every signal is normal; the last to settle, soc_temp: soc_temp_c [\d.]+ below 70 for 300 s$/,
    );
    // against no governor: a lower peak and less time above the enter threshold
    const baseline = simulate(false);
    const above = (temps: number[]): number => temps.filter((t) => t > 78).length;
    expect(Math.max(...governed.temps)).toBeLessThan(Math.max(...baseline.temps) - 3);
    expect(above(governed.temps)).toBeLessThan(above(baseline.temps) / 2);
    // the budget of the example: at most 10 moves in any hour
    for (const m of moves)
      expect(moves.filter((x) => x.at > m.at - HOUR && x.at <= m.at).length).toBeLessThanOrEqual(10);
  });
});

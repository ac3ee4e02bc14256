// The rollout gate's decisions (agent/core/rollout/gate.ts), pure: the gate's verdicts on telemetry,
// what advance promotes, holds, blocks or halts, emergencies, the state document's transitions;
// and properties over random histories: a wave is never promoted past the commit its predecessor
// followed, every promotion is a fast-forward, and no data never passes a gate.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ancestryPairs,
  countFor,
  decideAdvance,
  decideEmergency,
  gateOf,
  telemetryOf,
} from '../../agent/core/rollout/gate.js';
import type { RolloutInput, Telemetry } from '../../agent/core/rollout/gate.js';
import {
  emptyState,
  isResumed,
  lastPromotion,
  withHalt,
  withPromotions,
  withResume,
} from '../../agent/core/rollout/state.js';
import type { RolloutState } from '../../agent/core/rollout/state.js';
import { withCode } from '../helpers/codes.js';

const C = (n: number): string => n.toString(16).padStart(2, '0').repeat(20); // a 40-digit commit id per index
const WAVES = ['canary', 'early', 'stable'];
const LIMITS = { maxRolledBack: 0, maxRefusing: 1 };
const T0 = Date.parse('2026-03-01T10:00:00Z');

/** A linear history C(0) <- C(1) <- ...: a commit is an ancestor of every later one. */
function input(o: {
  head: number;
  refs: Array<number | undefined>;
  state?: RolloutState;
  now?: number;
  telemetry?: Telemetry;
  expected?: number[];
  bakes?: number[];
  emergency?: number;
}): RolloutInput {
  const refs = Object.fromEntries(WAVES.map((w, i) => [w, o.refs[i] === undefined ? undefined : C(o.refs[i])]));
  const index = (c: string): number => parseInt(c.slice(0, 2), 16);
  const ancestry = new Map(
    ancestryPairs(WAVES, refs, C(o.head), o.emergency === undefined ? undefined : C(o.emergency)).map(
      ([a, b]) => [`${a}..${b}`, index(a) <= index(b)] as const,
    ),
  );
  return {
    environment: 'production',
    rollout: {
      waves: WAVES.map((name, i) => ({
        name,
        share: [2, 20, 78][i]!,
        bakeSeconds: o.bakes?.[i] ?? [3600, 7200, 0][i]!,
      })),
      gates: Object.fromEntries(WAVES.map((w) => [w, LIMITS])),
    },
    expected: Object.fromEntries(WAVES.map((w, i) => [w, o.expected?.[i] ?? 3])),
    branch: { name: 'main', commit: C(o.head) },
    refs,
    ancestry,
    state: o.state ?? emptyState('production'),
    now: o.now ?? T0,
    telemetry: o.telemetry,
    by: 'test',
  };
}

const promoted = (state: RolloutState, wave: string, commit: number, at: number): RolloutState =>
  withPromotions(state, [{ wave, commit: C(commit), at: new Date(at).toISOString(), by: 'test', emergency: false }]);

const running = (wave: string, commit: number, n: number): Telemetry => ({
  [wave]: { running: { [C(commit)]: n }, refused: {}, rolledBack: {} },
});

describe('the gate of a wave', () => {
  it('holds without telemetry, without a reporting device, and while no device runs the commit', () => {
    expect(gateOf('canary', C(1), LIMITS, 3, undefined)).toMatchObject({
      verdict: 'hold',
      reason: expect.stringContaining('--prometheus'),
    });
    expect(gateOf('canary', C(1), LIMITS, 3, {})).toMatchObject({
      verdict: 'hold',
      reason: 'no data: no device of canary reports (3 planned)',
    });
    expect(gateOf('canary', C(1), LIMITS, 3, running('canary', 0, 3)).verdict).toBe('hold');
  });

  it('passes on devices running the commit within the limits; an empty wave (planned and reported) passes', () => {
    const t: Telemetry = { canary: { running: { [C(1)]: 2 }, refused: { [C(1)]: 1 }, rolledBack: {} } };
    expect(gateOf('canary', C(1), LIMITS, 3, t)).toMatchObject({
      verdict: 'pass',
      running: 2,
      refused: 1,
      rolledBack: 0,
    });
    expect(gateOf('early', C(1), LIMITS, 0, t)).toMatchObject({ verdict: 'pass' });
  });

  it('holds while a reporting device has not taken the commit (it may be in its own bake of it), then judges', () => {
    // 1 of 6 runs the new commit, 5 still run the old one: not judged yet
    const early: Telemetry = { canary: { running: { [C(0)]: 5, [C(1)]: 1 }, refused: {}, rolledBack: {} } };
    expect(gateOf('canary', C(1), LIMITS, 6, early)).toMatchObject({
      verdict: 'hold',
      reason: `5 devices of canary have not taken ${C(1).slice(0, 7)} yet (1 run it)`,
    });
    // those that rolled it back run the old one again, and say so: no longer pending, and too many
    const judged: Telemetry = { canary: { running: { [C(0)]: 3, [C(1)]: 3 }, refused: {}, rolledBack: { [C(1)]: 3 } } };
    expect(gateOf('canary', C(1), LIMITS, 6, judged).verdict).toBe('fail');
    // a refusal within the limit counts as taken: the rest run it, it passes
    const settled: Telemetry = {
      canary: { running: { [C(0)]: 1, [C(1)]: 5 }, refused: { [C(1)]: 1 }, rolledBack: {} },
    };
    expect(gateOf('canary', C(1), LIMITS, 6, settled).verdict).toBe('pass');
  });

  it('fails on more rollbacks or refusals than allowed, saying how many of which wave and the limit', () => {
    const t: Telemetry = { canary: { running: {}, refused: { [C(1)]: 2 }, rolledBack: { [C(1)]: 3 } } };
    const g = gateOf('canary', C(1), LIMITS, 3, t);
    expect(g.verdict).toBe('fail');
    expect(g.reason).toBe(
      `3 devices of canary rolled back ${C(1).slice(0, 7)}, the gate allows 0; 2 devices of canary refused ${C(1).slice(0, 7)}, the gate allows 1`,
    );
  });

  it('counts labels that are the commit or a prefix of it (7 digits or more)', () => {
    expect(countFor({ [C(1)]: 1, [C(1).slice(0, 7)]: 2, [C(1).slice(0, 6)]: 4, [C(2)]: 8 }, C(1))).toBe(3);
  });

  it('reads the two instant vectors the queries answer', () => {
    const t = telemetryOf(
      [{ metric: { wave: 'canary', commit: C(1) }, value: [0, '2'] }],
      [
        { metric: { wave: 'canary', commit: C(1), outcome: 'rolled-back' }, value: [0, '1'] },
        { metric: { wave: 'early', commit: C(1), outcome: 'refused' }, value: [0, '4'] },
      ],
    );
    expect(t).toEqual({
      canary: { running: { [C(1)]: 2 }, refused: {}, rolledBack: { [C(1)]: 1 } },
      early: { running: {}, refused: { [C(1)]: 4 }, rolledBack: {} },
    });
  });
});

describe('advance', () => {
  it('creates the canary at the head of the branch; the later waves wait for it', () => {
    const d = decideAdvance(input({ head: 1, refs: [] }));
    expect(d.promotions.map((p) => [p.wave, p.commit, p.from, p.moves])).toEqual([['canary', C(1), null, true]]);
    expect(d.notes.map((n) => [n.wave, n.kind])).toEqual([
      ['early', 'hold'],
      ['stable', 'hold'],
    ]);
  });

  it('holds the next wave while the canary bakes, then promotes it to what the canary baked once its gate passes', () => {
    const state = promoted(emptyState('production'), 'canary', 1, T0);
    const baking = decideAdvance(
      input({ head: 1, refs: [1], state, now: T0 + 1000 * 1000, telemetry: running('canary', 1, 3) }),
    );
    expect(baking.promotions).toEqual([]);
    expect(baking.notes.find((n) => n.wave === 'early')!.reason).toMatch(
      /waits for canary to bake .* 2600 s left of 3600 s/,
    );
    // baked; meanwhile main moved on: canary takes the new head, early what canary baked
    const baked = decideAdvance(
      input({ head: 2, refs: [1], state, now: T0 + 3601 * 1000, telemetry: running('canary', 1, 3) }),
    );
    expect(baked.promotions.map((p) => [p.wave, p.commit])).toEqual([
      ['canary', C(2)],
      ['early', C(1)],
    ]);
  });

  it('a failed gate halts the rollout (even during the bake) and promotes nothing', () => {
    const state = promoted(emptyState('production'), 'canary', 1, T0);
    const t: Telemetry = { canary: { running: { [C(0)]: 3 }, refused: {}, rolledBack: { [C(1)]: 3 } } };
    const d = decideAdvance(input({ head: 2, refs: [1], state, now: T0 + 10_000, telemetry: t }));
    expect(d.promotions).toEqual([]);
    expect(d.halt).toMatchObject({ wave: 'canary', commit: C(1), by: 'test' });
    expect(d.halt!.reason).toContain(`3 devices of canary rolled back ${C(1).slice(0, 7)}, the gate allows 0`);
    // halted: nothing, whatever the rest says
    const halted = decideAdvance(input({ head: 2, refs: [1], state: withHalt(state, d.halt!), telemetry: t }));
    expect(halted.halted).toEqual(d.halt);
    expect(halted.promotions).toEqual([]);
    // resumed: the failure halts no more, the canary takes the fix, and the bad commit goes no further
    const resumed = withResume(withHalt(state, d.halt!));
    expect(isResumed(resumed, 'canary', C(1))).toBe(true);
    const after = decideAdvance(input({ head: 2, refs: [1], state: resumed, now: T0 + 3601 * 1000, telemetry: t }));
    expect(after.halt).toBeUndefined();
    expect(after.promotions.map((p) => [p.wave, p.commit])).toEqual([['canary', C(2)]]);
    expect(after.notes.find((n) => n.wave === 'early')!.kind).toBe('hold');
  });

  it('never moves a ref that is not an ancestor of its target: blocked, said', () => {
    // stable ahead of early (moved by hand): not a fast-forward
    let state = promoted(emptyState('production'), 'canary', 3, T0);
    state = promoted(state, 'early', 1, T0);
    state = promoted(state, 'stable', 2, T0);
    const d = decideAdvance(
      input({ head: 3, refs: [3, 1, 2], state, now: T0 + 10 ** 8, telemetry: running('early', 1, 3) }),
    );
    expect(d.promotions.map((p) => p.wave)).toEqual([]);
    expect(d.notes.find((n) => n.wave === 'stable')).toMatchObject({ kind: 'blocked' });
  });

  it('records a ref found without a promotion: its bake starts now', () => {
    const d = decideAdvance(input({ head: 1, refs: [1], now: T0 }));
    expect(d.promotions).toEqual([expect.objectContaining({ wave: 'canary', commit: C(1), moves: false })]);
    const state = withPromotions(emptyState('production'), d.promotions);
    expect(lastPromotion(state, 'canary', C(1))?.at).toBe(new Date(T0).toISOString());
    expect(Object.keys(state.history[0]!)).toEqual(['wave', 'commit', 'at', 'by', 'emergency', 'reason']);
  });
});

describe('an emergency', () => {
  it('promotes one commit of the branch to every wave, recorded as such', () => {
    const d = decideEmergency(input({ head: 3, refs: [2, 1], emergency: 3 }), C(3), 'camera crash on boot');
    expect(d.promotions.map((p) => [p.wave, p.commit, p.emergency, p.reason])).toEqual(
      WAVES.map((w) => [w, C(3), true, 'camera crash on boot']),
    );
  });

  it('is refused as a whole when a wave cannot fast-forward to it, or the commit is not on the branch', () => {
    expect(() => decideEmergency(input({ head: 3, refs: [3, 2], emergency: 1 }), C(1), 'x')).toThrow(
      withCode('rollout-not-fast-forward'),
    );
    expect(() => decideEmergency(input({ head: 2, refs: [], emergency: 3 }), C(3), 'x')).toThrow(
      withCode('rollout-not-fast-forward'),
    );
  });
});

describe('properties', () => {
  const arbitraryInput = fc
    .record({
      head: fc.integer({ min: 0, max: 9 }),
      refs: fc.array(fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }), { minLength: 3, maxLength: 3 }),
      since: fc.array(fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }), {
        minLength: 3,
        maxLength: 3,
      }),
      elapsed: fc.integer({ min: 0, max: 20_000 }),
      expected: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
      telemetry: fc.option(
        fc.dictionary(
          fc.constantFrom(...WAVES),
          fc.record({
            running: fc.dictionary(fc.integer({ min: 0, max: 9 }).map(C), fc.integer({ min: 0, max: 3 })),
            refused: fc.dictionary(fc.integer({ min: 0, max: 9 }).map(C), fc.integer({ min: 0, max: 2 })),
            rolledBack: fc.dictionary(fc.integer({ min: 0, max: 9 }).map(C), fc.integer({ min: 0, max: 1 })),
          }),
        ),
        { nil: undefined },
      ),
    })
    .map((r) => {
      let state = emptyState('production');
      r.refs.forEach((ref, i) => {
        if (ref !== undefined && r.since[i] !== undefined)
          state = promoted(state, WAVES[i]!, ref, T0 - r.since[i]! * 1000);
      });
      return {
        r,
        input: input({
          head: r.head,
          refs: r.refs,
          state,
          now: T0 + r.elapsed,
          expected: r.expected,
          bakes: [3600, 600, 0],
          telemetry: r.telemetry,
        }),
      };
    });

  it('a wave is promoted only to the commit its predecessor followed (wave 0: the head), as a fast-forward', () => {
    fc.assert(
      fc.property(arbitraryInput, ({ r, input: inp }) => {
        const d = decideAdvance(inp);
        for (const p of d.promotions.filter((x) => x.moves)) {
          const i = WAVES.indexOf(p.wave);
          expect(p.commit).toBe(i === 0 ? C(r.head) : C(r.refs[i - 1]!));
          if (r.refs[i] !== undefined) expect(r.refs[i]!).toBeLessThanOrEqual(parseInt(p.commit.slice(0, 2), 16));
          if (i > 0) expect(d.waves[i - 1]!.gate?.verdict).toBe('pass');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('refs in order stay in order: after a run no wave is ahead of the one before it', () => {
    fc.assert(
      fc.property(arbitraryInput, ({ r, input: inp }) => {
        const sorted = r.refs.every(
          (x, i) => i === 0 || x === undefined || (r.refs[i - 1] !== undefined && x <= r.refs[i - 1]!),
        );
        fc.pre(sorted && (r.refs[0] === undefined || r.refs[0] <= r.head));
        const d = decideAdvance(inp);
        const after = r.refs.map((x, i) => {
          const p = d.promotions.find((q) => q.moves && q.wave === WAVES[i]);
          return p ? parseInt(p.commit.slice(0, 2), 16) : x;
        });
        after.forEach((x, i) => {
          if (i > 0 && x !== undefined) expect(x).toBeLessThanOrEqual(after[i - 1]!);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('no data never passes: without telemetry no wave after the first is ever promoted', () => {
    fc.assert(
      fc.property(arbitraryInput, ({ input: inp }) => {
        const d = decideAdvance({ ...inp, telemetry: undefined });
        expect(d.waves.every((w) => w.gate === undefined || w.gate.verdict === 'hold')).toBe(true);
        expect(d.promotions.filter((p) => p.moves && p.wave !== 'canary')).toEqual([]);
        expect(d.halt).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});

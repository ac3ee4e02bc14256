// The load governor's state machine: per signal a hysteresis with two dwell times, over them a
// ladder that degrades fast and restores slowly within an hourly budget of moves. Pure: no
// clock (every time is epoch milliseconds, passed in), no I/O; the state is plain JSON, so that
// the agent can keep, show and journal it.
//
// One signal, for `above` (`below` mirrors it):
//   normal   --value above enter-->                    entering (dwell starts)
//   entering --above enter for enter_for_seconds-->    hot
//   entering --not above enter-->                      normal
//   hot      --value below exit-->                     leaving (dwell starts)
//   leaving  --below exit for exit_for_seconds-->      normal
//   leaving  --not below exit-->                       hot
// Between the two thresholds a signal stays where it is, so a value oscillating inside the band
// never moves it.
//
// The ladder, each tick, after the signals:
//   - some signal is hot, and was sampled this tick: one step down, unless the last step down
//     was less than degrade_interval ago (the first step is taken at once);
//   - every signal is normal: one step up, unless the last move either way was less than
//     restore_interval ago;
//   - otherwise (a signal entering or leaving): hold.
//   Never more than max_transitions_per_hour moves in any hour.
//
// No data holds. A missing sample (undefined, or not a finite number) leaves its signal in its
// state, so missing data never makes a signal normal and never restores a step; it also does not
// push the ladder further down (a hot signal without a sample this tick holds the step). While
// entering, the dwell keeps running (degrading on partial evidence is the safe side); while
// leaving, a missing sample starts the dwell over (restoring needs exit_for_seconds of samples
// beyond the exit threshold, without a gap).

import type { TunableValue } from '../tunables/spec.js';
import { isProtected } from './rules.js';
import type { GovernorRules, SignalRule } from './rules.js';

export type SignalPhase = 'normal' | 'entering' | 'hot' | 'leaving';

export interface SignalState {
  state: SignalPhase;
  /** When it reached its state, or when its dwell started over (entering, leaving); null before its first sample. */
  since: number | null;
  /** The sample of the last tick; null when that tick had none. */
  value: number | null;
  /** When it last had a sample; null before its first. */
  sampled_at: number | null;
}

export interface GovernorMove {
  at: number;
  from: number;
  to: number;
  /** Names the signal and its value, e.g. `soc_temp is hot: soc_temp_c 81.5 above 78 for 30 s`. */
  reason: string;
  /** The signal that made the move (null: the governor was turned off). */
  signal: string | null;
  value: number | null;
}

export interface GovernorState {
  /** Steps taken down the ladder: 0 is the signed configuration. */
  step: number;
  signals: Record<string, SignalState>;
  /** When the moves of the last hour were made, oldest first (the hourly budget). */
  moves: number[];
  last_move: GovernorMove | null;
  last_down_at: number | null;
}

export interface SignalChange {
  signal: string;
  from: SignalPhase;
  to: SignalPhase;
  value: number | null;
  at: number;
}

export interface TickResult {
  state: GovernorState;
  /** The move this tick made, if any. */
  move: GovernorMove | null;
  /** A move that was due but not allowed yet, and why (interval, budget). */
  held: { direction: 'down' | 'up'; reason: string } | null;
  /** What the governor wants set now: the merged `set` of steps 1..step (later steps win), protected paths left out. */
  wanted: Record<string, TunableValue>;
  /** Signals whose state changed this tick. */
  changes: SignalChange[];
}

/** Samples of one tick by source (`soc_temp_c`, `detector.inference_latency_ms`); undefined where none. */
export type Samples = Readonly<Record<string, number | undefined>>;

const HOUR_MS = 3_600_000;

export const initialSignal = (): SignalState => ({ state: 'normal', since: null, value: null, sampled_at: null });

export function initialState(): GovernorState {
  return { step: 0, signals: {}, moves: [], last_move: null, last_down_at: null };
}

const beyondEnter = (r: SignalRule, v: number): boolean => (r.direction === 'above' ? v > r.enter : v < r.enter);
const beyondExit = (r: SignalRule, v: number): boolean => (r.direction === 'above' ? v < r.exit : v > r.exit);

/** One signal's next state for one sample (undefined: none this tick). */
export function stepSignal(rule: SignalRule, s: SignalState, sample: number | undefined, now: number): SignalState {
  if (sample === undefined || !Number.isFinite(sample))
    return { ...s, value: null, ...(s.state === 'leaving' ? { since: now } : {}) };
  const at = (state: SignalPhase, since: number | null): SignalState => ({
    state,
    since,
    value: sample,
    sampled_at: now,
  });
  switch (s.state) {
    case 'normal':
      if (!beyondEnter(rule, sample)) return at('normal', s.since ?? now);
      return rule.enterForMs <= 0 ? at('hot', now) : at('entering', now);
    case 'entering':
      if (!beyondEnter(rule, sample)) return at('normal', now);
      return now - (s.since ?? now) >= rule.enterForMs ? at('hot', now) : at('entering', s.since ?? now);
    case 'hot':
      if (!beyondExit(rule, sample)) return at('hot', s.since ?? now);
      return rule.exitForMs <= 0 ? at('normal', now) : at('leaving', now);
    case 'leaving':
      if (!beyondExit(rule, sample)) return at('hot', now);
      return now - (s.since ?? now) >= rule.exitForMs ? at('normal', now) : at('leaving', s.since ?? now);
  }
}

const fmt = (v: number): string => String(Number(v.toFixed(3)));
const seconds = (ms: number): string => `${fmt(ms / 1000)} s`;

/** Why a hot signal is hot, in words. */
function hotReason(r: SignalRule, value: number): string {
  return `${r.name} is hot: ${r.source} ${fmt(value)} ${r.direction} ${fmt(r.enter)} for ${seconds(r.enterForMs)}`;
}

function normalReason(r: SignalRule, value: number | null): string {
  const other = r.direction === 'above' ? 'below' : 'above';
  const shown = value === null ? 'unsampled' : fmt(value);
  return `every signal is normal; the last to settle, ${r.name}: ${r.source} ${shown} ${other} ${fmt(r.exit)} for ${seconds(r.exitForMs)}`;
}

/** The values of steps 1..step merged (later steps win), with the step that sets each; protected paths left out. */
export function wantedDetail(
  rules: GovernorRules,
  step: number,
): Array<{ path: string; value: TunableValue; step: string }> {
  const out = new Map<string, { path: string; value: TunableValue; step: string }>();
  for (const s of rules.ladder.slice(0, Math.max(0, step)))
    for (const [path, value] of Object.entries(s.set))
      if (!isProtected(path, rules.protected)) out.set(path, { path, value, step: s.name });
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** What the governor wants set at `step`: path -> value. */
export function wantedValues(rules: GovernorRules, step: number): Record<string, TunableValue> {
  return Object.fromEntries(wantedDetail(rules, step).map((w) => [w.path, w.value]));
}

/** Moves within the hour up to `now`. */
export const movesInHour = (state: GovernorState, now: number): number[] =>
  state.moves.filter((t) => t > now - HOUR_MS && t <= now);

/**
 * One tick: the samples move the signals, then the ladder moves at most one step. `state` may be
 * from older rules: signals that are no longer named are dropped, new ones start normal, and a
 * step beyond a shorter ladder is cut to its end.
 */
export function tick(
  rules: GovernorRules,
  previous: GovernorState | undefined,
  samples: Samples,
  now: number,
): TickResult {
  const prev = previous ?? initialState();
  const changes: SignalChange[] = [];
  const signals: Record<string, SignalState> = {};
  for (const rule of rules.signals) {
    const before = prev.signals[rule.name] ?? initialSignal();
    const after = stepSignal(rule, before, samples[rule.source], now);
    if (after.state !== before.state)
      changes.push({ signal: rule.name, from: before.state, to: after.state, value: after.value, at: now });
    signals[rule.name] = after;
  }
  const moves = movesInHour(prev, now);
  let state: GovernorState = {
    step: Math.min(prev.step, rules.ladder.length),
    signals,
    moves,
    last_move: prev.last_move,
    last_down_at: prev.last_down_at,
  };
  let move: GovernorMove | null = null;
  let held: TickResult['held'] = null;
  const go = (to: number, reason: string, signal: string | null, value: number | null): void => {
    move = { at: now, from: state.step, to, reason, signal, value };
    state = {
      ...state,
      step: to,
      moves: [...moves, now],
      last_move: move,
      last_down_at: to > state.step ? now : state.last_down_at,
    };
  };

  if (!rules.enabled) {
    if (state.step > 0) go(0, 'the load governor is turned off', null, null);
    return { state, move, held, wanted: {}, changes };
  }
  const budgetLeft = moves.length < rules.maxTransitionsPerHour;
  const budgetHeld = (): string => {
    const next = new Date(moves[moves.length - rules.maxTransitionsPerHour]! + HOUR_MS).toISOString();
    return `${moves.length} moves in the last hour, at most ${rules.maxTransitionsPerHour}; the next is allowed at ${next}`;
  };
  const hot = rules.signals.find((r) => signals[r.name]!.state === 'hot' && signals[r.name]!.value !== null);
  const allNormal = rules.signals.every((r) => signals[r.name]!.state === 'normal');

  if (hot && state.step < rules.ladder.length) {
    const since = state.last_down_at === null ? Infinity : now - state.last_down_at;
    if (since < rules.degradeIntervalMs)
      held = {
        direction: 'down',
        reason: `the last step down was ${seconds(since)} ago, at least ${seconds(rules.degradeIntervalMs)} apart`,
      };
    else if (!budgetLeft) held = { direction: 'down', reason: budgetHeld() };
    else go(state.step + 1, hotReason(hot, signals[hot.name]!.value!), hot.name, signals[hot.name]!.value);
  } else if (allNormal && state.step > 0) {
    const since = state.last_move === null ? Infinity : now - state.last_move.at;
    if (since < rules.restoreIntervalMs)
      held = {
        direction: 'up',
        reason: `the last move was ${seconds(since)} ago; a step back up waits ${seconds(rules.restoreIntervalMs)}`,
      };
    else if (!budgetLeft) held = { direction: 'up', reason: budgetHeld() };
    else {
      // the signal that settled last names the move
      const last = rules.signals.reduce<SignalRule | undefined>(
        (best, r) =>
          best === undefined || (signals[r.name]!.since ?? -Infinity) > (signals[best.name]!.since ?? -Infinity)
            ? r
            : best,
        undefined,
      );
      go(
        state.step - 1,
        last ? normalReason(last, signals[last.name]!.value) : 'no signal is watched',
        last?.name ?? null,
        last ? signals[last.name]!.value : null,
      );
    }
  }
  return { state, move, held, wanted: wantedValues(rules, state.step), changes };
}

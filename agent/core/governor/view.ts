// The load governor as the API shows it (GovernorView in agent/core/contracts/api.ts). Pure: the
// time is passed in.

import type { GovernorSignalView, GovernorView } from '../contracts/api.js';
import { initialSignal, movesInHour } from './governor.js';
import type { GovernorState } from './governor.js';
import type { GovernorRules } from './rules.js';

/** An agent always sends what GovernorSignalView marks optional for older agents. */
type SignalDetail = Required<GovernorSignalView>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function governorView(
  rules: GovernorRules,
  state: GovernorState | undefined,
  nowMs: number,
): GovernorView & { signals: SignalDetail[] } {
  const signals = state?.signals ?? {};
  const last = state?.last_move ?? null;
  return {
    enabled: rules.enabled,
    step: Math.min(state?.step ?? 0, rules.ladder.length),
    steps: rules.ladder.map((s) => ({ name: s.name, set: { ...s.set } })),
    signals: rules.signals.map((r): SignalDetail => {
      const s = signals[r.name] ?? initialSignal();
      return {
        name: r.name,
        value: s.value,
        state: s.state,
        since: iso(s.since),
        enter_above: r.enter,
        exit_below: r.exit,
        source: r.source,
        direction: r.direction,
        enter_for_seconds: r.enterForMs / 1000,
        exit_for_seconds: r.exitForMs / 1000,
      };
    }),
    last_transition: last ? { at: iso(last.at)!, from: last.from, to: last.to, reason: last.reason } : null,
    transitions_last_hour: state ? movesInHour(state, nowMs).length : 0,
    max_transitions_per_hour: rules.maxTransitionsPerHour,
  };
}

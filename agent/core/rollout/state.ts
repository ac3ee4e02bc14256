// The state of an environment's staged rollout (issue 15, item 3): state.json on the branch
// refs/heads/rollout-state/<env> (schemas/rollout-state.schema.json). Every change to it, a
// promotion, a halt or a resume, is one commit on that branch whose message says what happened,
// so that `git log rollout-state/<env>` is the rollout's audit trail. Pure: the documents in and
// out, the time as a parameter.

import { GitopsError } from '../errors.js';

/** The branch that holds an environment's rollout state. */
export function stateRef(environment: string): string {
  return `refs/heads/rollout-state/${environment}`;
}

/** The file on the state branch. */
export const STATE_FILE = 'state.json';
/** The schema of that file, in the configuration repository. */
export const STATE_SCHEMA_FILE = 'schemas/rollout-state.schema.json';

/** The most promotions and accepted gate failures the state keeps (the schema's maxItems): older ones stay in git log. */
export const MAX_HISTORY = 500;
export const MAX_RESUMED = 100;

export interface Halt {
  by: string;
  reason: string;
  /** ISO 8601, UTC. */
  at: string;
  /** For a halt by a failed gate: the wave and the commit. */
  wave?: string;
  commit?: string;
}

export interface Promotion {
  wave: string;
  commit: string;
  /** ISO 8601, UTC: the start of the wave's bake of the commit. */
  at: string;
  by: string;
  emergency: boolean;
  reason?: string;
}

export interface RolloutState {
  version: 1;
  environment: string;
  halted: Halt | null;
  /** Oldest first, at most MAX_HISTORY. */
  history: Promotion[];
  /** Failed gates a resume accepted: they halt no more, and their commit is still not promoted past the wave. */
  resumed: Array<{ wave: string; commit: string }>;
}

export function emptyState(environment: string): RolloutState {
  return { version: 1, environment, halted: null, history: [], resumed: [] };
}

/**
 * The state read from the state branch: `text` of state.json, checked by `validate` (the schema's
 * validator, compiled by the caller; it returns what is wrong, empty when valid).
 */
export function parseState(
  text: string,
  environment: string,
  validate: (value: unknown) => string[],
  where: string,
): RolloutState {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new GitopsError(
      'rollout-state-invalid',
      `${where} is not JSON: ${(e as Error).message}`,
      stateHint(environment),
    );
  }
  const problems = validate(value);
  if (problems.length > 0)
    throw new GitopsError(
      'rollout-state-invalid',
      `${where} does not match ${STATE_SCHEMA_FILE}: ${problems.slice(0, 5).join('; ')}`,
      stateHint(environment),
    );
  const state = value as RolloutState;
  if (state.environment !== environment)
    throw new GitopsError(
      'rollout-state-invalid',
      `${where} is the state of environment ${state.environment}, not of ${environment}`,
      stateHint(environment),
    );
  return state;
}

const stateHint = (environment: string): string =>
  `git log ${stateRef(environment).slice('refs/heads/'.length)} shows who wrote it; ` +
  'push a commit that restores the last good state.json on that branch';

/** The document as written on the branch: stable key order, two-space indent, a final newline. */
export function serializeState(state: RolloutState): string {
  return JSON.stringify(state, null, 2) + '\n';
}

/** The latest promotion of `wave` to `commit`: when its bake of that commit started. */
export function lastPromotion(state: RolloutState, wave: string, commit: string): Promotion | undefined {
  for (let i = state.history.length - 1; i >= 0; i--) {
    const p = state.history[i]!;
    if (p.wave === wave) return p.commit === commit ? p : undefined;
  }
  return undefined;
}

/** The state with these promotions recorded (only the fields of a Promotion: the document's schema takes no others). */
export function withPromotions(state: RolloutState, promotions: readonly Promotion[]): RolloutState {
  const recorded = promotions.map((p): Promotion => ({
    wave: p.wave,
    commit: p.commit,
    at: p.at,
    by: p.by,
    emergency: p.emergency,
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
  }));
  return { ...state, history: [...state.history, ...recorded].slice(-MAX_HISTORY) };
}

export function withHalt(state: RolloutState, halt: Halt): RolloutState {
  return { ...state, halted: halt };
}

/** Resumed: no longer halted; a gate failure that halted it is accepted (it halts no more, its commit goes no further). */
export function withResume(state: RolloutState): RolloutState {
  const h = state.halted;
  const accepted =
    h?.wave !== undefined && h.commit !== undefined
      ? [...state.resumed, { wave: h.wave, commit: h.commit }]
      : state.resumed;
  return { ...state, halted: null, resumed: accepted.slice(-MAX_RESUMED) };
}

export function isResumed(state: RolloutState, wave: string, commit: string): boolean {
  return state.resumed.some((r) => r.wave === wave && r.commit === commit);
}

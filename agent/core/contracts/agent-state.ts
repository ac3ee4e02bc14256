// The agent's persistent state (state.json) and the check of what was read back: a file of the
// wrong shape (hand-edited, truncated by a bad disk, written by a future version) is reported,
// never half-used, so that the agent can set it aside and rebuild instead of crash-looping.

import type { ErrorCode } from '../errors.js';

export interface LocatedFinding {
  code: string;
  file?: string;
  line?: number;
  column?: number;
  path?: string;
}

/** What the last sync came to: a state, never prose (the prose, where there is some, is `detail`). */
export const SYNC_RESULTS = [
  'applied',
  'unchanged',
  'rolled-back',
  'restored',
  'failed',
  'up to date',
  'held',
  'known-bad',
] as const;
export type SyncResult = (typeof SYNC_RESULTS)[number];

export interface AgentState {
  applied: string | null;
  last_good: string | null;
  bad: string[];
  /** Commits that became last good, oldest first (the releases an operator may return to). */
  good: string[];
  generation: number;
  last_sync: { time: string; trigger: string; result: SyncResult; detail?: string } | null;
  last_error: {
    time: string;
    commit: string | null;
    reason: string;
    code: ErrorCode;
    diagnostics?: LocatedFinding[];
  } | null;
  applied_at: string | null;
  /** The candidate being applied, and how many processes have started applying it. */
  in_progress: { commit: string; attempts: number } | null;
  /**
   * The ref the device follows and the wave it stands for (all: the environment's branch), as
   * derived from the release it runs (or set in its settings); null before the first sync.
   */
  following: { wave: string; ref: string } | null;
}

export const INITIAL_STATE: AgentState = {
  applied: null,
  last_good: null,
  bad: [],
  good: [],
  generation: 0,
  last_sync: null,
  last_error: null,
  applied_at: null,
  in_progress: null,
  following: null,
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringOrNull = (v: unknown): boolean => v === null || typeof v === 'string';
const strings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
const recordOrNull = (v: unknown): boolean => v === null || isRecord(v);

const FIELDS: Record<keyof AgentState, (v: unknown) => boolean> = {
  applied: stringOrNull,
  last_good: stringOrNull,
  bad: strings,
  good: strings,
  generation: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
  last_sync: recordOrNull,
  last_error: recordOrNull,
  applied_at: stringOrNull,
  in_progress: (v) => v === null || (isRecord(v) && typeof v.commit === 'string' && typeof v.attempts === 'number'),
  following: (v) => v === null || (isRecord(v) && typeof v.wave === 'string' && typeof v.ref === 'string'),
};

/**
 * The state as read back (undefined when there is no file yet), or what is wrong with it. Fields
 * an older agent did not write take their initial values.
 */
export function checkState(raw: unknown): { state: AgentState } | { problem: string } {
  if (raw === undefined) return { state: structuredClone(INITIAL_STATE) };
  if (!isRecord(raw))
    return {
      problem: `it is ${Array.isArray(raw) ? 'a list' : raw === null ? 'null' : `a ${typeof raw}`}, not an object`,
    };
  for (const [field, ok] of Object.entries(FIELDS)) {
    if (field in raw && !ok(raw[field]))
      return { problem: `${field} is ${JSON.stringify(raw[field])?.slice(0, 60) ?? 'undefined'}` };
  }
  const state = { ...structuredClone(INITIAL_STATE), ...(raw as Partial<AgentState>) };
  // an older agent wrote prose as the result ("held: ...", "known bad commit ..."): it is informational
  if (state.last_sync && !(SYNC_RESULTS as readonly unknown[]).includes(state.last_sync.result)) state.last_sync = null;
  if (state.last_good && !state.good.includes(state.last_good)) state.good.push(state.last_good);
  return { state };
}

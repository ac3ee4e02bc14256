// The answers of the agent's local API (agent/daemon/api.ts), defined once: the daemon builds
// them (`satisfies`), the command-line client (agent/io/api-client.ts, scripts/agent-client.ts)
// and its formatter (core/format/agent-answers.ts) read them. Fields are added, never renamed:
// an older `gitops` may talk to a newer agent and the other way round.

import type { ReleaseChange } from '../change/release-diff.js';
import type { HardwareProfile } from '../config/types.js';
import type { ErrorCode } from '../errors.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import type { Json, JsonObject } from '../json/value.js';
import type { AgentState } from './agent-state.js';
import type { Role } from './tokens.js';
import type { Owner } from '../tunables/annotation.js';
import type { LayerExplanation, LayerName } from '../tunables/effective.js';
import type { Lease } from '../tunables/lease.js';
import type { TunableSpec } from '../tunables/spec.js';

/** A value that is read, never changed: the agent hands its (read-only) state to answers as it is. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type LastSync = DeepReadonly<AgentState['last_sync']>;
type LastError = DeepReadonly<AgentState['last_error']>;

/** What a release on the device is: its commit, subject, signer and times. */
export interface ReleaseDescription {
  commit: string;
  subject: string | null;
  signer: string | null;
  committed_at: string | null;
  written_at: string | null;
}

/** A release as answers name it: described when it is on disk, its commit id alone when not. */
export type ReleaseRef = { commit: string } & Partial<Omit<ReleaseDescription, 'commit'>>;

/** One entry of GET /api/v1/releases: a release on disk and what became of it. */
export interface ReleaseInfo extends ReleaseDescription {
  current: boolean;
  last_good: boolean;
  /** Applied and found good: an operator may return to it. */
  good: boolean;
  /** Refused, rolled back or replaced by a rollback: never applied again. */
  bad: boolean;
}

/** A running component's health as last checked, and since when. */
export interface ComponentHealth {
  name: string;
  healthy: boolean;
  reason?: string;
  code?: string;
  since: string;
}

/** Who made the request: a token's name and role, or "loopback" for a loopback read without one. */
export interface Caller {
  role: Role;
  name: string;
}

/** GET /healthz */
export interface HealthzAnswer {
  ok: true;
}

/** GET /readyz (HTTP 503 when not ready) */
export type ReadyzAnswer = { ready: true; commit: string } | { ready: false; commit?: string; reason: string };

/** GET /api/v1/status */
export interface StatusAnswer {
  environment: string;
  device: string;
  mode: string;
  current: (ReleaseRef & { applied_at: string | null }) | null;
  last_good: ReleaseRef | null;
  components: ComponentHealth[];
  syncing: boolean;
  last_sync: LastSync;
  last_error: LastError;
  /** When the next poll is due (ISO 8601), or null in watch mode or while a sync runs. */
  next_poll: string | null;
  caller: Caller;
  state: DeepReadonly<AgentState>;
  /** The device's experiments in the running release (absent from agents older than experiments). */
  experiments?: ExperimentStatus[];
  /** The device's tuning runs in the running release (absent from agents older than the tuner). */
  tuning?: TuningStatus[];
}

/** One tuning run of the running release, as this device runs it (agent/daemon/tuner.ts). */
export interface TuningStatus {
  tuning: string;
  /** The hardware model its trials are pooled under. */
  model: string;
  /** trial: one in progress; waiting: none may start now (reason says why); done: the method's reason; paused by its file. */
  state: 'trial' | 'waiting' | 'done' | 'paused';
  reason?: string;
  /** The trial in progress: its candidate (`path=value,...`), and whether it is past its settling time. */
  trial?: { candidate: string; measuring: boolean };
  /** Trials run so far. */
  trials: number;
  last?: { candidate: string; outcome: 'feasible' | 'infeasible' | 'aborted'; reason?: string };
  /** The method's best candidate so far and its estimate of the objective there. */
  best?: { candidate: string; estimate: number };
}

/** One experiment of the running release, as this device runs it. */
export interface ExperimentStatus {
  experiment: string;
  /** The variant-split hash in [0, 1). */
  bucket: number;
  /** null: the device is not in the experiment. */
  variant: string | null;
  /** What the variant sets, by dotted tunable path. */
  set: Record<string, string | number | boolean>;
  /**
   * applied: its leases are in force; pending: not yet (the next tick of the runtime layers sets
   * them); refused: the device refused or rolled back the variant and keeps the layer below;
   * not-in: outside the experiment (namespace, coverage, paused).
   */
  state: 'applied' | 'pending' | 'refused' | 'not-in';
  code?: string;
  reason?: string;
  /**
   * A switchback experiment the device is in (absent for the between design): variant and set
   * above are the current block's arm; phase washout: the arm switched at the block's start and
   * the analysis leaves this time out. Times are ISO 8601.
   */
  switchback?: {
    block_hours: number;
    washout_minutes: number;
    /** floor(unix ms / block length). */
    block: number;
    phase: 'washout' | 'measure';
    block_end: string;
    /** When the washout ends (phase washout only). */
    washout_end?: string;
    /** Where the next block with another arm starts; null when none within the look-ahead. */
    next_switch: string | null;
  };
}

/** GET /api/v1/config[?release=R][&path=P]: the whole (redacted) configuration, or one value of it. */
/** GET /api/v1/config: the configuration that runs (signed + leases); with ?explain=1 every tunable field's layers. */
export type ConfigAnswer = ({ commit: string; config: JsonObject } | { commit: string; path: string; value: Json }) & {
  explain?: TunableEntry[];
};

/** One line of the journal (GET /api/v1/journal answers a list of them, newest first). */
export interface JournalEntry {
  time: string;
  event: string;
  commit?: string | null;
  [key: string]: unknown;
}

export type JournalAnswer = JournalEntry[];

export type ReleasesAnswer = ReleaseInfo[];

/** GET /api/v1/diff?from=R&to=R */
export interface DiffAnswer {
  from: ReleaseRef | null;
  to: ReleaseRef | null;
  changes: ReleaseChange[];
}

/** What handling a candidate (or an operator's rollback) came to. */
export interface CycleAnswer {
  outcome: 'applied' | 'unchanged' | 'refused' | 'rolled-back';
  commit: string;
  reason?: string;
  components?: string[];
  ms: number;
}

/** POST /api/v1/sync: the cycle's outcome, or no-change with the last sync (and its error when it failed). */
export type SyncAnswer = CycleAnswer | { outcome: 'no-change'; state: LastSync; error: LastError };

/** POST /api/v1/rollback */
export type RollbackAnswer = CycleAnswer;

/** POST /api/v1/hardware/probe */
export type HardwareProbeAnswer = HardwareProfile;

/** One tunable field of the running release: its signed spec, every layer and the one that wins. */
export interface TunableEntry {
  path: string;
  spec: TunableSpec;
  /** The value of the signed configuration (null: not set). */
  signed: Json | null;
  /** The effective value delivered to the components. */
  value: Json | null;
  winner: LayerName;
  /** Every layer, lowest first (signed, experiment, tuner, governor, operator). */
  layers: LayerExplanation[];
}

/** A signal the load governor watches, as it stands. */
export interface GovernorSignalView {
  name: string;
  /** The last sample (null: no sample yet, or the source gave none). */
  value: number | null;
  /** normal; entering (above the enter threshold, dwelling); hot (entered); leaving (below exit, dwelling). */
  state: 'normal' | 'entering' | 'hot' | 'leaving';
  /** When the signal reached its state (ISO 8601); null before its first sample. */
  since: string | null;
  /** The enter threshold: the signal enters above it (below it when `direction` is `below`). */
  enter_above: number;
  /** The exit threshold: the signal leaves below it (above it when `direction` is `below`). */
  exit_below: number;
  /** above: high is bad (temperature, latency); below: low is bad (available memory). */
  direction?: 'above' | 'below';
  /** Where the samples come from (`cpu_percent`, `component.metric`); absent from older agents. */
  source?: string;
  /** How long the signal must stay beyond its enter threshold to be hot; absent from older agents. */
  enter_for_seconds?: number;
  /** How long it must stay back within its exit threshold to be normal again; absent from older agents. */
  exit_for_seconds?: number;
}

/** The load governor of the running release. */
export interface GovernorView {
  enabled: boolean;
  /** Steps taken down the ladder: 0 is the signed configuration. */
  step: number;
  /** The ladder, mildest first: what each step sets. */
  steps: Array<{ name: string; set: Record<string, Json> }>;
  signals: GovernorSignalView[];
  /** The last move on the ladder. */
  last_transition: { at: string; from: number; to: number; reason: string } | null;
  /** Moves in the last hour, and the most an hour allows. */
  transitions_last_hour: number;
  max_transitions_per_hour: number;
}

/** GET /api/v1/tunables */
export interface TunablesAnswer {
  /** The release the specs and signed values are from (null: nothing runs yet). */
  commit: string | null;
  now: string;
  tunables: TunableEntry[];
  /** Every lease held, in force or not yet removed. */
  leases: Lease[];
  governor: GovernorView | null;
}

/** PUT /api/v1/tunables/{path} (body {value, ttl, reason}) and DELETE /api/v1/tunables/{path}. A refusal is an error answer. */
export interface LeaseAnswer {
  /** applied: delivered and healthy; unchanged: the effective configuration did not change. */
  outcome: 'applied' | 'unchanged';
  path: string;
  owner: Owner;
  /** The lease set (null after a clear). */
  lease: Lease | null;
  /** The effective value now. */
  value: Json | null;
  winner: LayerName;
  components: string[];
  ms: number;
}

/** Every error answer (4xx, 5xx): the code's HTTP status is in ERROR_CODES. */
export interface ErrorAnswer {
  code: ErrorCode;
  message: string;
  /** How to fix it; '' when there is nothing to say. */
  hint: string;
  /** The findings a refusal rests on, where there are some. */
  diagnostics?: readonly Diagnostic[];
}

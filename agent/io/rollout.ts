// The staged rollout's commands as a library (issue 15, item 3): advanceRollout, rolloutStatus,
// haltRollout and resumeRollout read the refs and the state from git, the telemetry from
// Prometheus, decide with agent/core/rollout/gate.ts and write back one state commit pushed
// together with the refs it moves. `gitops rollout` calls them; so can a fleet simulation, in
// process, with its own clock, git directory and Prometheus.

import { GitopsError } from '../core/errors.js';
import type { Diagnostic } from '../core/validate/diagnostics.js';
import type { RepoFiles } from '../core/repo/layout.js';
import type { Repository } from '../core/repo/repository.js';
import { newAjv } from '../core/schema/schema-set.js';
import { checkRollout, environmentPlan } from '../core/rollout/check.js';
import {
  ancestryPairs,
  decideAdvance,
  decideEmergency,
  decisionMessage,
  telemetryOf,
  telemetryQueries,
} from '../core/rollout/gate.js';
import type { Decision, RolloutInput, Telemetry } from '../core/rollout/gate.js';
import {
  emptyState,
  parseState,
  serializeState,
  STATE_SCHEMA_FILE,
  stateRef,
  withHalt,
  withPromotions,
  withResume,
} from '../core/rollout/state.js';
import type { Halt, RolloutState } from '../core/rollout/state.js';
import { countByWave } from '../core/rollout/waves.js';
import type { Rollout } from '../core/rollout/waves.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { prometheusQuery } from './prometheus-query.js';
import type { PrometheusQuery } from './prometheus-query.js';
import { checkoutState, rolloutGit } from './rollout-git.js';
import type { RolloutGit } from './rollout-git.js';

export interface RolloutIo {
  git: RolloutGit;
  /** Where the gate reads the fleet's telemetry; without it every gate holds. */
  prometheus: PrometheusQuery | undefined;
  /** Its wall time (now()) measures the bakes: they span runs of different processes. */
  clock: Pick<Clock, 'now'>;
}

/** The io of the commands on a local repository (its git, its credentials) and a Prometheus URL. */
export function rolloutIo(o: {
  cwd: string;
  remote?: string;
  prometheusUrl?: string;
  prometheusToken?: string;
  clock?: Pick<Clock, 'now'>;
}): RolloutIo {
  return {
    git: rolloutGit(o.cwd, o.remote ?? 'origin'),
    prometheus:
      o.prometheusUrl === undefined
        ? undefined
        : prometheusQuery(o.prometheusUrl, o.prometheusToken ? { token: o.prometheusToken } : {}),
    clock: o.clock ?? systemClock,
  };
}

export interface RolloutOptions {
  /** The configuration repository (its environment.yaml declares the rollout; schemas/ has the state's schema). */
  repo: Repository;
  environment: string;
  /** The environment's branch, the source of changes (default main). */
  branch?: string;
  /** Who runs it, recorded in the state and its commit. */
  by: string;
  /** Decide and say, write nothing. */
  dryRun?: boolean;
}

export interface RolloutResult {
  decision: Decision;
  state: RolloutState;
  /** One line per commit shown: its subject. */
  subjects: Record<string, string>;
  /** The state commit pushed (absent: nothing written). */
  stateCommit?: string;
  dryRun: boolean;
  /** 0: done or holding; 1: halted, a gate failed, or a ref could not be moved. */
  exit: 0 | 1;
}

interface Loaded {
  rollout: Rollout;
  expected: Record<string, number>;
  branch: string;
  refs: Awaited<ReturnType<RolloutGit['fetch']>>;
  state: RolloutState;
}

/** The rollout declared for the environment, or an error saying why there is none to run. */
function declared(repo: Repository, environment: string): { rollout: Rollout; expected: Record<string, number> } {
  const { read, plan } = environmentPlan(repo, environment);
  const errors: Diagnostic[] =
    read.kind === 'declared' ? checkRollout(repo, environment).filter((d) => d.severity === 'error') : [];
  if (read.kind === 'none')
    throw new GitopsError(
      'rollout-none',
      `${environment} declares no rollout: its devices follow its branch, there are no waves to promote`,
      `declare rollout: in environments/${environment}/environment.yaml (gitops rollout plan --env ${environment})`,
    );
  if (read.kind === 'invalid' || errors.length > 0 || !plan)
    throw new GitopsError(
      'invalid',
      `the rollout of ${environment} does not validate`,
      `gitops validate --env ${environment} says why`,
      { diagnostics: errors },
    );
  const expected = Object.fromEntries(countByWave(plan).map((c) => [c.wave, c.devices]));
  return { rollout: read.rollout, expected };
}

function stateValidator(files: RepoFiles): (value: unknown) => string[] {
  const text = files.get(STATE_SCHEMA_FILE);
  if (text === undefined)
    throw new GitopsError(
      'not-a-config-repo',
      `${STATE_SCHEMA_FILE} is missing from the configuration repository`,
      'restore it from the upstream repository',
    );
  const validate = newAjv().compile(JSON.parse(text) as object);
  return (value) =>
    validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is not valid'}`);
}

async function load(io: RolloutIo, o: RolloutOptions): Promise<Loaded> {
  const { rollout, expected } = declared(o.repo, o.environment);
  const branch = o.branch ?? 'main';
  const refs = await io.git.fetch(
    o.environment,
    branch,
    rollout.waves.map((w) => w.name),
  );
  const state = refs.state
    ? parseState(
        await io.git.readState(refs.state),
        o.environment,
        stateValidator(o.repo.files),
        `state.json of ${stateRef(o.environment)} (${refs.state.slice(0, 12)})`,
      )
    : emptyState(o.environment);
  return { rollout, expected, branch, refs, state };
}

async function readTelemetry(io: RolloutIo, environment: string): Promise<{ telemetry?: Telemetry; problem?: string }> {
  if (!io.prometheus) return {};
  const q = telemetryQueries(environment);
  try {
    const [running, outcomes] = await Promise.all([io.prometheus.query(q.running), io.prometheus.query(q.outcomes)]);
    return { telemetry: telemetryOf(running, outcomes) };
  } catch (e) {
    if (!(e instanceof GitopsError)) throw e;
    return { problem: `${e.code}: ${e.message}` };
  }
}

async function inputOf(io: RolloutIo, o: RolloutOptions, l: Loaded, emergencyCommit?: string): Promise<RolloutInput> {
  if (l.refs.branch === undefined)
    throw new GitopsError(
      'unknown-revision',
      `${io.git.remote} has no branch ${l.branch}: it is the source of ${o.environment}'s rollout`,
      "give the environment's branch with --branch",
    );
  const waves = l.rollout.waves.map((w) => w.name);
  const { telemetry, problem } = await readTelemetry(io, o.environment);
  return {
    environment: o.environment,
    rollout: l.rollout,
    expected: l.expected,
    branch: { name: l.branch, commit: l.refs.branch },
    refs: l.refs.waves,
    ancestry: await io.git.ancestry(ancestryPairs(waves, l.refs.waves, l.refs.branch, emergencyCommit)),
    state: l.state,
    now: io.clock.now().getTime(),
    telemetry,
    ...(problem !== undefined ? { telemetryProblem: problem } : {}),
    by: o.by,
  };
}

async function subjectsOf(io: RolloutIo, d: Decision): Promise<Record<string, string>> {
  const commits = new Set<string>([
    d.branch.commit,
    ...d.waves.flatMap((w) => (w.commit ? [w.commit] : [])),
    ...d.promotions.map((p) => p.commit),
  ]);
  const out: Record<string, string> = {};
  for (const c of commits) out[c] = await io.git.subject(c);
  return out;
}

/** Writes the state after a decision (and pushes the refs it moves with it): the new state and its commit, when anything changed. */
async function write(
  io: RolloutIo,
  o: RolloutOptions,
  l: Loaded,
  next: RolloutState,
  message: string,
  moves: ReadonlyArray<{ commit: string; ref: string }>,
): Promise<string | undefined> {
  if (o.dryRun) return undefined;
  const commit = await io.git.commitState(l.refs.state, serializeState(next), message);
  await io.git.push([...moves, { commit, ref: stateRef(o.environment) }]);
  return commit;
}

const exitOf = (d: Decision): 0 | 1 => (d.halted || d.halt || d.notes.some((n) => n.kind === 'blocked') ? 1 : 0);

/**
 * gitops rollout advance: promote each wave whose predecessor baked its commit and whose gate
 * holds (wave 0 to the branch's head), halt when a gate fails; with `emergency`, one commit of the
 * branch (default its head) to every wave at once.
 */
export async function advanceRollout(
  io: RolloutIo,
  o: RolloutOptions & { emergency?: { reason: string; commit?: string } },
): Promise<RolloutResult> {
  const l = await load(io, o);
  let decision: Decision;
  if (o.emergency) {
    const commit = await io.git.resolve(o.emergency.commit ?? l.refs.branch ?? `refs/heads/${l.branch}`);
    decision = decideEmergency(await inputOf(io, o, l, commit), commit, o.emergency.reason);
  } else decision = decideAdvance(await inputOf(io, o, l));
  let state = l.state;
  let stateCommit: string | undefined;
  if (decision.halt) state = withHalt(l.state, decision.halt);
  else if (decision.promotions.length > 0) state = withPromotions(l.state, decision.promotions);
  if (state !== l.state)
    stateCommit = await write(
      io,
      o,
      l,
      state,
      decisionMessage(decision),
      decision.promotions.filter((p) => p.moves && !decision.halt).map((p) => ({ commit: p.commit, ref: p.ref })),
    );
  const exit = decision.emergency ? 0 : exitOf(decision);
  return {
    decision,
    state,
    subjects: await subjectsOf(io, decision),
    ...(stateCommit ? { stateCommit } : {}),
    dryRun: o.dryRun === true,
    exit,
  };
}

/** gitops rollout status: the waves, their commits, devices, bakes and gates, and what advance would do now. */
export async function rolloutStatus(io: RolloutIo, o: Omit<RolloutOptions, 'dryRun'>): Promise<RolloutResult> {
  return advanceRollout(io, { ...o, dryRun: true });
}

export interface HaltResult {
  environment: string;
  /** What changed: halted, resumed, or nothing (already so). */
  change: 'halted' | 'resumed' | 'none';
  halted: Halt | null;
  /** The halt a resume lifted. */
  was?: Halt;
  stateCommit?: string;
}

/** gitops rollout halt: nothing is promoted until resumed. */
export async function haltRollout(io: RolloutIo, o: RolloutOptions & { reason: string }): Promise<HaltResult> {
  const l = await load(io, o);
  if (l.state.halted) return { environment: o.environment, change: 'none', halted: l.state.halted };
  const halt: Halt = { by: o.by, reason: o.reason, at: io.clock.now().toISOString() };
  const stateCommit = await write(
    io,
    o,
    l,
    withHalt(l.state, halt),
    `rollout ${o.environment}: halted by ${o.by}\n\n${o.reason}\n`,
    [],
  );
  return { environment: o.environment, change: 'halted', halted: halt, ...(stateCommit ? { stateCommit } : {}) };
}

/** gitops rollout resume: advance promotes again; a gate failure that halted it halts no more (its commit goes no further). */
export async function resumeRollout(io: RolloutIo, o: RolloutOptions & { reason?: string }): Promise<HaltResult> {
  const l = await load(io, o);
  const was = l.state.halted;
  if (!was) return { environment: o.environment, change: 'none', halted: null };
  const message =
    `rollout ${o.environment}: resumed by ${o.by}\n\n${o.reason ? `${o.reason}\n\n` : ''}` +
    `It was halted by ${was.by} at ${was.at}: ${was.reason}\n`;
  const stateCommit = await write(io, o, l, withResume(l.state), message, []);
  return { environment: o.environment, change: 'resumed', halted: null, was, ...(stateCommit ? { stateCommit } : {}) };
}

/**
 * The environments whose rollout this checkout sees halted (the state branch, local or origin's),
 * with their halt: what the pull request's comment shows. An environment without a state branch
 * is not halted; one whose state does not validate is named with that as its reason.
 */
export async function haltedRollouts(
  cwd: string,
  files: RepoFiles,
): Promise<Array<{ environment: string; halt: Halt }>> {
  const environments = [...files.keys()].flatMap(
    (f) => /^environments\/([^/]+)\/environment\.yaml$/.exec(f)?.[1] ?? [],
  );
  const out: Array<{ environment: string; halt: Halt }> = [];
  for (const environment of environments.sort()) {
    const text = await checkoutState(cwd, environment);
    if (text === undefined) continue;
    try {
      const halted = parseState(
        text,
        environment,
        stateValidator(files),
        `state.json of ${stateRef(environment)}`,
      ).halted;
      if (halted) out.push({ environment, halt: halted });
    } catch (e) {
      if (!(e instanceof GitopsError)) throw e;
      out.push({
        environment,
        halt: { by: 'gitops ci', reason: `its rollout state cannot be read: ${e.message}`, at: '?' },
      });
    }
  }
  return out;
}

// An experiment file (experiments/<name>.yaml, schemas/experiment.schema.json) read from the
// repository as a typed value. Only a file that passes its schema is read; the schema's defaults
// (coverage 1, analysis settings, stop.no_data hold) are filled in here.

import { isObject } from '../json/value.js';
import type { JsonObject, Json } from '../json/value.js';
import { experimentFile, experimentFiles, experimentName } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import type { AssignmentPlan, Range } from './assign.js';
import type { TunableValue } from '../tunables/annotation.js';

export type Direction = 'lower' | 'higher';

export interface Metric {
  name: string;
  query: string;
  direction: Direction;
}

export interface Guardrail extends Metric {
  max_regression: number;
}

export interface Variant {
  name: string;
  weight: number;
  /** Dotted tunable path -> value; empty for a control arm. */
  set: Record<string, TunableValue>;
}

export type Design = { type: 'between' } | { type: 'switchback'; block_hours: number; washout_minutes: number };

/** A strata attribute: `hardware_model`, `cohort` or `label.<name>`. */
export type StratumAttribute = string;

export interface Experiment {
  name: string;
  file: string;
  description: string;
  owner: string;
  environments: string[];
  status: 'running' | 'paused';
  /** ISO 8601. */
  start: string;
  unit: 'device';
  hash: { version: 2; seed: string };
  namespace?: { name: string; range: Range };
  coverage: number;
  strata: StratumAttribute[];
  variants: Variant[];
  design: Design;
  metrics: { primary: Metric; guardrails: Guardrail[] };
  analysis: { alpha: number; cuped: boolean; pre_period_days: number; srm_alpha: number };
  stop: { max_days: number; min_devices_per_arm: number; no_data: 'hold' };
}

export type ExperimentRead =
  | { kind: 'missing' }
  /** The file does not parse or does not pass its schema (validation reports why). */
  | { kind: 'invalid' }
  | { kind: 'read'; experiment: Experiment };

/** The typed experiment of a document value that passed the schema. */
export function experimentOf(file: string, v: JsonObject): Experiment {
  const analysis = isObject(v.analysis) ? v.analysis : {};
  const stop = v.stop as JsonObject;
  const metrics = v.metrics as JsonObject;
  const ns = isObject(v.namespace) ? v.namespace : undefined;
  const num = (x: Json | undefined, d: number): number => (typeof x === 'number' ? x : d);
  return {
    name: experimentName(file),
    file,
    description: String(v.description),
    owner: String(v.owner),
    environments: (v.environments as string[]).slice(),
    status: v.status as Experiment['status'],
    start: String(v.start),
    unit: 'device',
    hash: { version: 2, seed: String((v.hash as JsonObject).seed) },
    ...(ns
      ? { namespace: { name: String(ns.name), range: [(ns.range as number[])[0]!, (ns.range as number[])[1]!] } }
      : {}),
    coverage: num(v.coverage, 1),
    strata: Array.isArray(v.strata) ? (v.strata as string[]).slice() : [],
    variants: (v.variants as JsonObject[]).map((x) => ({
      name: String(x.name),
      weight: x.weight as number,
      set: isObject(x.set) ? ({ ...x.set } as Record<string, TunableValue>) : {},
    })),
    design: structuredClone(v.design) as Design,
    metrics: {
      primary: structuredClone(metrics.primary) as unknown as Metric,
      guardrails: Array.isArray(metrics.guardrails)
        ? (structuredClone(metrics.guardrails) as unknown as Guardrail[])
        : [],
    },
    analysis: {
      alpha: num(analysis.alpha, 0.05),
      cuped: typeof analysis.cuped === 'boolean' ? analysis.cuped : true,
      pre_period_days: num(analysis.pre_period_days, 7),
      srm_alpha: num(analysis.srm_alpha, 0.001),
    },
    stop: {
      max_days: stop.max_days as number,
      min_devices_per_arm: stop.min_devices_per_arm as number,
      no_data: 'hold',
    },
  };
}

/** One experiment file of the repository, by file path. */
export function readExperimentFile(repo: Repository, file: string): ExperimentRead {
  const d = repo.document(file);
  if (!d) return { kind: 'missing' };
  if (!d.value || !repo.schemas || d.diagnostics.some((x) => x.severity === 'error')) return { kind: 'invalid' };
  if (repo.schemas.validate('experiment', d.value).length > 0) return { kind: 'invalid' };
  return { kind: 'read', experiment: experimentOf(file, d.value) };
}

/** The experiment `name` (experiments/<name>.yaml, or .yml). */
export function readExperiment(repo: Repository, name: string): ExperimentRead {
  const file = [experimentFile(name), experimentFile(name).replace(/\.yaml$/, '.yml')].find((f) => repo.files.has(f));
  return file ? readExperimentFile(repo, file) : { kind: 'missing' };
}

/** Every experiment of the repository that passes its schema, by file name. */
export function readExperiments(repo: Repository): Experiment[] {
  return experimentFiles(repo.files)
    .map((f) => readExperimentFile(repo, f))
    .flatMap((r) => (r.kind === 'read' ? [r.experiment] : []));
}

/** The experiment's names of experiments in the repository (file stems). */
export const experimentNames = (repo: Repository): string[] => experimentFiles(repo.files).map(experimentName);

/** What assignment needs of an experiment. */
export function planOf(e: Experiment): AssignmentPlan {
  return {
    seed: e.hash.seed,
    hashVersion: e.hash.version,
    coverage: e.coverage,
    weights: e.variants.map((v) => v.weight),
    ...(e.namespace ? { namespace: e.namespace } : {}),
    running: e.status === 'running',
  };
}

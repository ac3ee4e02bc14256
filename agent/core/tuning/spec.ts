// Tuning files (tuning/<name>.yaml, schemas/tuning.schema.json): reading one into a typed value,
// resolving its search space against one device's narrowed specs, and the CI checks of every
// tuning file of a repository (`checkTuning`, called by `gitops validate`). A space path must be
// tunable with owner `tuner` allowed on every targeted device, every listed value within the
// bounds and on the grid each device's signed narrowing leaves (issue 14's specs), and no path
// may be one an experiment sets in an environment the run targets.

import type { ErrorObject } from 'ajv';
import { closest } from '../format/suggest.js';
import { render } from '../config/render.js';
import { rulesOfConfig } from '../governor/rules.js';
import type { GovernorRules } from '../governor/rules.js';
import { toPointer } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import type { JsonObject } from '../json/value.js';
import { hardwareProfileFile, listHardwareModels, TUNING_DIR } from '../repo/layout.js';
export { TUNING_DIR } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import { indexPositions, locate, parseSource, toJson } from '../repo/yaml-source.js';
import type { PositionIndex } from '../repo/yaml-source.js';
import { schemaDiagnostics } from '../schema/diagnostics.js';
import { tidy } from '../tunables/annotation.js';
import type { TunableValue } from '../tunables/annotation.js';
import { checkAssignment } from '../tunables/lease.js';
import { targetTunables } from '../tunables/narrowing.js';
import { atLeastAsSafe } from '../tunables/effective.js';
import { admits, describeBounds } from '../tunables/spec.js';
import type { TunableSpec } from '../tunables/spec.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import type { Space } from './space.js';
import type { DimensionSpec, MethodSpec, Tuning } from './types.js';

export const TUNING_SCHEMA_FILE = 'schemas/tuning.schema.json';
/** The most candidates a space may hold (a device tries a few dozen at most). */
export const MAX_CANDIDATES = 1000;

export const tuningFile = (name: string): string => `${TUNING_DIR}/${name}.yaml`;

/** The tuning files of a repository, by name. */
export function listTuningFiles(files: ReadonlyMap<string, string>): string[] {
  return [...files.keys()].filter((f) => /^tuning\/[^/]+\.ya?ml$/.test(f)).sort();
}

/** A path an experiment sets (a variant's `set`), in the environments it runs in. */
export interface ExperimentPath {
  path: string;
  experiment: string;
  environments: readonly string[];
}

/** The typed value of a document the schema accepts, with the schema's defaults. */
export function readTuning(file: string, v: JsonObject): Tuning {
  const name = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const obj = (x: unknown): JsonObject => (isObject(x as JsonObject) ? (x as JsonObject) : {});
  const objective = obj(v.objective);
  const conditions = obj(v.conditions);
  const trial = obj(v.trial);
  const method = obj(v.method);
  const space: DimensionSpec[] = Object.entries(obj(v.space)).map(([path, d]) => ({
    path,
    values: Array.isArray(obj(d).values) ? (obj(d).values as TunableValue[]) : 'grid',
  }));
  const m: MethodSpec =
    method.type === 'thompson'
      ? { type: 'thompson', min_trials: (method.min_trials as number | undefined) ?? 1 }
      : method.type === 'gp-ei'
        ? { type: 'gp-ei', initial: (method.initial as number | undefined) ?? 6 }
        : {
            type: 'successive-halving',
            eta: (method.eta as number | undefined) ?? 2,
            ...(Array.isArray(method.candidates)
              ? { candidates: method.candidates as Array<Record<string, TunableValue>> }
              : {}),
          };
  const utc = obj(conditions.utc_hours);
  return {
    name,
    file,
    description: String(v.description ?? ''),
    owner: String(v.owner ?? ''),
    hardware_models: (v.hardware_models as string[] | undefined) ?? [],
    ...(Array.isArray(v.environments) ? { environments: v.environments as string[] } : {}),
    status: v.status === 'paused' ? 'paused' : 'running',
    space,
    reference: obj(v.reference) as Record<string, TunableValue>,
    objective: {
      metric: String(objective.metric),
      direction: objective.direction === 'maximize' ? 'maximize' : 'minimize',
      constraints: ((objective.constraints as JsonObject[] | undefined) ?? []).map((c) => ({
        metric: String(c.metric),
        stat: (c.stat as 'mean' | 'p95' | 'max' | undefined) ?? 'mean',
        ...(typeof c.max === 'number' ? { max: c.max } : {}),
        ...(typeof c.min === 'number' ? { min: c.min } : {}),
      })),
    },
    conditions: {
      governor_at_rest: conditions.governor_at_rest !== false,
      healthy: conditions.healthy !== false,
      below: obj(conditions.below) as Record<string, number>,
      ...(typeof utc.from === 'number' && typeof utc.to === 'number'
        ? { utc_hours: { from: utc.from, to: utc.to } }
        : {}),
    },
    trial: {
      settle_seconds: (trial.settle_seconds as number | undefined) ?? 60,
      duration_seconds: trial.duration_seconds as number,
      min_samples: (trial.min_samples as number | undefined) ?? 5,
    },
    budget: { max_trials: obj(v.budget).max_trials as number },
    method: m,
  };
}

/** A problem of one space path on one device; `value` is the listed value it concerns, if any. */
/**
 * Values of a space left out on one device because the load governor runs there and a step of
 * its ladder sets the path: signed, such a value would make that step give back what it takes
 * (CI refuses that ladder: governor-less-safe), so a finding could never be proposed there.
 */
export interface HeldBack {
  path: string;
  values: TunableValue[];
  /** The ladder step, and the value it sets. */
  step: string;
  limit: TunableValue;
}

export interface SpaceProblem {
  code:
    | 'tuning-not-tunable'
    | 'tuning-owner-not-allowed'
    | 'tuning-out-of-bounds'
    | 'tuning-off-grid'
    | 'tuning-wrong-type'
    | 'tuning-space-empty';
  path: string;
  index?: number;
  message: string;
  hint: string;
}

/** The grid of a spec: every value a lease may take. */
export function gridOf(spec: TunableSpec): TunableValue[] {
  if (spec.kind === 'enum') return [...spec.enum];
  const out: number[] = [];
  const first = Math.ceil(tidy((spec.minimum - spec.origin) / spec.step));
  for (let k = first; ; k++) {
    const v = tidy(spec.origin + k * spec.step);
    if (v > spec.maximum + 1e-9) break;
    out.push(v);
  }
  return out;
}

const FINDING_CODE = {
  'not-tunable': 'tuning-not-tunable',
  'lease-owner-not-allowed': 'tuning-owner-not-allowed',
  'lease-out-of-bounds': 'tuning-out-of-bounds',
  'lease-off-grid': 'tuning-off-grid',
  'lease-wrong-type': 'tuning-wrong-type',
} as const;

/**
 * The space of `tuning` on one device, from its specs (the signed narrowing applied): the values
 * listed that it admits (a value it does not admit is a problem and is left out), or its whole
 * grid. The space is undefined when a path is not tunable by the tuner or has no value left.
 * With the device's governor rules, where the governor runs, values a ladder step would be less
 * conservative than are held back (listed in heldBack, left out of the space).
 */
export function resolveSpace(
  tuning: Pick<Tuning, 'space'>,
  specAt: (path: string) => TunableSpec | undefined,
  governor?: GovernorRules,
): { space: Space | undefined; problems: SpaceProblem[]; heldBack: HeldBack[] } {
  const problems: SpaceProblem[] = [];
  const heldBack: HeldBack[] = [];
  const dims: Space['dims'] = [];
  for (const d of tuning.space) {
    const spec = specAt(d.path);
    const general = checkAssignment(
      d.path,
      spec ? (spec.kind === 'enum' ? spec.enum[0]! : spec.minimum) : 0,
      'tuner',
      specAt,
    )
      .filter((f) => f.code === 'not-tunable' || f.code === 'lease-owner-not-allowed')
      .map((f) => ({ code: FINDING_CODE[f.code as 'not-tunable'], path: d.path, message: f.message, hint: f.hint }));
    if (!spec || general.length > 0) {
      problems.push(...general);
      continue;
    }
    let values: TunableValue[];
    if (d.values === 'grid') values = gridOf(spec);
    else {
      values = [];
      d.values.forEach((value, index) => {
        const found = checkAssignment(d.path, value, 'tuner', specAt);
        const f = found[0];
        if (!f) values.push(value);
        else
          problems.push({
            code: FINDING_CODE[f.code as keyof typeof FINDING_CODE] ?? 'tuning-out-of-bounds',
            path: d.path,
            index,
            message: f.message,
            hint: `${f.hint}; ${d.path} takes ${describeBounds(spec)} here`,
          });
      });
    }
    const limits = governor?.enabled ? governor.ladder.filter((step) => step.set[d.path] !== undefined) : [];
    for (const step of limits) {
      const limit = step.set[d.path]!;
      const past = values.filter((v) => !atLeastAsSafe(spec, limit, v));
      if (past.length === 0) continue;
      heldBack.push({ path: d.path, values: past, step: step.name, limit });
      values = values.filter((v) => !past.includes(v));
    }
    if (values.length === 0) {
      problems.push({
        code: 'tuning-space-empty',
        path: d.path,
        message: `no value of ${d.path} in the space is allowed here`,
        hint: `${d.path} takes ${describeBounds(spec)} here`,
      });
      continue;
    }
    dims.push({ path: d.path, values });
  }
  return { space: problems.some((p) => p.index === undefined) ? undefined : { dims }, problems, heldBack };
}

/** The tuning schema's validator, compiled with the repository's schemas (and their cache); undefined when the schema is missing. */
export const tuningValidator = (repo: Repository): ((value: unknown) => ErrorObject[]) | undefined =>
  repo.schemas?.validator('tuning');

/** A tuning file read and checked against the schema: its value, or the diagnostics. */
export function parseTuningFile(
  file: string,
  text: string,
  validate: ((value: unknown) => ErrorObject[]) | undefined,
): { tuning: Tuning | undefined; positions: PositionIndex | undefined; diagnostics: Diagnostic[] } {
  const source = parseSource(file, text);
  const raw = toJson(source);
  const diagnostics = [...source.diagnostics, ...raw.diagnostics];
  const positions = source.doc ? indexPositions(source.doc, source.lineCounter) : undefined;
  if (diagnostics.length > 0) return { tuning: undefined, positions, diagnostics };
  if (!isObject(raw.value ?? null))
    return {
      tuning: undefined,
      positions,
      diagnostics: [
        {
          severity: 'error',
          code: 'not-a-mapping',
          message: `${file} must be a YAML mapping (key: value)`,
          file,
          line: 1,
          column: 1,
          hint: 'write the tuning run as "key: value" lines (schemas/tuning.schema.json)',
        },
      ],
    };
  const value = raw.value as JsonObject;
  const name = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  if (!/^[a-z0-9-]+$/.test(name))
    diagnostics.push({
      severity: 'error',
      code: 'tuning-bad-name',
      message: `${file}: a tuning run's name (the file name) must be lower-case letters, digits and dashes`,
      file,
      line: 1,
      column: 1,
      hint: 'rename the file, e.g. tuning/person-detector-p4.yaml',
    });
  if (validate === undefined) {
    diagnostics.push({
      severity: 'error',
      code: 'schema-missing',
      message: `${TUNING_SCHEMA_FILE} is missing`,
      file: TUNING_SCHEMA_FILE,
      hint: 'restore the schema file from the upstream repository',
    });
    return { tuning: undefined, positions, diagnostics };
  }
  const errors = validate(value);
  if (errors.length > 0) {
    const at = (pointer: string, preferKey?: boolean) => ({
      file,
      ...(positions ? locate(positions, pointer, preferKey) : {}),
    });
    diagnostics.push(...schemaDiagnostics(errors, at, { scope: file }));
    return { tuning: undefined, positions, diagnostics };
  }
  return { tuning: diagnostics.length > 0 ? undefined : readTuning(file, value), positions, diagnostics };
}

export interface CheckTuningOptions {
  /** The paths experiments set, with their environments (agent/core/experiments builds them). */
  experimentPaths?: readonly ExperimentPath[];
}

/** The governor's rules on one device, from its rendered configuration (undefined where it does not render). */
export function governorRulesOf(
  repo: Repository,
  target: { environment: string; device: string },
): GovernorRules | undefined {
  const { config, diagnostics } = render(repo, target);
  return diagnostics.some((d) => d.severity === 'error') ? undefined : rulesOfConfig(config);
}

/** The devices a tuning run targets: of its hardware models, in its environments. */
export function tuningTargets(
  repo: Repository,
  tuning: Tuning,
): Array<{ environment: string; device: string; model: string }> {
  const out: Array<{ environment: string; device: string; model: string }> = [];
  for (const environment of tuning.environments ?? repo.environments())
    for (const device of repo.devices(environment)) {
      const model = repo.document(`environments/${environment}/devices/${device}.yaml`)?.value?.device;
      const m = isObject(model ?? null) ? (model as JsonObject).model : undefined;
      if (typeof m === 'string' && tuning.hardware_models.includes(m)) out.push({ environment, device, model: m });
    }
  return out;
}

/**
 * Checks every tuning/<name>.yaml of the repository: the schema, the name, the hardware models
 * (config/hardware/<model>.yaml), the environments, the method against the space (gp-ei: one or
 * two numeric knobs; successive halving: candidates within the space), the space's size, no path
 * an experiment sets, and on every targeted device: each path tunable by the tuner, each listed
 * value within its narrowed bounds and on its grid, the reference within bounds. Located diagnostics.
 */
export function checkTuning(repo: Repository, options: CheckTuningOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const validate = tuningValidator(repo);
  const models = listHardwareModels(repo.files);
  const envs = repo.environments();
  for (const file of listTuningFiles(repo.files)) {
    const parsed = parseTuningFile(file, repo.files.get(file)!, validate);
    out.push(...parsed.diagnostics);
    const t = parsed.tuning;
    if (!t) continue;
    const at = (pointer: string, preferKey = false): { file: string; line?: number; column?: number } => ({
      file,
      ...(parsed.positions ? (locate(parsed.positions, pointer, preferKey) ?? {}) : {}),
    });
    const err = (code: string, pointer: string, message: string, hint: string, extra: Partial<Diagnostic> = {}): void =>
      void out.push({ severity: 'error', code, message, ...at(pointer, extra.path !== undefined), hint, ...extra });
    t.hardware_models.forEach((m, i) => {
      if (!models.includes(m)) {
        const guess = closest(m, models);
        err(
          'tuning-unknown-model',
          `/hardware_models/${i}`,
          `${file}: there is no hardware model "${m}" (${hardwareProfileFile(m)})${guess ? `. Did you mean "${guess}"?` : ''}`,
          `hardware models: ${models.join(', ') || '(none)'}`,
          guess ? { suggestion: guess } : {},
        );
      }
    });
    (t.environments ?? []).forEach((e, i) => {
      if (!envs.includes(e))
        err(
          'tuning-unknown-environment',
          `/environments/${i}`,
          `${file}: there is no environment "${e}"`,
          `environments: ${envs.join(', ')}`,
        );
    });
    const size = t.space.some((d) => d.values === 'grid')
      ? undefined
      : t.space.reduce((n, d) => n * (d.values as unknown[]).length, 1);
    if (size !== undefined && size > MAX_CANDIDATES)
      err(
        'tuning-space-too-large',
        '/space',
        `${file}: the space holds ${size} candidates; at most ${MAX_CANDIDATES}`,
        'list fewer values',
      );
    if (t.method.type === 'gp-ei') {
      if (t.space.length > 2)
        err(
          'tuning-method-space',
          '/method/type',
          `${file}: gp-ei searches one or two knobs; the space has ${t.space.length}`,
          'use successive-halving or thompson, or fewer paths',
        );
      t.space.forEach((d) => {
        if (d.values !== 'grid' && !d.values.every((v) => typeof v === 'number'))
          err(
            'tuning-method-space',
            toPointer(['space', d.path]),
            `${file}: gp-ei needs numeric values; ${d.path} lists others`,
            'use thompson or successive-halving for a non-numeric knob',
            { path: d.path },
          );
      });
    }
    if (t.method.type === 'successive-halving')
      (t.method.candidates ?? []).forEach((c, i) => {
        for (const d of t.space) {
          const listed = d.values === 'grid' ? undefined : d.values;
          if (!(d.path in c))
            err(
              'tuning-candidate-outside-space',
              `/method/candidates/${i}`,
              `${file}: candidate ${i + 1} gives no value for ${d.path}`,
              'give every path of the space a value',
              { path: d.path },
            );
          else if (listed && !listed.includes(c[d.path]!))
            err(
              'tuning-candidate-outside-space',
              toPointer(['method', 'candidates', String(i), d.path]),
              `${file}: candidate ${i + 1} sets ${d.path} to ${JSON.stringify(c[d.path])}, which the space does not list`,
              `the space lists ${listed.map((v) => JSON.stringify(v)).join(', ')}`,
              { path: d.path },
            );
        }
        for (const p of Object.keys(c))
          if (!t.space.some((d) => d.path === p))
            err(
              'tuning-candidate-outside-space',
              toPointer(['method', 'candidates', String(i), p]),
              `${file}: candidate ${i + 1} sets ${p}, which is not in the space`,
              `the space's paths: ${t.space.map((d) => d.path).join(', ')}`,
              { path: p },
            );
      });
    t.objective.constraints.forEach((c, i) => {
      if (c.max === undefined && c.min === undefined)
        err(
          'tuning-constraint-empty',
          `/objective/constraints/${i}`,
          `${file}: the constraint on ${c.metric} gives neither max nor min`,
          'give max, min or both',
        );
    });
    const runsIn = t.environments ?? envs;
    for (const d of t.space)
      for (const x of options.experimentPaths ?? [])
        if (x.path === d.path && x.environments.some((e) => runsIn.includes(e)))
          err(
            'tuning-experiment-owned',
            toPointer(['space', d.path]),
            `${file}: ${d.path} is set by the experiment ${x.experiment} in ` +
              `${x.environments.filter((e) => runsIn.includes(e)).join(', ')}; a tuner never touches a field an experiment sets`,
            'leave the path out of the space, or narrow environments until the experiment ends',
            { path: d.path },
          );
    const targets = tuningTargets(repo, t);
    if (targets.length === 0)
      out.push({
        severity: 'warning',
        code: 'tuning-no-devices',
        message: `${file}: no device of ${t.hardware_models.join(', ')} is in ${runsIn.join(', ') || 'any environment'}`,
        ...at('/hardware_models'),
        hint: 'the run does nothing until such a device exists',
      });
    for (const target of targets) {
      const table = targetTunables(repo, target);
      if (!table) continue;
      const specAt = (p: string): TunableSpec | undefined => table.at(p);
      const { problems, heldBack } = resolveSpace(t, specAt, governorRulesOf(repo, target));
      for (const h of heldBack)
        out.push({
          severity: 'warning',
          code: 'tuning-governor-held-back',
          message:
            `${file}: ${h.path} ${h.values.map((v) => JSON.stringify(v)).join(', ')} left out of the space where the load governor runs: ` +
            `its step ${h.step} sets ${JSON.stringify(h.limit)}, and a finding signed past it would make that step give it back`,
          ...at(toPointer(['space', h.path]), true),
          path: h.path,
          environment: target.environment,
          device: target.device,
          hint: `trials there stay within ${JSON.stringify(h.limit)}; to try further, move the ladder step first (config/load_governor.yaml)`,
        });
      for (const p of problems)
        out.push({
          severity: 'error',
          code: p.code,
          message: `${file}: ${p.message}`,
          ...at(
            toPointer(['space', p.path, ...(p.index !== undefined ? ['values', String(p.index)] : [])]),
            p.index === undefined,
          ),
          path: p.path,
          environment: target.environment,
          device: target.device,
          hint: p.hint,
        });
      for (const [path, value] of Object.entries(t.reference)) {
        const spec = specAt(path);
        if (!spec || !admits(spec, value))
          out.push({
            severity: 'error',
            code: 'tuning-reference-out-of-bounds',
            message: `${file}: the reference sets ${path} to ${JSON.stringify(value)}, ${spec ? `outside ${describeBounds(spec)}` : 'which is not tunable'}`,
            ...at(toPointer(['reference', path])),
            path,
            environment: target.environment,
            device: target.device,
            hint: 'the reference is a configuration the device may run: keep it within the bounds',
          });
      }
    }
  }
  return out;
}

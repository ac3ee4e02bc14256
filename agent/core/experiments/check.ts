// What `gitops validate` (and the device, which runs the same validation) refuses about the
// experiments of a repository beyond their schema: names, environments, ASCII seeds and device
// ids, weights, switchback washouts, the tunable values each variant sets (for every device of
// every environment the experiment runs in, with that device's narrowed bounds), namespace
// ranges that overlap, and one field set by two experiments that may share a device.

import { closest } from '../format/suggest.js';
import { toPointer } from '../json/pointer.js';
import type { RenderTarget } from '../config/render.js';
import { experimentFiles, experimentName } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import { locate } from '../repo/yaml-source.js';
import { describeBounds, keySegments, ownerAllowed, tunableTable, withinBounds } from '../tunables/spec.js';
import type { TunableSpec, TunableTable } from '../tunables/spec.js';
import { targetTunables } from '../tunables/narrowing.js';
import { onGrid } from '../tunables/annotation.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import { isAscii } from './hash.js';
import { readExperimentFile } from './read.js';
import type { Experiment } from './read.js';

/** The codes of the diagnostics below. */
export type ExperimentCode =
  | 'experiment-bad-name'
  | 'experiment-unknown-environment'
  | 'experiment-non-ascii'
  | 'experiment-weights-sum'
  | 'experiment-duplicate-variant'
  | 'experiment-empty-range'
  | 'experiment-washout-too-long'
  | 'experiment-unknown-path'
  | 'experiment-not-tunable'
  | 'experiment-owner-not-allowed'
  | 'experiment-value-out-of-bounds'
  | 'experiment-value-off-grid'
  | 'experiment-namespace-overlap'
  | 'experiment-path-conflict';

type Located = Pick<Diagnostic, 'file' | 'line' | 'column'>;

interface ExperimentDiagnostic extends Diagnostic {
  code: ExperimentCode;
}

const WEIGHT_TOLERANCE = 1e-9;

/**
 * Every experiment's problems: each file on its own, the per-device checks for the experiment's
 * environments among `envs` (the ones being validated), then the checks across experiments.
 */
export function checkExperiments(repo: Repository, envs: readonly string[]): Diagnostic[] {
  if (!repo.schemas) return [];
  const out: ExperimentDiagnostic[] = [];
  const read: Experiment[] = [];
  const tables = new Map<string, TunableTable | undefined>();
  const tableOf = (t: RenderTarget): TunableTable | undefined => {
    const key = `${t.environment}/${t.device ?? ''}`;
    if (!tables.has(key)) tables.set(key, targetTunables(repo, t));
    return tables.get(key);
  };
  for (const file of experimentFiles(repo.files)) {
    const name = experimentName(file);
    if (!/^[a-z0-9-]+$/.test(name))
      out.push({
        severity: 'error',
        code: 'experiment-bad-name',
        message: `experiment file ${file}: the name "${name}" may hold only a-z, 0-9 and -`,
        file,
        line: 1,
        column: 1,
        hint: `rename it, e.g. experiments/${name.toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'my-experiment'}.yaml`,
      });
    const r = readExperimentFile(repo, file);
    if (r.kind !== 'read') continue; // the document and schema checks report it
    read.push(r.experiment);
    out.push(...checkOne(repo, r.experiment, envs, tableOf));
  }
  out.push(...checkAcross(repo, read));
  return out;
}

function where(repo: Repository, file: string): (pointer: string) => Located {
  const positions = repo.document(file)!.positions;
  return (pointer) => ({ file, ...(locate(positions, pointer, true) ?? { line: 1, column: 1 }) });
}

function checkOne(
  repo: Repository,
  e: Experiment,
  envs: readonly string[],
  tableOf: (t: RenderTarget) => TunableTable | undefined,
): ExperimentDiagnostic[] {
  const out: ExperimentDiagnostic[] = [];
  const at = where(repo, e.file);
  const known = repo.environments();

  if (!isAscii(e.hash.seed))
    out.push({
      severity: 'error',
      code: 'experiment-non-ascii',
      message: `the seed of experiment ${e.name} is not ASCII: runtimes that hash UTF-8 and UTF-16 would split devices differently`,
      ...at('/hash/seed'),
      path: 'hash.seed',
      hint: `use letters, digits and punctuation of ASCII only, e.g. seed: ${e.name}-1`,
    });

  e.environments.forEach((env, i) => {
    if (known.includes(env)) return;
    const guess = closest(env, known);
    out.push({
      severity: 'error',
      code: 'experiment-unknown-environment',
      message: `experiment ${e.name} runs in "${env}", which is no environment${guess ? `. Did you mean "${guess}"?` : ''}`,
      ...at(`/environments/${i}`),
      path: `environments[${i}]`,
      hint: `environments: ${known.join(', ') || '(none)'}`,
      ...(guess ? { suggestion: guess } : {}),
    });
  });

  const sum = e.variants.reduce((s, v) => s + v.weight, 0);
  if (Math.abs(sum - 1) > WEIGHT_TOLERANCE)
    out.push({
      severity: 'error',
      code: 'experiment-weights-sum',
      message: `the weights of experiment ${e.name}'s variants add up to ${Math.round(sum * 1e9) / 1e9}, not 1`,
      ...at('/variants'),
      path: 'variants',
      hint: 'give weights that add up to 1 (coverage, not the weights, sets how many devices are in)',
    });

  const seen = new Set<string>();
  e.variants.forEach((v, i) => {
    if (seen.has(v.name))
      out.push({
        severity: 'error',
        code: 'experiment-duplicate-variant',
        message: `experiment ${e.name} has two variants named "${v.name}"`,
        ...at(`/variants/${i}/name`),
        path: `variants[${i}].name`,
        hint: 'give every variant its own name',
      });
    seen.add(v.name);
  });

  if (e.namespace && e.namespace.range[0] >= e.namespace.range[1])
    out.push({
      severity: 'error',
      code: 'experiment-empty-range',
      message: `the namespace range [${e.namespace.range.join(', ')}) of experiment ${e.name} holds no device`,
      ...at('/namespace/range'),
      path: 'namespace.range',
      hint: 'give [start, end) with start < end, e.g. [0, 0.5]',
    });

  if (e.design.type === 'switchback' && e.design.washout_minutes >= e.design.block_hours * 60)
    out.push({
      severity: 'error',
      code: 'experiment-washout-too-long',
      message: `the washout of experiment ${e.name} (${e.design.washout_minutes} min) leaves nothing of a ${e.design.block_hours} h block`,
      ...at('/design/washout_minutes'),
      path: 'design.washout_minutes',
      hint: `give a washout shorter than ${e.design.block_hours * 60} minutes, or longer blocks`,
    });

  // the device ids and variant values, per device of each environment being validated
  const targets: RenderTarget[] = e.environments
    .filter((env) => known.includes(env) && envs.includes(env))
    .flatMap((env) => {
      const devices = repo.devices(env);
      return devices.length > 0 ? devices.map((device) => ({ environment: env, device })) : [{ environment: env }];
    });
  for (const t of targets)
    if (t.device !== undefined && !isAscii(t.device))
      out.push({
        severity: 'error',
        code: 'experiment-non-ascii',
        message: `device id "${t.device}" is not ASCII: experiment ${e.name} cannot assign it alike on every runtime`,
        ...at('/environments'),
        environment: t.environment,
        device: t.device,
        hint: 'rename the device file (and its device.id) to ASCII letters, digits and -',
      });
  out.push(...checkValues(repo, e, targets, tableOf, at));
  return out;
}

function checkValues(
  repo: Repository,
  e: Experiment,
  targets: readonly RenderTarget[],
  tableOf: (t: RenderTarget) => TunableTable | undefined,
  at: (pointer: string) => Located,
): ExperimentDiagnostic[] {
  const out: ExperimentDiagnostic[] = [];
  const schemaTable = tunableTable(repo.schemas!);
  const tunablePaths = schemaTable.patterns().map((s) => s.path);
  e.variants.forEach((v, i) => {
    for (const [path, value] of Object.entries(v.set)) {
      const pointer = toPointer(['variants', String(i), 'set', path]);
      const dotted = `variants[${i}].set.${path}`;
      if (!schemaTable.at(path)) {
        const exists = repo.schemas!.nodeAt(keySegments(path)) !== undefined;
        const guess = closest(path, tunablePaths);
        out.push({
          severity: 'error',
          code: exists ? 'experiment-not-tunable' : 'experiment-unknown-path',
          message: exists
            ? `variant ${v.name} of experiment ${e.name} sets ${path}, which is not tunable at runtime`
            : `variant ${v.name} of experiment ${e.name} sets ${path}, which is not a configuration path${guess ? `. Did you mean "${guess}"?` : ''}`,
          ...at(pointer),
          path: dotted,
          hint: `tunable fields (x-tunable in schemas/): ${tunablePaths.join(', ')}`,
          ...(guess && !exists ? { suggestion: guess } : {}),
        });
        continue;
      }
      for (const t of targets) {
        const spec = tableOf(t)?.at(path);
        if (!spec) continue;
        const problem = valueProblem(spec, value, v.name, e.name, path);
        if (problem)
          out.push({
            severity: 'error',
            ...problem,
            ...at(pointer),
            path: dotted,
            environment: t.environment,
            ...(t.device !== undefined ? { device: t.device } : {}),
          });
      }
    }
  });
  return out;
}

/** What is wrong with an experiment setting `value` under `spec` (a target's narrowed spec), if anything. */
function valueProblem(
  spec: TunableSpec,
  value: string | number | boolean,
  variant: string,
  experiment: string,
  path: string,
): Pick<ExperimentDiagnostic, 'code' | 'message' | 'hint'> | undefined {
  const narrowed = spec.narrowed_by.length > 0 ? ` (narrowed by ${spec.narrowed_by.join(', ')})` : '';
  if (!ownerAllowed(spec, 'experiment'))
    return {
      code: 'experiment-owner-not-allowed',
      message: `experiments may not set ${path}: its owners are ${spec.owners.join(', ') || '(none)'}${narrowed}`,
      hint: `set another field, or allow the owner experiment for ${path} (x-tunable owners, tunables: narrowing)`,
    };
  if (!withinBounds(spec, value))
    return {
      code: 'experiment-value-out-of-bounds',
      message: `variant ${variant} of experiment ${experiment} sets ${path} to ${JSON.stringify(value)}, outside its bounds ${describeBounds(spec)}${narrowed}`,
      hint: `give a value within ${describeBounds(spec)}`,
    };
  if (spec.kind === 'range' && !onGrid(value as number, spec.origin, spec.step))
    return {
      code: 'experiment-value-off-grid',
      message: `variant ${variant} of experiment ${experiment} sets ${path} to ${value}, off its grid of step ${spec.step} from ${spec.origin}`,
      hint: `use a value ${spec.origin} + k * ${spec.step}`,
    };
  return undefined;
}

const sharedEnvironments = (a: Experiment, b: Experiment): string[] =>
  a.environments.filter((env) => b.environments.includes(env));

/**
 * Across experiments: of one namespace, ranges may not overlap where both run; a field may be set
 * by two experiments only when a namespace keeps them apart. "May share a device" is decided on
 * the files, not on today's devices, so that adding a device never makes a commit invalid.
 */
function checkAcross(repo: Repository, experiments: readonly Experiment[]): ExperimentDiagnostic[] {
  const out: ExperimentDiagnostic[] = [];
  for (let j = 0; j < experiments.length; j++)
    for (let i = 0; i < j; i++) {
      const a = experiments[i]!;
      const b = experiments[j]!;
      const envs = sharedEnvironments(a, b);
      if (envs.length === 0) continue;
      const at = where(repo, b.file);
      const sameNamespace = a.namespace !== undefined && b.namespace?.name === a.namespace.name;
      if (sameNamespace) {
        const [as, ae] = a.namespace!.range;
        const [bs, be] = b.namespace!.range;
        if (as < be && bs < ae)
          out.push({
            severity: 'error',
            code: 'experiment-namespace-overlap',
            message:
              `experiments ${a.name} and ${b.name} both take [${Math.max(as, bs)}, ${Math.min(ae, be)})` +
              ` of namespace ${b.namespace!.name} in ${envs.join(', ')}`,
            ...at('/namespace/range'),
            path: 'namespace.range',
            hint: `give ${b.name} a range outside [${as}, ${ae}) (${a.file}), e.g. [${ae}, 1]`,
          });
        continue; // apart in the namespace (or reported above)
      }
      const aPaths = new Set(a.variants.flatMap((v) => Object.keys(v.set)));
      b.variants.forEach((v, k) => {
        for (const path of Object.keys(v.set))
          if (aPaths.has(path))
            out.push({
              severity: 'error',
              code: 'experiment-path-conflict',
              message: `experiments ${a.name} and ${b.name} both set ${path} and may share devices in ${envs.join(', ')}`,
              ...at(toPointer(['variants', String(k), 'set', path])),
              path: `variants[${k}].set.${path}`,
              hint: `put both in one namespace with ranges that do not overlap, or run them in different environments`,
            });
      });
    }
  return dedupeByMessage(out);
}

/** One diagnostic per message (a path set by several variants of one experiment is one conflict). */
function dedupeByMessage(list: ExperimentDiagnostic[]): ExperimentDiagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => !seen.has(d.message) && (seen.add(d.message), true));
}

// The validation pipeline of DESIGN.md section 3, the same for CI and the device:
// parse -> migrate -> merge -> schema -> cross-section rules -> environment policy -> hardware;
// experiments (experiments/*.yaml) are checked with the documents.
// Findings are returned as diagnostics; nothing here throws on a user's mistake.

import type { ErrorObject } from 'ajv';
import type { Config, Finding, HardwareProfile } from '../config/types.js';
import type { Diagnostic } from './diagnostics.js';
import { dedupeDiagnostics, hasErrors, sortDiagnostics } from './diagnostics.js';
import { checkHardware } from '../hardware/check.js';
import { isAtOrBelow, pointerToDotted } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import type { JsonObject } from '../json/value.js';
import { checkBaseline, checkPolicy } from './policy.js';
import {
  deviceFile,
  environmentFile,
  experimentFiles,
  overridesFile,
  hardwareProfileFile,
  isYamlFile,
  listHardwareModels,
  secretsFile,
  TEMPLATES_DIR,
} from '../repo/layout.js';
import type { RepoFiles } from '../repo/layout.js';
import { openRepository } from '../repo/repository.js';
import type { Repository } from '../repo/repository.js';
import { missingEnvironmentFile, plaintextSecrets, REDACTED, render } from '../config/render.js';
import type { RenderOptions, RenderResult, RenderTarget } from '../config/render.js';
import { describeProblem, fileProblem } from '../repo/file.js';
import { checkRules } from './rules.js';
import { checkDeviceRecipients, checkSecretsFile } from './secrets-check.js';
import { checkNarrowings, checkSignedValues, targetTunables } from '../tunables/narrowing.js';
import { checkGovernor, checkLadderSteps } from '../governor/check.js';
import { checkRollout } from '../rollout/check.js';
import { checkExperiments } from '../experiments/check.js';
import { readExperiments } from '../experiments/read.js';
import { checkTuning } from '../tuning/spec.js';
import { schemaDiagnostics } from '../schema/diagnostics.js';
import type { CompiledSchemaCache, SchemaName } from '../schema/schema-set.js';
import { closest } from '../format/suggest.js';
import { locate } from '../repo/yaml-source.js';

export interface ValidateOptions extends RenderOptions {
  environments?: readonly string[];
  devices?: readonly string[];
  /** Check the environment itself, without its devices (validateFor an environment). */
  wholeEnvironment?: boolean;
  /**
   * With `devices`: of their environments' device files, check only theirs (`gitops validate
   * --device D`: the work is that device's, not its environment's thousands). The checks of the
   * repository and of the environments still run, over the named devices alone.
   */
  onlyNamedDevices?: boolean;
  /** Validate every device against this profile instead of its model's recorded one (a live probe). */
  hardwareProfile?: { profile: HardwareProfile; source: string };
  /**
   * One part of the work, for a pool of workers: the targets whose place in the list is `index`
   * modulo `count`, and (part 0 alone) the checks of the repository as a whole. The parts'
   * diagnostics together, passed to mergeParts, are the report of the whole.
   */
  part?: { index: number; count: number };
}

export interface TargetReport {
  target: RenderTarget;
  result: RenderResult;
  diagnostics: Diagnostic[];
}

export interface ValidationReport {
  valid: boolean;
  diagnostics: Diagnostic[];
  targets: TargetReport[];
}

export function validateRepository(
  files: RepoFiles,
  options: ValidateOptions = {},
  schemaCache?: CompiledSchemaCache,
): ValidationReport {
  return validateOpened(openRepository(files, schemaCache), options);
}

export function validateOpened(repo: Repository, options: ValidateOptions = {}): ValidationReport {
  const { diagnostics, targets } = validatePart(repo, options);
  return finish([...diagnostics, ...targets.flatMap((t) => t.diagnostics)], targets);
}

/**
 * One part of validateOpened (all of it without `options.part`): the findings about the
 * repository as a whole (part 0 only), and the targets of the part with their own findings,
 * neither sorted nor merged yet (mergeParts does that for the parts together).
 */
export function validatePart(
  repo: Repository,
  options?: ValidateOptions,
): { diagnostics: Diagnostic[]; targets: TargetReport[] };
/** `keep`: what of each target's report is kept (a pool's worker keeps its findings, not its render). */
export function validatePart<T>(
  repo: Repository,
  options: ValidateOptions,
  keep: (report: TargetReport) => T,
): { diagnostics: Diagnostic[]; targets: T[] };
export function validatePart(
  repo: Repository,
  options: ValidateOptions = {},
  keep: (report: TargetReport) => unknown = (report) => report,
): { diagnostics: Diagnostic[]; targets: unknown[] } {
  const whole = (options.part?.index ?? 0) === 0;
  const mine = (i: number): boolean => !options.part || i % options.part.count === options.part.index;
  const diagnostics: Diagnostic[] = whole ? [...repo.schemaDiagnostics] : [];
  const targets: unknown[] = [];
  if (!repo.schemas) return { diagnostics, targets };
  const { known, envs, selected } = environmentsOf(repo, options);
  const scoped = options.onlyNamedDevices && options.devices?.length ? namedDevicesOf(repo, options.devices) : repo;
  if (whole) {
    for (const env of envs)
      if (!known.includes(env)) diagnostics.push(unknownName('environment', env, known, 'environments/'));
    const candidates = selected.flatMap((e) => repo.devices(e));
    const present = new Set(candidates);
    for (const d of options.devices ?? [])
      if (!present.has(d))
        diagnostics.push(
          unknownName(
            'device',
            d,
            candidates,
            selected.length === 1 ? `environments/${selected[0]}/devices/` : 'environments/*/devices/',
          ),
        );
  }
  const all = validationTargets(repo, selected, options);
  // each part of a pool checks the device files of its own targets (the parse is most of a large fleet's work)
  const owner = new Map<string, number>();
  if (options.part)
    all.forEach((t, i) => {
      if (t.device !== undefined)
        for (const file of deviceFiles(t.environment, t.device)) if (repo.files.has(file)) owner.set(file, i);
    });
  const othersFile = (file: string): boolean => owner.has(file) && !mine(owner.get(file)!);
  if (whole) diagnostics.push(...checkDocuments(scoped, selected, scoped !== repo, othersFile));
  else {
    for (const [file, i] of owner)
      if (mine(i)) diagnostics.push(...documentDiagnostics(repo, file, 'device', layerErrors));
    // the checks of the environments that read each device file, for this part's own
    const ownFile = (file: string): boolean => owner.has(file) && mine(owner.get(file)!);
    for (const env of selected) {
      const own = scoped.devices(env).filter((d) => ownFile(deviceFile(env, d)));
      if (repo.document(secretsFile(env))?.value) diagnostics.push(...checkDeviceRecipients(repo, env, own));
      diagnostics.push(...checkNarrowings(repo, env, own, true), ...checkRollout(repo, env, own, true));
    }
  }
  all.forEach((target, i) => {
    if (mine(i)) targets.push(keep(validateTarget(repo, target, options)));
  });
  return { diagnostics, targets };
}

/** The devices of `env` whose file is not `other`'s. */
const ownDevices = (repo: Repository, env: string, other: (file: string) => boolean): string[] =>
  repo.devices(env).filter((d) => !other(deviceFile(env, d)));

/** The names a device's file may have. */
const deviceFiles = (env: string, device: string): string[] => {
  const file = deviceFile(env, device);
  return [file, file.replace(/\.yaml$/, '.yml')];
};

/** The repository as if the environments had only the named devices (the files stay all there). */
function namedDevicesOf(repo: Repository, named: readonly string[]): Repository {
  const wanted = new Set(named);
  return { ...repo, devices: (env) => repo.devices(env).filter((d) => wanted.has(d)) };
}

/** What validateOpened checks target by target: each device of the environments, or an environment without devices as a whole. */
function validationTargets(repo: Repository, envs: readonly string[], options: ValidateOptions): RenderTarget[] {
  const out: RenderTarget[] = [];
  const named = options.devices?.length ? new Set(options.devices) : undefined;
  for (const env of envs) {
    const all = repo.devices(env);
    const devices = named ? all.filter((d) => named.has(d)) : all;
    // An environment without devices is still rendered and checked as a whole.
    if (options.wholeEnvironment || (devices.length === 0 && !options.devices?.length)) out.push({ environment: env });
    else for (const device of devices) out.push({ environment: env, device });
  }
  return out;
}

/** How many targets validateOpened would check (to choose between one thread and a pool). */
export function countTargets(repo: Repository, options: ValidateOptions = {}): number {
  return repo.schemas ? validationTargets(repo, environmentsOf(repo, options).selected, options).length : 0;
}

/** The environments asked for (all by default), those the repository has, and those of both. */
function environmentsOf(
  repo: Repository,
  options: ValidateOptions,
): { known: string[]; envs: string[]; selected: string[] } {
  const known = repo.environments();
  const envs = options.environments?.length ? [...options.environments] : known;
  return { known, envs, selected: envs.filter((e) => known.includes(e)) };
}

/**
 * The one entry point for one environment or device: what CI checks for it (every document of
 * its environment and of the base, the schemas, then the rendered target). The agent, restore,
 * `render` and `explain` use it, so the device refuses exactly what `gitops validate` refuses.
 */
export function validateFor(repo: Repository, target: RenderTarget, options: ValidateOptions = {}): ValidationReport {
  return validateOpened(repo, {
    ...options,
    environments: [target.environment],
    ...(target.device === undefined ? { devices: [], wholeEnvironment: true } : { devices: [target.device] }),
  });
}

/** The report of the whole from its parts (validatePart with ValidateOptions.part, in the order of their index). */
export function mergeParts<T extends { diagnostics: Diagnostic[] }>(
  parts: ReadonlyArray<{ diagnostics: Diagnostic[]; targets: T[] }>,
): { valid: boolean; diagnostics: Diagnostic[]; targets: T[] } {
  const targets: T[] = [];
  // target i of the whole is target floor(i / count) of part i % count
  for (let i = 0; ; i++) {
    const t = parts[i % parts.length]!.targets[Math.floor(i / parts.length)];
    if (!t) break;
    targets.push(t);
  }
  // the findings in the order one thread makes them, so that merging and sorting give the same report
  return finish([...parts.flatMap((p) => p.diagnostics), ...targets.flatMap((t) => t.diagnostics)], targets);
}

function finish<T>(
  diagnostics: Diagnostic[],
  targets: T[],
): { valid: boolean; diagnostics: Diagnostic[]; targets: T[] } {
  // a finding about a file as a whole (no key to point at: the file is empty, or does not parse)
  // is at its start, so that every diagnostic about a file reads file:line:col
  const located = diagnostics.map((d) =>
    d.file && d.line === undefined && /\.(ya?ml|json)$/.test(d.file) ? { ...d, line: 1, column: 1 } : d,
  );
  const all = sortDiagnostics(dedupeDiagnostics(located));
  return { valid: !hasErrors(all), diagnostics: all, targets };
}

function unknownName(
  kind: 'environment' | 'device',
  name: string,
  known: readonly string[],
  where: string,
): Diagnostic {
  const guess = closest(name, known);
  return {
    severity: 'error',
    code: `unknown-${kind}`,
    message: `there is no ${kind} "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`,
    file: where.replace(/\/$/, ''),
    hint:
      known.length > 0
        ? `${kind}s in ${where}: ${known.join(', ')}`
        : `create ${where}${name}${kind === 'device' ? '.yaml (gitops device add)' : '/environment.yaml'}`,
    ...(guess ? { suggestion: guess } : {}),
  };
}

/**
 * Layer documents (section files, overrides, device files, templates) are checked on their own
 * too, so that a bad value is caught even where every device overrides it. Their sections are
 * partial overlays: a key required in the merged result may be missing from one layer.
 */
const layerErrors = (e: ErrorObject): boolean =>
  e.keyword !== 'required' || isAtOrBelow(e.instancePath, '/device') || e.instancePath === '';

/** A document's own findings (YAML, version) and those of its schema, each at its place in the file. */
function documentDiagnostics(
  repo: Repository,
  file: string,
  name: SchemaName,
  keep: (error: ErrorObject) => boolean = () => true,
): Diagnostic[] {
  const d = repo.document(file);
  if (!d) return [];
  if (!d.value) return d.diagnostics;
  const errors = repo.schemas!.validate(name, d.value).filter(keep);
  return [
    ...d.diagnostics,
    ...schemaDiagnostics(
      errors,
      (pointer, preferKey) => ({ file, ...(locate(d.positions, pointer, preferKey) ?? {}) }),
      { scope: file },
    ),
  ];
}

/** Checks each document on its own: YAML, version, and the schema of documents that are not merged. */
function checkDocuments(
  repo: Repository,
  envs: readonly string[],
  onlyListedDevices = false,
  otherPart: (file: string) => boolean = () => false,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  // a device file of another device than those listed, when only theirs are checked
  const listed = onlyListedDevices
    ? new Set(envs.flatMap((e) => repo.devices(e).map((d) => deviceFile(e, d))))
    : undefined;
  const unlisted = (file: string): boolean =>
    listed !== undefined && /^environments\/[^/]+\/devices\//.test(file) && !listed.has(file);
  // files that cannot be configuration at all (links, not UTF-8, too large), whatever their name
  for (const file of repo.files.keys()) {
    if (unlisted(file)) continue;
    const inScope = !file.startsWith('environments/') || envs.some((e) => file.startsWith(`environments/${e}/`));
    const problem = inScope ? fileProblem(repo.files.get(file) ?? '') : undefined;
    if (!problem) continue;
    out.push({
      severity: 'error',
      code: problem.code,
      ...describeProblem(file, problem),
      file,
      line: problem.line ?? 1,
      column: problem.column ?? 1,
    });
  }
  const schemaCheck = (file: string, name: SchemaName, keep?: (error: ErrorObject) => boolean): void =>
    void out.push(...documentDiagnostics(repo, file, name, keep));
  for (const file of [...repo.files.keys()].filter((f) => f.startsWith('config/') && isYamlFile(f)).sort()) {
    if (file.startsWith('config/hardware/')) {
      schemaCheck(file, 'hardwareProfile');
      const d = repo.document(file);
      const model = file.slice('config/hardware/'.length).replace(/\.ya?ml$/, '');
      if (d?.value && d.value.model !== model)
        out.push({
          severity: 'error',
          code: 'model-name-mismatch',
          message: `${file} records model "${String(d.value.model)}"; the file name says "${model}"`,
          file,
          ...(locate(d.positions, '/model') ?? {}),
          hint: `set model: ${model}`,
        });
    } else if (file.startsWith(TEMPLATES_DIR + '/')) schemaCheck(file, 'device', layerErrors);
    else schemaCheck(file, 'config', layerErrors);
  }
  // experiments/<name>.yaml: the schema, then what checkExperiments refuses (per device of the environments validated)
  for (const file of experimentFiles(repo.files)) schemaCheck(file, 'experiment');
  out.push(...checkExperiments(repo, envs));
  // tuning/<name>.yaml: its schema, bounds and owners per targeted device, never a field an experiment sets
  const experimentPaths = readExperiments(repo).flatMap((e) =>
    [...new Set(e.variants.flatMap((v) => Object.keys(v.set)))].map((path) => ({
      path,
      experiment: e.name,
      environments: e.environments,
    })),
  );
  out.push(...checkTuning(repo, { experimentPaths }));
  for (const env of envs) {
    const envFile = environmentFile(env);
    if (!repo.files.has(envFile)) {
      out.push(missingEnvironmentFile(env));
    } else {
      schemaCheck(envFile, 'environment');
      const d = repo.document(envFile)!;
      if (d.value && d.value.name !== env)
        out.push({
          severity: 'error',
          code: 'environment-name-mismatch',
          message: `${envFile} is named "${String(d.value.name)}" but lives in environments/${env}/`,
          file: envFile,
          ...(locate(d.positions, '/name') ?? {}),
          hint: `set name: ${env}`,
        });
      if (
        d.value &&
        isObject(d.value.policy) &&
        typeof d.value.tier === 'string' &&
        repo.schemas!.validate('environment', d.value).length === 0
      ) {
        for (const f of checkBaseline({ name: env, tier: d.value.tier, policy: d.value.policy }, envFile))
          out.push(locateInDocument(repo, f, envFile));
      }
    }
    for (const file of [...repo.files.keys()]
      .filter((f) => f.startsWith(`environments/${env}/`) && isYamlFile(f))
      .sort()) {
      if (file === envFile) continue;
      if (unlisted(file)) continue;
      if (file.startsWith(`environments/${env}/devices/`)) {
        if (!otherPart(file)) schemaCheck(file, 'device', layerErrors);
      } else if (file === overridesFile(env)) schemaCheck(file, 'config', layerErrors);
      else if (file === secretsFile(env)) {
        const d = repo.document(file);
        out.push(...(d?.diagnostics ?? []));
        if (d?.value) out.push(...checkSecretsFile(repo, env, ownDevices(repo, env, otherPart)));
      } else out.push(...(repo.document(file)?.diagnostics ?? []));
    }
    out.push(...checkNarrowings(repo, env, ownDevices(repo, env, otherPart)));
    out.push(...checkRollout(repo, env, ownDevices(repo, env, otherPart)));
  }
  return out;
}

function locateInDocument(repo: Repository, f: Finding, file: string): Diagnostic {
  const d = repo.document(file);
  const pos = d ? locate(d.positions, f.pointer, true) : undefined;
  return {
    severity: f.severity,
    code: f.code,
    message: f.message,
    file,
    ...(pos ?? {}),
    path: pointerToDotted(f.pointer),
    ...(f.hint ? { hint: f.hint } : {}),
    ...(f.suggestion ? { suggestion: f.suggestion } : {}),
  };
}

/** Validates one environment (and device): render, schema, rules, policy, hardware. */
export function validateTarget(repo: Repository, target: RenderTarget, options: ValidateOptions = {}): TargetReport {
  const schemas = repo.schemas!;
  const result = render(repo, target, options);
  const diagnostics: Diagnostic[] = [...result.diagnostics];
  const tag = (d: Diagnostic): Diagnostic => ({
    ...d,
    environment: target.environment,
    ...(target.device !== undefined ? { device: target.device } : {}),
  });
  const fromFinding = (f: Finding): Diagnostic => {
    if (f.file) return locateInDocument(repo, f, f.file);
    const at = result.locate(f.pointer);
    return {
      severity: f.severity,
      code: f.code,
      message: f.message,
      ...(at ?? {}),
      path: pointerToDotted(f.pointer),
      ...(f.hint ? { hint: f.hint } : {}),
      ...(f.suggestion ? { suggestion: f.suggestion } : {}),
    };
  };

  for (const { pointer, entry } of plaintextSecrets(repo, result)) {
    const d = repo.document(entry.file);
    const at = d ? locate(d.positions, pointer) : undefined;
    diagnostics.push({
      severity: 'error',
      code: 'plaintext-secret',
      message: `${pointerToDotted(pointer)} is a secret but has a plaintext value in ${entry.file}`,
      file: entry.file,
      ...(at ?? {}),
      path: pointerToDotted(pointer),
      hint: `remove it here and store it encrypted: gitops secrets set environments/${target.environment}/secrets.sops.yaml ${pointerToDotted(pointer)} -`,
    });
  }

  // Without keys (CI) secret values are placeholders: their type is checked where they are decrypted.
  const schemaErrors = schemas.validate('config', result.config).filter((e) => e.data !== REDACTED);
  diagnostics.push(...schemaDiagnostics(schemaErrors, result.locate));
  if (schemaErrors.length === 0 && !hasErrors(result.diagnostics)) {
    const config = result.config as unknown as Config;
    const hardware = result.device ? hardwareProfileFor(repo, result, options) : undefined;
    const subject = result.device && {
      environment: target.environment,
      device: result.device.id,
      model: result.device.model,
    };
    // what a configuration of this target must pass: its signed one, and the one at each step of its ladder
    const check = (c: Config): { rules: Finding[]; policy: Finding[]; hardware: Finding[] } => ({
      rules: checkRules(c, { environment: target.environment, sections: schemas.sections() }),
      policy: result.environment ? checkPolicy(c, result.environment) : [],
      hardware: hardware?.profile && subject ? checkHardware(c, hardware.profile, subject) : [],
    });
    const signed = check(config);
    diagnostics.push(...signed.rules.map(fromFinding), ...signed.policy.map(fromFinding));
    diagnostics.push(...checkSignedValues(repo, target, result.config).map(fromFinding));
    if (hardware) diagnostics.push(...hardware.diagnostics, ...signed.hardware.map(fromFinding));
    const all = (f: ReturnType<typeof check>): Finding[] => [...f.rules, ...f.policy, ...f.hardware];
    diagnostics.push(...governorDiagnostics(repo, target, result, (c) => all(check(c)), all(signed)).map(fromFinding));
  }
  return { target, result, diagnostics: diagnostics.map(tag) };
}

/**
 * The load governor's rules for this target (agent/core/governor/check.ts) and, where it is on,
 * the configuration at every step of its ladder: the schema, then `check` (rules, policy, hardware),
 * against what `check` found in the signed configuration.
 */
function governorDiagnostics(
  repo: Repository,
  target: RenderTarget,
  result: RenderResult,
  check: (config: Config) => Finding[],
  signed: readonly Finding[],
): Finding[] {
  const table = targetTunables(repo, target);
  if (!table || !repo.schemas) return [];
  const schemas = repo.schemas;
  const origin = (pointer: string): string | undefined => {
    const at = result.locate(pointer);
    return at ? `${at.file}${at.line !== undefined ? `:${at.line}` : ''}` : undefined;
  };
  const findings = checkGovernor(result.config, { table, schemas, origin });
  const stepFindings = (c: JsonObject): Finding[] => {
    const errors = schemas.validate('config', c).filter((e) => e.data !== REDACTED);
    if (errors.length > 0)
      return errors.map((e) => ({
        severity: 'error',
        code: `schema-${e.keyword}`,
        pointer: e.instancePath,
        message: `${pointerToDotted(e.instancePath) || 'the configuration'} ${e.message ?? 'is invalid'}`,
      }));
    return check(c as unknown as Config);
  };
  return [...findings, ...checkLadderSteps(result.config, stepFindings, signed)];
}

/** The hardware profile a device is validated against (a live probe's, or its model's recorded one), or why there is none. */
function hardwareProfileFor(
  repo: Repository,
  result: RenderResult,
  options: ValidateOptions,
): { profile?: HardwareProfile; diagnostics: Diagnostic[] } {
  const device = result.device!;
  let profile = options.hardwareProfile?.profile;
  if (!profile) {
    const file = hardwareProfileFile(device.model);
    const d = repo.document(file);
    if (!d) {
      const models = listHardwareModels(repo.files);
      const guess = closest(device.model, models);
      const devFile = deviceFile(result.target.environment, device.id);
      const pos = repo.document(devFile) ? locate(repo.document(devFile)!.positions, '/device/model') : undefined;
      return {
        diagnostics: [
          {
            severity: 'error',
            code: 'unknown-model',
            message: `device ${device.id} is model "${device.model}", which has no hardware profile${guess ? `. Did you mean "${guess}"?` : ''}`,
            file: devFile,
            ...(pos ?? {}),
            path: 'device.model',
            hint: `models with profiles: ${models.join(', ') || '(none)'}; record a new one with gitops hardware capture --model ${device.model}`,
            ...(guess ? { suggestion: guess } : {}),
          },
        ],
      };
    }
    // a profile that does not pass its schema is reported by the document check
    if (!d.value || repo.schemas!.validate('hardwareProfile', d.value).length > 0) return { diagnostics: [] };
    profile = d.value as unknown as HardwareProfile;
  }
  return { profile, diagnostics: [] };
}

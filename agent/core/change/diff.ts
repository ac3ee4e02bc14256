// The semantic diff of a change: every environment and device rendered at two revisions, and
// per target the configuration paths added, removed or changed (old -> new, and the file that
// caused it); secrets at key level from their ciphertexts (no key needed); the validation
// result at the head; and the risk of the change.

import type { Diagnostic } from '../validate/diagnostics.js';
import { provenanceFor } from '../config/merge.js';
import { compareText, isObject, leafChanges } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';
import { environmentFile, SCHEMA_DIR, secretsFile } from '../repo/layout.js';
import type { RepoFiles } from '../repo/layout.js';
import { openRepository } from '../repo/repository.js';
import type { Repository } from '../repo/repository.js';
import type { CompiledSchemaCache } from '../schema/schema-set.js';
import { redactSecrets, render, renderInputs } from '../config/render.js';
import type { RenderResult } from '../config/render.js';
import { secretChanges } from '../sops/edit.js';
import type { SecretChange } from '../sops/edit.js';
import { readEncrypted } from '../sops/sops-file.js';
import { validateOpened } from '../validate/validate.js';
import type { ValidateOptions } from '../validate/validate.js';

export interface PathChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  old?: Json;
  new?: Json;
  /** The file (and line) that set the new value, or that held the removed one. */
  file?: string;
  line?: number;
}

export interface TargetDiff {
  environment: string;
  device: string | null;
  status: 'added' | 'removed' | 'changed';
  tier: string;
  changes: PathChange[];
}

export interface EnvironmentDiff {
  environment: string;
  tier: string;
  secrets: SecretChange[];
  policy: PathChange[];
}

export interface Risk {
  production: boolean;
  sensitive: string[];
  devicesAffected: number;
  level: 'low' | 'medium' | 'high';
}

export interface ChangeReport {
  targets: TargetDiff[];
  environments: EnvironmentDiff[];
  /** Whether the head is valid: as a whole, or where `checked` says, the devices the change touches. */
  valid: boolean;
  diagnostics: Diagnostic[];
  /** Present when only the changed device files were validated (every change is to a device file). */
  checked?: { devices: string[] };
  risk: Risk;
}

/** Paths whose change a reviewer must look at twice. */
const SENSITIVE = [
  /^web_interface\.(auth|tls|listen_address)/,
  /^policy\./,
  /^trust/,
  /^components\.[^.]+\.reload\.(command|pid_file|url)/,
  /^logging\.level$/,
];

interface Rendered {
  result: RenderResult;
  config: JsonObject;
}

interface TargetKey {
  key: string;
  env: string;
  device: string | null;
}

/** The targets of one side (each environment's devices, or the environment itself when it has none), unrendered. */
function targetKeys(
  repo: Repository,
  envs: readonly string[] | undefined,
  devices: readonly string[] | undefined,
): TargetKey[] {
  const out: TargetKey[] = [];
  if (!repo.schemas) return out;
  for (const env of repo.environments()) {
    if (envs?.length && !envs.includes(env)) continue;
    const list = repo.devices(env);
    for (const device of list.length > 0 ? list : [null]) {
      if (devices?.length && (device === null || !devices.includes(device))) continue;
      out.push({ key: `${env}/${device ?? ''}`, env, device });
    }
  }
  return out;
}

function renderTarget(repo: Repository, t: TargetKey): Rendered {
  const result = render(repo, t.device === null ? { environment: t.env } : { environment: t.env, device: t.device });
  return { result, config: redactSecrets(repo, result.config) };
}

/** The paths whose text differs between the two sides (added and removed files included). */
function changedFiles(base: RepoFiles, head: RepoFiles): Set<string> {
  const changed = new Set<string>();
  for (const [file, text] of head) if (base.get(file) !== text) changed.add(file);
  for (const file of base.keys()) if (!head.has(file)) changed.add(file);
  return changed;
}

function changesBetween(
  before: JsonObject | undefined,
  after: JsonObject | undefined,
  result: RenderResult | undefined,
  beforeResult: RenderResult | undefined,
): PathChange[] {
  const origin = (r: RenderResult | undefined, pointer: string): { file?: string; line?: number } => {
    const hit = r ? provenanceFor(r.provenance, pointer) : undefined;
    return hit ? { file: hit.entry.file, ...(hit.entry.line !== undefined ? { line: hit.entry.line } : {}) } : {};
  };
  return leafChanges(before ?? {}, after ?? {}).map(({ pointer, ...c }) => ({
    ...c,
    ...origin(c.change === 'removed' ? beforeResult : result, pointer),
  }));
}

function secretTrees(files: RepoFiles, env: string): Parameters<typeof secretChanges>[0] {
  const text = files.get(secretsFile(env));
  if (text === undefined) return undefined;
  try {
    return readEncrypted(Buffer.from(text, 'utf8'), secretsFile(env)).branches;
  } catch {
    return undefined;
  }
}

function policyOf(repo: Repository, env: string): JsonObject {
  const d = repo.document(environmentFile(env));
  return d?.value && isObject(d.value)
    ? { policy: isObject(d.value.policy) ? d.value.policy : {}, tier: (d.value.tier as Json) ?? null }
    : {};
}

/** A device file of an environment: its device in the first group. */
const DEVICE_FILE = /^environments\/[^/]+\/devices\/([^/]+)\.ya?ml$/;

/**
 * What the head's validation covers for a diff: everything, unless every file the change touches
 * is a device file and the head still has one of them. Then those devices alone, with the checks
 * of the repository and of their environments over them (as `gitops validate --device`): what a
 * device file sets reaches no other target, and no check of one device reads another's file.
 * `whole`: everything whatever the change.
 */
export function diffValidation(
  baseFiles: RepoFiles,
  headFiles: RepoFiles,
  scope: { environments?: readonly string[]; devices?: readonly string[]; whole?: boolean } = {},
): ValidateOptions {
  const all: ValidateOptions = {
    ...(scope.environments ? { environments: scope.environments } : {}),
    ...(scope.devices ? { devices: scope.devices } : {}),
  };
  if (scope.devices?.length || scope.whole) return all;
  const devices = new Set<string>();
  for (const file of changedFiles(baseFiles, headFiles)) {
    const device = DEVICE_FILE.exec(file)?.[1];
    if (device === undefined) return all;
    if (headFiles.has(file)) devices.add(device);
  }
  return devices.size > 0 ? { ...all, devices: [...devices].sort(), onlyNamedDevices: true } : all;
}

/** Which devices `options` limits a validation to (diffValidation), when it does. */
export const validatedDevices = (options: ValidateOptions): { checked: { devices: string[] } } | undefined =>
  options.onlyNamedDevices && options.devices?.length ? { checked: { devices: [...options.devices] } } : undefined;

function validated(
  repo: Repository,
  options: ValidateOptions,
): { valid: boolean; diagnostics: Diagnostic[]; checked?: { devices: string[] } } {
  const { valid, diagnostics } = validateOpened(repo, options);
  return { valid, diagnostics, ...validatedDevices(options) };
}

/** The two revisions of a diff, opened; a file the change did not touch is parsed once, for both. */
export interface DiffSides {
  base: Repository;
  head: Repository;
  /** The paths whose text differs (added and removed files included). */
  changed: ReadonlySet<string>;
}

export function openSides(baseFiles: RepoFiles, headFiles: RepoFiles, schemaCache?: CompiledSchemaCache): DiffSides {
  const head = openRepository(headFiles, schemaCache);
  const opened = openRepository(baseFiles, schemaCache);
  // parsed documents are never changed: the base's unchanged ones are the head's
  const same = (file: string): boolean => baseFiles.has(file) && baseFiles.get(file) === headFiles.get(file);
  const base = { ...opened, document: (file: string) => (same(file) ? head : opened).document(file) };
  return { base, head, changed: changedFiles(baseFiles, headFiles) };
}

export interface DiffScope {
  environments?: readonly string[];
  devices?: readonly string[];
  /** Render every target on both sides, changed inputs or not (the reference the pruned path is tested against). */
  everyTarget?: boolean;
}

/**
 * The targets whose rendered configuration differs, in the order of their keys; with `part`, of
 * the targets whose place in that order is `index` modulo `count` (a pool's worker: the parts'
 * targets, sorted by sortTargetDiffs, are the whole's).
 */
export function diffTargets(
  { base, head, changed }: DiffSides,
  options: DiffScope = {},
  part?: { index: number; count: number },
): TargetDiff[] {
  // Target by target, so that neither revision of the fleet is held whole; a target whose inputs
  // did not change renders the same on both sides and is not rendered at all.
  const everything = options.everyTarget === true || [...changed].some((f) => f.startsWith(`${SCHEMA_DIR}/`));
  const touched = (repo: Repository, t: TargetKey): boolean =>
    renderInputs(repo, t.device === null ? { environment: t.env } : { environment: t.env, device: t.device }).some(
      (f) => changed.has(f),
    );
  const baseKeys = new Map(targetKeys(base, options.environments, options.devices).map((t) => [t.key, t]));
  const headKeys = new Map(targetKeys(head, options.environments, options.devices).map((t) => [t.key, t]));
  const targets: TargetDiff[] = [];
  const keys = [...new Set([...baseKeys.keys(), ...headKeys.keys()])].sort();
  keys.forEach((key, i) => {
    if (part && i % part.count !== part.index) return;
    const bk = baseKeys.get(key);
    const hk = headKeys.get(key);
    if (bk && hk && !everything && !touched(base, bk) && !touched(head, hk)) return;
    const b = bk && renderTarget(base, bk);
    const h = hk && renderTarget(head, hk);
    const changes = changesBetween(b?.config, h?.config, h?.result, b?.result);
    if (changes.length === 0) return;
    const { env, device } = (hk ?? bk)!;
    targets.push({
      environment: env,
      device,
      status: !b ? 'added' : !h ? 'removed' : 'changed',
      tier: tierOf({ base, head }, env),
      changes,
    });
  });
  return targets;
}

/** The parts' target diffs in the order of the whole (diffTargets). */
export const sortTargetDiffs = (targets: TargetDiff[]): TargetDiff[] =>
  targets.sort((a, b) => compareText(`${a.environment}/${a.device ?? ''}`, `${b.environment}/${b.device ?? ''}`));

const tierOf = ({ base, head }: Pick<DiffSides, 'base' | 'head'>, env: string): string =>
  String((policyOf(head, env).tier ?? policyOf(base, env).tier) || 'development');

export function diffRepositories(
  baseFiles: RepoFiles,
  headFiles: RepoFiles,
  options: DiffScope & {
    schemaCache?: CompiledSchemaCache;
    /**
     * The head's validation when the caller has it (a worker pool: validateInPool), with what it
     * covered when that was not the whole (validatedDevices); else validated here as diffValidation says.
     */
    validation?: { valid: boolean; diagnostics: Diagnostic[]; checked?: { devices: string[] } };
    /** The target diffs when the caller has them (a worker pool: pooledValidation); else diffed here. */
    targets?: TargetDiff[];
    /** Validate the whole head whatever the change (`gitops ci pr`), not only the devices it touches. */
    validateWhole?: boolean;
  } = {},
): ChangeReport {
  const sides = openSides(baseFiles, headFiles, options.schemaCache);
  const { base, head } = sides;
  const targets = options.targets ?? diffTargets(sides, options);
  const environments: EnvironmentDiff[] = [];
  const envNames = [...new Set([...base.environments(), ...head.environments()])]
    .filter((e) => !options.environments?.length || options.environments.includes(e))
    .sort();
  for (const env of envNames) {
    const secrets = secretChanges(secretTrees(baseFiles, env), secretTrees(headFiles, env));
    const policy = changesBetween(policyOf(base, env), policyOf(head, env), undefined, undefined).map((c) => ({
      ...c,
      file: environmentFile(env),
    }));
    if (secrets.length > 0 || policy.length > 0)
      environments.push({ environment: env, tier: tierOf(sides, env), secrets, policy });
  }
  const report =
    options.validation ??
    validated(
      head,
      diffValidation(baseFiles, headFiles, options.validateWhole ? { ...options, whole: true } : options),
    );
  const sensitive = [
    ...new Set([
      ...targets.flatMap((t) => t.changes.map((c) => c.path).filter((p) => SENSITIVE.some((re) => re.test(p)))),
      ...environments.flatMap((e) => [...e.policy.map((c) => c.path), ...e.secrets.map((s) => `secret ${s.path}`)]),
    ]),
  ].sort();
  const production = targets.some((t) => t.tier === 'production') || environments.some((e) => e.tier === 'production');
  const devicesAffected = new Set(targets.filter((t) => t.device).map((t) => `${t.environment}/${t.device}`)).size;
  const level =
    !report.valid || (production && sensitive.length > 0)
      ? 'high'
      : production || sensitive.length > 0
        ? 'medium'
        : 'low';
  return {
    targets,
    environments,
    valid: report.valid,
    diagnostics: report.diagnostics.filter((d) => d.severity === 'error'),
    ...(report.checked ? { checked: report.checked } : {}),
    risk: { production, sensitive, devicesAffected, level },
  };
}

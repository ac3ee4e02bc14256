// The rollout an environment declares (environment.yaml `rollout:`, schemas/environment.schema.json),
// read from the repository, and what `gitops validate` refuses about it beyond the schema: shares
// that do not add up, wave names used twice or naming no wave, devices whose cohort names no wave.

import type { Diagnostic } from '../validate/diagnostics.js';
import { closest } from '../format/suggest.js';
import { isObject } from '../json/value.js';
import type { JsonObject } from '../json/value.js';
import { deviceFile, environmentFile } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import { locate } from '../repo/yaml-source.js';
import { planRollout } from './waves.js';
import type { GateLimits, Rollout, RolloutPlan, Wave } from './waves.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds of a bake as written: a number of seconds, or `30m`, `1h30m`, ... (the schema's pattern). */
export function bakeSeconds(value: unknown): number {
  if (typeof value === 'number') return value;
  const text = String(value);
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) total += Number(n) * UNIT_SECONDS[unit!]!;
  return total;
}

/** A device's explicit cohort, as its file writes it. */
export function cohortOf(repo: Repository, env: string, device: string): string | undefined {
  const value = repo.document(deviceFile(env, device))?.value;
  const meta = value && isObject(value.device) ? value.device : undefined;
  return typeof meta?.cohort === 'string' ? meta.cohort : undefined;
}

export type RolloutRead =
  | { kind: 'none' }
  | { kind: 'invalid' }
  | { kind: 'declared'; rollout: Rollout; raw: JsonObject; problems: Diagnostic[] };

/**
 * The environment's rollout: none declared, invalid (its file or rollout does not pass the schema,
 * which reports it), or declared with the problems found here (shares, names).
 */
export function readRollout(repo: Repository, env: string): RolloutRead {
  const file = environmentFile(env);
  const doc = repo.document(file);
  if (!doc?.value || !repo.schemas) return { kind: 'invalid' };
  if (doc.value.rollout === undefined) return { kind: 'none' };
  if (repo.schemas.validate('environment', doc.value).some((e) => e.instancePath.startsWith('/rollout')))
    return { kind: 'invalid' };
  const raw = doc.value.rollout as JsonObject;
  const at = (pointer: string, preferKey = false): Pick<Diagnostic, 'file' | 'line' | 'column'> => ({
    file,
    ...(locate(doc.positions, pointer, preferKey) ?? {}),
  });
  const problems: Diagnostic[] = [];
  const written = (raw.waves as JsonObject[]).map((w) => ({
    name: String(w.name),
    share: typeof w.share === 'number' ? w.share : undefined,
    bake: bakeSeconds(w.bake),
  }));
  const names = written.map((w) => w.name);

  const seen = new Set<string>();
  written.forEach((w, i) => {
    if (seen.has(w.name))
      problems.push({
        severity: 'error',
        code: 'rollout-duplicate-wave',
        message: `wave "${w.name}" is declared twice in the rollout of ${env}`,
        ...at(`/rollout/waves/${i}/name`),
        path: `rollout.waves.${i}.name`,
        hint: 'give every wave its own name',
      });
    seen.add(w.name);
  });

  const last = written.length - 1;
  let sum = 0;
  let over = false;
  written.forEach((w, i) => {
    if (i < last && w.share === undefined)
      problems.push({
        severity: 'error',
        code: 'rollout-share-missing',
        message: `wave "${w.name}" of ${env} has no share; only the last wave takes the rest`,
        ...at(`/rollout/waves/${i}`, true),
        path: `rollout.waves.${i}`,
        hint: `give it a share in percent of the devices, e.g. share: ${i === 0 ? 2 : 20}`,
      });
    if (i < last && w.share !== undefined) {
      sum += w.share;
      if (sum > 100 && !over) {
        over = true;
        problems.push({
          severity: 'error',
          code: 'rollout-shares-over',
          message: `the shares of ${env}'s waves up to "${w.name}" add up to ${round(sum)} %, more than 100 %`,
          ...at(`/rollout/waves/${i}/share`),
          path: `rollout.waves.${i}.share`,
          hint: 'the shares of the waves before the last add up to at most 100; the last wave takes the rest',
        });
      }
    }
  });
  const lastShare = written[last]!.share;
  if (!over && lastShare !== undefined && Math.abs(sum + lastShare - 100) > 1e-9)
    problems.push({
      severity: 'error',
      code: 'rollout-shares-sum',
      message: `the shares of ${env}'s waves add up to ${round(sum + lastShare)} %, not 100 %`,
      ...at(`/rollout/waves/${last}/share`),
      path: `rollout.waves.${last}.share`,
      hint: `set the last wave's share to ${round(100 - sum)}, or remove it: the last wave takes the rest`,
    });
  else if (!over && written.length > 1 && Math.abs(sum - 100) <= 1e-9 && lastShare === undefined)
    problems.push({
      severity: 'warning',
      code: 'rollout-empty-wave',
      message: `the waves before "${written[last]!.name}" take 100 % of ${env}'s devices: it gets only devices whose cohort names it`,
      ...at(`/rollout/waves/${last}`, true),
      path: `rollout.waves.${last}`,
      hint: 'lower a share so that the last wave takes the rest, or remove the last wave',
    });

  const gates = isObject(raw.gates) ? raw.gates : {};
  const base: GateLimits = {
    maxRolledBack: typeof gates.max_rolled_back === 'number' ? gates.max_rolled_back : 0,
    maxRefusing: typeof gates.max_refusing === 'number' ? gates.max_refusing : 0,
  };
  const perWave = isObject(gates.waves) ? gates.waves : {};
  for (const key of Object.keys(perWave))
    if (!names.includes(key)) {
      const guess = closest(key, names);
      problems.push({
        severity: 'error',
        code: 'rollout-unknown-wave',
        message: `gates.waves names wave "${key}", which ${env}'s rollout does not have${guess ? `. Did you mean "${guess}"?` : ''}`,
        ...at(`/rollout/gates/waves/${key}`, true),
        path: `rollout.gates.waves.${key}`,
        hint: `waves of ${env}: ${names.join(', ')}`,
        ...(guess ? { suggestion: guess } : {}),
      });
    }
  const limits = (name: string): GateLimits => {
    const own = perWave[name];
    if (!isObject(own)) return base;
    return {
      maxRolledBack: typeof own.max_rolled_back === 'number' ? own.max_rolled_back : base.maxRolledBack,
      maxRefusing: typeof own.max_refusing === 'number' ? own.max_refusing : base.maxRefusing,
    };
  };

  const waves: Wave[] = [];
  let used = 0;
  written.forEach((w, i) => {
    if (waves.some((x) => x.name === w.name)) return; // a duplicate is reported above
    const share = i === last ? Math.max(0, 100 - used) : Math.min(w.share ?? 0, Math.max(0, 100 - used));
    used += share;
    waves.push({ name: w.name, share, bakeSeconds: w.bake });
  });
  const rollout: Rollout = {
    seed: String(raw.seed),
    waves,
    gates: Object.fromEntries(waves.map((w) => [w.name, limits(w.name)])),
  };
  return { kind: 'declared', rollout, raw, problems };
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;

/**
 * The rollout's diagnostics for `gitops validate`: its own problems (unless `devicesOnly`), then
 * each of `devices` (all of the environment's by default) whose cohort names no wave.
 */
export function checkRollout(
  repo: Repository,
  env: string,
  devices: readonly string[] = repo.devices(env),
  devicesOnly = false,
): Diagnostic[] {
  const read = readRollout(repo, env);
  if (read.kind !== 'declared') return [];
  const out = devicesOnly ? [] : [...read.problems];
  const names = read.rollout.waves.map((w) => w.name);
  for (const device of devices) {
    const cohort = cohortOf(repo, env, device);
    if (cohort === undefined || names.includes(cohort)) continue;
    const file = deviceFile(env, device);
    const guess = closest(cohort, names);
    out.push({
      severity: 'error',
      code: 'rollout-unknown-cohort',
      message: `device ${device} has cohort "${cohort}", which names no wave of ${env}'s rollout${guess ? `. Did you mean "${guess}"?` : ''}`,
      file,
      ...(locate(repo.document(file)!.positions, '/device/cohort') ?? {}),
      path: 'device.cohort',
      hint: `waves of ${env}: ${names.join(', ')}; or remove cohort to let the device's bucket pick its wave`,
      ...(guess ? { suggestion: guess } : {}),
    });
  }
  return out;
}

/** The plan of an environment's rollout from the repository (its devices with their cohorts), when the rollout is readable. */
export function environmentPlan(repo: Repository, env: string): { read: RolloutRead; plan: RolloutPlan | undefined } {
  const read = readRollout(repo, env);
  if (read.kind === 'invalid') return { read, plan: undefined };
  const devices = repo.devices(env).map((id) => ({ id, cohort: cohortOf(repo, env, id) }));
  return { read, plan: planRollout(env, read.kind === 'declared' ? read.rollout : undefined, devices) };
}

// Preparing a candidate: this device's configuration rendered from the candidate's files, its
// secrets decrypted and everything validated against the hardware, with the same entry point as
// `gitops validate` (every document of the environment and the base is checked, not only what
// this device reads). It is the heaviest part of a cycle (the parser, the validators, the
// decrypter), so the agent runs it in its cycle worker (cycle-worker.ts) and keeps only the
// answer; an offline restore and a process of many agents (the fleet simulation) run it here.

import { redactSecrets } from '../core/config/render.js';
import type { EnvironmentInfo } from '../core/config/render.js';
import type { HardwareProfile } from '../core/config/types.js';
import { GitopsError } from '../core/errors.js';
import { deviceExperiments } from '../core/experiments/device.js';
import { formatText } from '../core/format/diagnostics.js';
import { isObject } from '../core/json/value.js';
import type { JsonObject } from '../core/json/value.js';
import { environmentFile } from '../core/repo/layout.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { openRepository } from '../core/repo/repository.js';
import type { CompiledSchemaCache } from '../core/schema/schema-set.js';
import type { Identities } from '../core/sops/keys.js';
import { targetTunables } from '../core/tunables/narrowing.js';
import { deviceTunings } from '../core/tuning/device.js';
import { policyOf } from '../core/validate/policy.js';
import { validateFor } from '../core/validate/validate.js';
import type { ValidationReport } from '../core/validate/validate.js';
import { decryptEnvironmentSecrets } from '../io/environment-secrets.js';
import type { Redactor } from '../io/redactor.js';
import { refusal } from './refusal.js';
import { releaseRuntime } from './leases.js';
import type { ReleaseRuntime } from './releases.js';

export interface Prepared {
  config: JsonObject;
  redacted: JsonObject;
  runtime: ReleaseRuntime;
  /** The steps timed where it was prepared (another thread), for the journal. */
  steps?: Record<string, number>;
}

/** Times a named step of the cycle (decrypt, probe, validate) into the journal's record. */
export type Step = <T>(name: string, fn: () => Promise<T> | T) => Promise<T>;

/** What a cycle calls to prepare a candidate's files; throws a refusal (a GitopsError). */
export type Preparer = (files: RepoFiles, step: Step) => Promise<Prepared>;

export interface PrepareDeps {
  environment: string;
  device: string;
  identities: Identities;
  /** Decrypted secrets are registered with it before anything can print them. */
  redactor: Redactor;
  hardwareProfile: () => Promise<HardwareProfile>;
  watchMode?: boolean;
  /** The process environment, for the x-env overrides the policy allows. */
  env: Readonly<Record<string, string | undefined>>;
  schemaCache: CompiledSchemaCache;
}

export async function prepareRelease(files: RepoFiles, d: PrepareDeps, step: Step): Promise<Prepared> {
  const { environment, device } = d;
  const repo = openRepository(files, d.schemaCache);
  const scope = { env: d.env };
  const invalid = (report: ValidationReport): GitopsError => {
    const errors = report.diagnostics.filter((x) => x.severity === 'error');
    return refusal(
      errors.some((x) => x.code.startsWith('hardware')) ? 'hardware' : 'invalid',
      `the configuration is not valid for ${device}:\n${formatText(errors.slice(0, 5))}`,
      errors,
    );
  };
  // watch mode's policy is checked before anything is decrypted, and again once validated; an
  // environment file that does not parse is no permission: validation refuses it where it is wrong
  const envDoc = repo.document(environmentFile(environment))?.value;
  const early = envDoc && {
    name: environment,
    tier: String(envDoc.tier),
    policy: isObject(envDoc.policy) ? envDoc.policy : {},
  };
  const checkWatchMode = (env: EnvironmentInfo | undefined): void => {
    if (d.watchMode === true && policyOf(env).allow_watch_mode !== true)
      throw refusal('policy', `the ${environment} policy does not allow watch mode (policy.allow_watch_mode)`);
  };
  if (early) checkWatchMode(early);
  const secrets = await step('decrypt', async () => {
    try {
      return await decryptEnvironmentSecrets(files, environment, d.identities, d.redactor);
    } catch (e) {
      // a secrets file that does not even parse is refused as CI refuses it
      const report = validateFor(repo, { environment, device }, scope);
      if (!report.valid) throw invalid(report);
      throw refusal('secrets', e instanceof GitopsError ? e.message : String(e));
    }
  });
  const profile = await step('probe', () => d.hardwareProfile());
  const report = await step('validate', () =>
    validateFor(
      repo,
      { environment, device },
      { ...scope, ...(secrets ? { secrets } : {}), hardwareProfile: { profile, source: 'this device' } },
    ),
  );
  if (!report.valid) throw invalid(report);
  const result = report.targets[0]!.result;
  checkWatchMode(result.environment);
  const experiments = deviceExperiments(repo, environment, device);
  const tuning = deviceTunings(repo, environment, device, result.config);
  const context = {
    environment: result.environment!,
    device: result.device,
    specs: targetTunables(repo, { environment, device })?.concrete(result.config) ?? [],
    ...(experiments.length > 0 ? { experiments } : {}),
    ...(tuning.length > 0 ? { tuning } : {}),
  };
  return {
    config: result.config,
    redacted: redactSecrets(repo, result.config),
    runtime: releaseRuntime(context, files),
  };
}

// The checks of a configuration with runtime layers in place (DESIGN.md section 9): the same
// schema, rules, policy and hardware checks as for a signed commit, run on the device before a
// lease change is delivered. The signed configuration has passed them already; what a lease may
// still break is a rule across fields (fps against the camera's modes) or the hardware.

import type { Config, HardwareProfile } from '../config/types.js';
import type { DeviceInfo, EnvironmentInfo } from '../config/render.js';
import { checkHardware } from '../hardware/check.js';
import { pointerToDotted } from '../json/pointer.js';
import type { JsonObject } from '../json/value.js';
import type { SchemaSet } from '../schema/schema-set.js';
import { schemaDiagnostics } from '../schema/diagnostics.js';
import type { TunableSpec } from '../tunables/spec.js';
import type { DeviceExperiment } from '../experiments/device.js';
import type { DeviceTuning } from '../tuning/device.js';
import type { Diagnostic } from './diagnostics.js';
import { checkPolicy } from './policy.js';
import { checkRules } from './rules.js';

/** What a release keeps to check (and explain) its runtime layers without its repository. */
export interface RuntimeContext {
  environment: EnvironmentInfo;
  device: DeviceInfo | undefined;
  /** The tunable fields of the rendered configuration, with their narrowed specs. */
  specs: TunableSpec[];
  /** The device's experiments in this commit (absent when the environment runs none). */
  experiments?: DeviceExperiment[];
  /** The tuning runs that target the device in this commit, their spaces resolved here (absent when none). */
  tuning?: DeviceTuning[];
}

/** Everything wrong with `config`, a signed configuration with leases in place; empty when it may be delivered. */
export function checkEffective(
  schemas: SchemaSet,
  config: JsonObject,
  ctx: RuntimeContext,
  profile: HardwareProfile | undefined,
): Diagnostic[] {
  const schemaErrors = schemas.validate('config', config);
  if (schemaErrors.length > 0) return schemaDiagnostics(schemaErrors, () => undefined);
  const typed = config as unknown as Config;
  const findings = [
    ...checkRules(typed, { environment: ctx.environment.name, sections: schemas.sections() }),
    ...checkPolicy(typed, ctx.environment),
    ...(profile && ctx.device
      ? checkHardware(typed, profile, {
          environment: ctx.environment.name,
          device: ctx.device.id,
          model: ctx.device.model,
        })
      : []),
  ];
  return findings
    .filter((f) => f.severity === 'error')
    .map((f) => ({
      severity: f.severity,
      code: f.code,
      message: f.message,
      path: pointerToDotted(f.pointer),
      ...(f.hint ? { hint: f.hint } : {}),
    }));
}

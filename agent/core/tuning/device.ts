// The tuning runs a device takes part in, computed from the signed commit when a release is
// prepared (agent/daemon/agent.ts) and kept in the release's runtime context next to its
// experiments: every tuning file that targets the device (one of its hardware models, in one of
// its environments) with the search space resolved against the device's own narrowed specs and
// its governor's ladder (values a step would give back are held back). A file whose space does
// not resolve here is left out (CI refuses it: checkTuning). Pure.

import type { Repository } from '../repo/repository.js';
import { rulesOfConfig } from '../governor/rules.js';
import type { JsonObject } from '../json/value.js';
import { targetTunables } from '../tunables/narrowing.js';
import type { Space } from './space.js';
import {
  governorRulesOf,
  listTuningFiles,
  parseTuningFile,
  tuningValidator,
  resolveSpace,
  tuningTargets,
} from './spec.js';
import type { Tuning } from './types.js';

export interface DeviceTuning {
  tuning: Tuning;
  /** The device's hardware model (a label of its trial series). */
  model: string;
  space: Space;
}

/** With `signed` (the device's rendered configuration), its governor's ladder limits the spaces (resolveSpace). */
export function deviceTunings(
  repo: Repository,
  environment: string,
  device: string,
  signed?: JsonObject,
): DeviceTuning[] {
  const out: DeviceTuning[] = [];
  const validate = tuningValidator(repo);
  for (const file of listTuningFiles(repo.files)) {
    const tuning = parseTuningFile(file, repo.files.get(file)!, validate).tuning;
    if (!tuning) continue;
    const target = tuningTargets(repo, tuning).find((t) => t.environment === environment && t.device === device);
    if (!target) continue;
    const table = targetTunables(repo, { environment, device });
    if (!table) continue;
    const governor = signed ? rulesOfConfig(signed) : governorRulesOf(repo, { environment, device });
    const { space, problems } = resolveSpace(tuning, (p) => table.at(p), governor);
    if (space && problems.length === 0) out.push({ tuning, model: target.model, space });
  }
  return out.sort((a, b) => (a.tuning.name < b.tuning.name ? -1 : a.tuning.name > b.tuning.name ? 1 : 0));
}

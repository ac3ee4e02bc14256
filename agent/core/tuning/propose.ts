// A tuning run's finding as a change (issue 16, `gitops tune propose NAME --model M`): the pooled
// best candidate of one hardware model (or one a person names) written into that model's
// configuration. The repository has no per-model configuration layer (DESIGN.md section 2 merges
// config/, the environment, its overrides, its secrets and the device file; config/hardware/<model>.yaml
// is the recorded hardware profile, not configuration, and config/templates/ is read only when a
// device file is created), so the values go into the device file of every device of that model in
// the run's environments, through the same edit as `gitops propose` (comments and layout kept,
// values typed by the schema, secrets and unknown paths refused). Writing the environment's
// overrides instead would change the other models of the same environment. Pure: the caller
// validates the result and commits it.

import { applySettings } from '../change/propose.js';
import { GitopsError } from '../errors.js';
import { closest } from '../format/suggest.js';
import { parseDotted } from '../json/pointer.js';
import type { Repository } from '../repo/repository.js';
import type { PooledModel } from './pool.js';
import { tuningTargets } from './spec.js';
import type { Tuning } from './types.js';

/** One value written: a space path of the candidate in one device file. */
export interface TunedValue {
  environment: string;
  device: string;
  file: string;
  path: string;
  /** The value as the candidate key spells it (typed by the schema when written). */
  text: string;
}

export interface TuningProposal {
  model: string;
  /** The candidate key (path=value,...), as the devices report it. */
  candidate: string;
  /** The repository's files after the change. */
  files: Map<string, string>;
  /** The device files written (those whose text changes). */
  written: string[];
  values: TunedValue[];
}

/**
 * The values of a candidate key (`path=value,path=value`, agent/core/tuning/space.ts candidateKey):
 * exactly one value for every path of the run's space, or a tuning-bad-candidate error.
 */
export function parseCandidate(tuning: Tuning, key: string): Array<{ path: string; text: string }> {
  const paths = tuning.space.map((d) => d.path);
  const bad = (why: string): GitopsError =>
    new GitopsError(
      'tuning-bad-candidate',
      `candidate "${key}" of tuning ${tuning.name} ${why}`,
      `give every path of its space once: ${paths.map((p) => `${p}=VALUE`).join(',')} (as gitops tune report prints it)`,
    );
  const out: Array<{ path: string; text: string }> = [];
  // a comma inside a value (a string knob) stays with it: a new pair starts only at a space path
  for (const piece of key.split(',')) {
    const eq = piece.indexOf('=');
    const path = eq > 0 ? piece.slice(0, eq) : '';
    if (paths.includes(path)) out.push({ path, text: piece.slice(eq + 1) });
    else if (out.length > 0 && !/^[A-Za-z0-9_.]+=/.test(piece)) out[out.length - 1]!.text += `,${piece}`;
    else {
      const guess = closest(path || piece, paths);
      throw bad(
        `sets "${path || piece}", which is not a path of its space${guess ? `. Did you mean "${guess}"?` : ''}`,
      );
    }
  }
  for (const p of paths) {
    const n = out.filter((o) => o.path === p).length;
    if (n !== 1) throw bad(n === 0 ? `has no value for ${p}` : `sets ${p} ${n} times`);
  }
  return out;
}

/** The devices of `model` in the run's environments, or a tuning-unknown-model error. */
export function modelTargets(
  repo: Repository,
  tuning: Tuning,
  model: string,
): Array<{ environment: string; device: string; model: string }> {
  if (!tuning.hardware_models.includes(model)) {
    const guess = closest(model, tuning.hardware_models);
    throw new GitopsError(
      'tuning-unknown-model',
      `tuning ${tuning.name} does not target hardware model "${model}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      `its models: ${tuning.hardware_models.join(', ')}`,
    );
  }
  const targets = tuningTargets(repo, tuning).filter((t) => t.model === model);
  if (targets.length === 0)
    throw new GitopsError(
      'tuning-unknown-model',
      `no device of model ${model} is in the environments of tuning ${tuning.name} (${(tuning.environments ?? repo.environments()).join(', ')})`,
      'there is no device file to write the finding into: add a device of that model (gitops device add)',
    );
  return targets;
}

/** The repository with `candidate` written into the device files of `model` in the run's environments. */
export function proposeTuning(repo: Repository, tuning: Tuning, model: string, candidate: string): TuningProposal {
  const targets = modelTargets(repo, tuning, model);
  const pairs = parseCandidate(tuning, candidate);
  const settings = pairs.map((p) => ({ path: parseDotted(p.path) ?? [p.path], text: p.text }));
  const files = new Map(repo.files);
  const written: string[] = [];
  const values: TunedValue[] = [];
  for (const { environment, device } of targets) {
    const { files: changed, file } = applySettings(repo, environment, device, settings);
    const text = changed.get(file)!;
    if (text === repo.files.get(file)) continue;
    files.set(file, text);
    written.push(file);
    for (const p of pairs) values.push({ environment, device, file, path: p.path, text: p.text });
  }
  return { model, candidate, files, written, values };
}

/** The pull request's body: what changes, the pooled evidence of the model, the configuration diff. */
export function tuningProposalBody(
  tuning: Tuning,
  proposal: TuningProposal,
  pooled: PooledModel | undefined,
  diffMarkdown: string,
): string {
  const best = pooled?.best?.candidate;
  const lines = [`## Tuning \`${tuning.name}\`: \`${proposal.candidate}\` for ${proposal.model}`, ''];
  if (best !== proposal.candidate)
    lines.push(
      `> **Not the pooled best** (\`--candidate\`): the pooled trials say ${pooled ? pooled.verdict : 'nothing (no trials of this model)'}.`,
      '',
    );
  lines.push(
    `The candidate becomes the configuration of every ${proposal.model} device of ${(tuning.environments ?? ['every environment']).join(', ')}, ` +
      'in its device file (the repository has no per-model configuration layer):',
    '',
  );
  if (proposal.written.length === 0) lines.push('every device of the model has these values already: nothing changes.');
  for (const f of proposal.written)
    lines.push(
      `- \`${f}\`: ${proposal.values
        .filter((v) => v.file === f)
        .map((v) => `\`${v.path}\` = \`${v.text}\``)
        .join(', ')}`,
    );
  lines.push(
    '',
    `### Evidence: ${tuning.objective.metric} (${tuning.objective.direction}), pooled over the ${proposal.model} devices`,
    '',
    pooled ? pooled.verdict : 'no trial of this model has been reported.',
    '',
    ...(pooled ? [pooled.table, ''] : []),
    "Estimates are device-adjusted means over each candidate's feasible trials (a device that runs hotter than its peers " +
      'does not bias the candidates it tried); a candidate needs enough devices and few failed trials to be named best.',
    '',
    '### Configuration diff',
    '',
    diffMarkdown,
    '',
    '_Proposed with `gitops tune propose`._',
    '',
  );
  return lines.join('\n');
}

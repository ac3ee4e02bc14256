// Concluding an experiment (issue 16, `gitops experiment conclude NAME --ship VARIANT`): the shipped
// variant's values written into the overrides of every environment the experiment ran in (through
// the same edit as `gitops propose`: comments and layout kept, values typed by the schema, secrets
// and unknown paths refused), and the experiment file removed. Shipping the control arm only
// removes the experiment. Pure: the caller validates the result and commits it.

import { applySettings } from '../change/propose.js';
import { GitopsError } from '../errors.js';
import { closest } from '../format/suggest.js';
import { parseDotted } from '../json/pointer.js';
import { getAt } from '../json/value.js';
import { deviceFile } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import type { Experiment, Variant } from './read.js';
import type { TunableValue } from '../tunables/annotation.js';

export interface ShippedValue {
  environment: string;
  /** The file written (environments/<env>/overrides.yaml). */
  file: string;
  path: string;
  value: TunableValue;
}

export interface Conclusion {
  variant: Variant;
  /** The repository's files after the change. */
  files: Map<string, string>;
  /** Files written, then the file removed (the experiment's). */
  written: string[];
  removed: string[];
  values: ShippedValue[];
  /** Devices whose own file sets a shipped path: they keep their value (path, device, value). */
  shadowed: Array<{ environment: string; device: string; path: string; value: unknown }>;
}

/** The variant `name` of `e`, or an unknown-variant error with the variants it has. */
export function variantOf(e: Experiment, name: string): Variant {
  const v = e.variants.find((x) => x.name === name);
  if (v) return v;
  const names = e.variants.map((x) => x.name);
  const guess = closest(name, names);
  throw new GitopsError(
    'unknown-variant',
    `experiment ${e.name} has no variant "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`,
    `its variants: ${names.join(', ')}`,
  );
}

/** The repository with variant `ship` of `e` written into its environments' overrides, and `e` removed. */
export function concludeExperiment(repo: Repository, e: Experiment, ship: string): Conclusion {
  const variant = variantOf(e, ship);
  const files = new Map(repo.files);
  const written: string[] = [];
  const values: ShippedValue[] = [];
  const shadowed: Conclusion['shadowed'] = [];
  const settings = Object.entries(variant.set).map(([path, value]) => ({
    path: parseDotted(path) ?? [path],
    text: String(value),
  }));
  if (settings.length > 0)
    for (const environment of e.environments) {
      const { files: changed, file } = applySettings(repo, environment, undefined, settings);
      files.set(file, changed.get(file)!);
      written.push(file);
      for (const [path, value] of Object.entries(variant.set)) {
        values.push({ environment, file, path, value });
        for (const device of repo.devices(environment)) {
          const own = getAt(repo.document(deviceFile(environment, device))?.value, parseDotted(path) ?? [path]);
          if (own !== undefined) shadowed.push({ environment, device, path, value: own });
        }
      }
    }
  files.delete(e.file);
  return { variant, files, written, removed: [e.file], values, shadowed };
}

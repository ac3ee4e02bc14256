// gitops hardware probe | capture | parse: this machine's hardware profile, recording it for a
// device model, and the facts of one captured command output.

import { join } from 'node:path';
import { GitopsError } from '../agent/core/errors.js';
import { profileFromFacts } from '../agent/core/hardware/profile.js';
import { probeTargets, recordedProfile, recordedProfileText } from '../agent/core/hardware/record.js';
import { PARSERS } from '../agent/core/parsers/index.js';
import { isObject } from '../agent/core/json/value.js';
import { hardwareProfileFile } from '../agent/core/repo/layout.js';
import { render } from '../agent/core/config/render.js';
import { schemaDiagnostics } from '../agent/core/schema/diagnostics.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import { probeFacts } from '../agent/io/hardware-probe.js';
import { readUserFile, writeFileAtomic } from '../agent/io/repo-files.js';
import { EXIT_INVALID, EXIT_OK, err, out, parse, rootOption, openTree } from './cli.js';
import { pickTarget } from './target.js';

const USAGE = [
  'gitops hardware probe [--model NAME] [--env E --device D] [--storage PATH] [--sysroot DIR]',
  'gitops hardware capture --model NAME [--root DIR]',
  'gitops hardware parse KIND FILE [--fields F1,F2,...] [--raw]',
].join('\n       ');

const MODEL = /^[a-z0-9][a-z0-9-]*$/;

export async function hardwareCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'hardware',
    args,
    {
      ...rootOption,
      model: { type: 'string', short: 'm' },
      env: { type: 'string', short: 'e' },
      device: { type: 'string', short: 'd' },
      storage: { type: 'string' },
      sysroot: { type: 'string' },
      fields: { type: 'string' },
      raw: { type: 'boolean' },
    },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const [verb, ...rest] = positionals;
  if (verb === 'parse') return parseCommand(rest, values.fields, values.raw === true);
  if (verb !== 'probe' && verb !== 'capture')
    throw new GitopsError('usage', `unknown hardware subcommand "${verb ?? ''}"`, `usage: ${USAGE}`);
  if (rest.length > 0) throw new GitopsError('usage', `hardware ${verb} takes no arguments`, `usage: ${USAGE}`);
  const model = values.model ?? (verb === 'probe' ? 'this-device' : undefined);
  if (!model || !MODEL.test(model))
    throw new GitopsError(
      'usage',
      model ? `"${model}" is not a valid model name` : '--model is required',
      'use lower-case letters, digits and dashes, e.g. --model rpi5-camv3',
    );

  // What the configuration names for this device: storage path, model files, camera streams.
  const named =
    values.env === undefined
      ? { modelFiles: [], streams: [] }
      : (() => {
          const { repo } = openTree(values.root);
          return probeTargets(render(repo, pickTarget(repo, values.env, values.device, USAGE)).config);
        })();
  const storagePath = values.storage ?? named.storagePath;
  const { modelFiles, streams } = named;
  const { facts } = await probeFacts({
    model,
    ...(values.sysroot ? { root: values.sysroot } : {}),
    ...(storagePath ? { storagePath } : {}),
    modelFiles,
    streams,
  });
  const profile = profileFromFacts(facts, new Date().toISOString());

  if (verb === 'probe') {
    out(JSON.stringify(profile, null, 2));
    return EXIT_OK;
  }
  // capture: a recorded profile describes the model, not this moment: drop live-only facts.
  const { root, repo } = openTree(values.root);
  const recorded = recordedProfile(profile, model);
  const errors = repo.schemas?.validate('hardwareProfile', recorded) ?? [];
  if (errors.length > 0) {
    err(formatText(schemaDiagnostics(errors, () => ({ file: hardwareProfileFile(model) }))));
    return EXIT_INVALID;
  }
  writeFileAtomic(
    join(root, hardwareProfileFile(model)),
    recordedProfileText(recorded, model, String(profile.probed_at)),
  );
  out(
    `wrote ${hardwareProfileFile(model)}${isObject(profile.unknown) ? ` (unknown: ${Object.keys(profile.unknown).join(', ')})` : ''}`,
  );
  return EXIT_OK;
}

function parseCommand(rest: string[], fields: string | undefined, raw: boolean): number {
  const [kind, file, ...extra] = rest;
  const kinds = Object.keys(PARSERS);
  if (!kind || !file || extra.length > 0)
    throw new GitopsError('usage', 'hardware parse takes KIND and FILE', `kinds: ${kinds.join(', ')}`);
  const parser = PARSERS[kind];
  if (!parser) throw new GitopsError('usage', `unknown kind "${kind}"`, `kinds: ${kinds.join(', ')}`);
  const facts = parser.parse(
    readUserFile(file, `${kind} output`),
    fields ? { fields: fields.split(',').map((f) => f.trim()) } : {},
  ) as { raw?: string };
  if (!raw) delete facts.raw;
  out(JSON.stringify(facts, null, 2));
  return EXIT_OK;
}

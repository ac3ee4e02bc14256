// gitops hardware probe | capture | parse: this machine's hardware profile, recording it for a
// device model, and the facts of one captured command output.

import { join } from 'node:path';
import { Document } from 'yaml';
import { GitopsError } from '../agent/core/errors.js';
import { profileFromFacts } from '../agent/core/hardware/profile.js';
import { PARSERS } from '../agent/core/parsers/index.js';
import type { JsonObject } from '../agent/core/json/value.js';
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
  let storagePath = values.storage;
  const modelFiles: string[] = [];
  const streams: string[] = [];
  if (values.env !== undefined) {
    const { repo } = openTree(values.root);
    const target = pickTarget(repo, values.env, values.device, USAGE);
    const c = render(repo, target).config as JsonObject & {
      storage?: { path?: string };
      detectors?: Record<string, { enabled?: boolean; model_path?: string }>;
      face_recognition?: { enabled?: boolean; model_path?: string };
      frame_capture?: { source?: string; url?: string };
    };
    storagePath ??= c.storage?.path;
    for (const d of Object.values(c.detectors ?? {})) if (d.enabled && d.model_path) modelFiles.push(d.model_path);
    if (c.face_recognition?.enabled && c.face_recognition.model_path) modelFiles.push(c.face_recognition.model_path);
    if (c.frame_capture?.source === 'rtsp' && c.frame_capture.url) streams.push(c.frame_capture.url);
  }
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
  const recorded: JsonObject = { ...profile, description: `${model}, recorded with gitops hardware capture` };
  for (const key of ['probed_at', 'memory_available_mb', 'model_files', 'streams']) delete recorded[key];
  if (isObject(recorded.disk)) delete recorded.disk.free_mb;
  const errors = repo.schemas?.validate('hardwareProfile', recorded) ?? [];
  if (errors.length > 0) {
    err(formatText(schemaDiagnostics(errors, () => ({ file: hardwareProfileFile(model) }))));
    return EXIT_INVALID;
  }
  const doc = new Document(recorded);
  doc.commentBefore = ` yaml-language-server: $schema=../../schemas/hardware-profile.schema.json\n Hardware profile of model "${model}", recorded by gitops hardware capture on ${String(profile.probed_at).slice(0, 10)}.\n CI validates every device of this model against these facts.`;
  writeFileAtomic(join(root, hardwareProfileFile(model)), doc.toString({ lineWidth: 0 }));
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

// A new device from a template (gitops device add): given the repository's files and what the
// operator asked for, the files the repository would hold with the device in it: the device file
// (the template with its id, model and age recipient set, under the header every device file
// carries) and, with a recipient, .sops.yaml listing the key in the environment's rule. Whether
// the environment's secrets must be re-wrapped for the key is said, not done: that needs an
// operator's identity, which the caller loads.

import { isMap, isScalar, parseDocument, Scalar } from 'yaml';
import { GitopsError } from '../errors.js';
import { closest } from '../format/suggest.js';
import {
  deviceFile,
  hardwareProfileFile,
  listHardwareModels,
  secretsFile,
  TEMPLATES_DIR,
  templateFile,
} from '../repo/layout.js';
import type { RepoFiles } from '../repo/layout.js';
import { parseSopsConfig, pickCreationRule } from '../sops/sops-config.js';
import { readEncrypted } from '../sops/sops-file.js';
import { SOPS_CONFIG } from '../validate/secrets-check.js';

const ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** The header every device file carries (device files live three levels below the root). */
const HEADER = ' yaml-language-server: $schema=../../../schemas/device.schema.json';

export interface NewDevice {
  env: string;
  id: string;
  model: string;
  /** The template's name; the one made for the model when absent. */
  template?: string;
  /** The device's age recipient (age1…). */
  recipient?: string;
}

export interface DevicePlan {
  /** The device file's path. */
  target: string;
  /** The template used. */
  template: string;
  /** The repository's files with the device added (and .sops.yaml changed, when it had to be). */
  files: Map<string, string>;
  /** What was done besides writing the device file, for the operator. */
  steps: string[];
  /** Set when the environment's secrets are not yet encrypted to every recipient of their rule. */
  rewrap?: { file: string; groups: string[][]; threshold: number };
}

/** Throws a usage error unless `id` can name a device. */
export function checkDeviceId(id: string): void {
  if (!ID.test(id))
    throw new GitopsError(
      'usage',
      `"${id}" is not a valid device id`,
      'use 2 to 63 lower-case letters, digits and dashes, starting with a letter or digit',
    );
}

/**
 * The repository with the new device. `taken(path)` says whether a file exists there beyond
 * `files` (on disk, untracked): a device is never written over one.
 */
export function planNewDevice(files: RepoFiles, request: NewDevice, taken: (path: string) => boolean): DevicePlan {
  const { env, id, model, recipient } = request;
  const models = listHardwareModels(files);
  if (!files.has(hardwareProfileFile(model))) {
    const guess = closest(model, models);
    throw new GitopsError(
      'unknown-model',
      `there is no hardware profile for model "${model}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      `models: ${models.join(', ') || '(none)'}; record one with gitops hardware capture --model ${model}`,
    );
  }
  const target = deviceFile(env, id);
  if (files.has(target) || taken(target))
    throw new GitopsError('device-exists', `${target} already exists`, 'choose another id, or edit the existing file');

  const name = pickTemplate(files, model, request.template);
  const text = files.get(templateFile(name))!;
  // the template's own header (its $schema path and what it is a template for) is not the device's
  const doc = parseDocument(text.replace(/^(?:[ \t]*(?:#.*)?\r?\n)*/, ''));
  if (doc.errors.length > 0 || !isMap(doc.get('device', true)))
    throw new GitopsError(
      'bad-template',
      `${templateFile(name)} is not a device template (no device: mapping)`,
      'run gitops validate to see what is wrong with it',
    );
  doc.setIn(['device', 'id'], id);
  doc.setIn(['device', 'model'], model);
  if (recipient !== undefined) {
    if (!/^age1[0-9a-z]+$/.test(recipient))
      throw new GitopsError(
        'usage',
        `"${recipient}" is not an age recipient`,
        'the device prints it when its identity is made: age-keygen -o key.txt',
      );
    doc.setIn(['device', 'age_recipient'], recipient);
  }
  // on the top mapping rather than the document: no blank line under it, as device files are written
  doc.contents!.commentBefore = `${HEADER}\n Doorbell ${id} (model ${model}), created from template ${name}.`;

  const plan: DevicePlan = {
    target,
    template: name,
    files: new Map(files).set(target, doc.toString({ lineWidth: 0 })),
    steps: [],
  };
  if (recipient === undefined) return plan;
  const config = files.get(SOPS_CONFIG);
  const listed = config === undefined ? undefined : withRecipient(config, secretsFile(env), recipient);
  if (config !== undefined && listed !== undefined && listed !== config) {
    plan.files.set(SOPS_CONFIG, listed);
    plan.steps.push(`listed its key in the ${env} rule of ${SOPS_CONFIG}`);
  }
  const secrets = files.get(secretsFile(env));
  const rules = plan.files.get(SOPS_CONFIG);
  if (secrets !== undefined && rules !== undefined) {
    const rule = pickCreationRule(parseSopsConfig(rules, SOPS_CONFIG), secretsFile(env), SOPS_CONFIG);
    const has = new Set(
      readEncrypted(Buffer.from(secrets, 'utf8'), secretsFile(env)).metadata.keyGroups.flatMap((g) =>
        g.age.map((a) => a.recipient),
      ),
    );
    if (rule.groups.flat().some((r) => !has.has(r)))
      plan.rewrap = { file: secretsFile(env), groups: rule.groups, threshold: rule.shamirThreshold };
  }
  return plan;
}

/** The template asked for, or the one made for `model`; an error naming the templates otherwise. */
function pickTemplate(files: RepoFiles, model: string, asked: string | undefined): string {
  const templates = [...files.keys()]
    .filter((f) => f.startsWith(TEMPLATES_DIR + '/'))
    .map((f) => f.slice(TEMPLATES_DIR.length + 1).replace(/\.ya?ml$/, ''));
  const name =
    asked ??
    templates.find((t) => parseDocument(files.get(templateFile(t)) ?? '').getIn(['device', 'model']) === model);
  if (name === undefined)
    throw new GitopsError(
      'usage',
      `no template is made for model "${model}"`,
      `pass --template with one of: ${templates.join(', ')}`,
    );
  if (!files.has(templateFile(name))) {
    const guess = closest(name, templates);
    throw new GitopsError(
      'unknown-template',
      `there is no template "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      `templates in ${TEMPLATES_DIR}/: ${templates.join(', ')}`,
    );
  }
  return name;
}

/**
 * .sops.yaml with `recipient` added to the `age:` list of the rule that picks `file`, the rest of
 * the text as it was; undefined when the rule lists its keys otherwise (key_groups).
 */
export function withRecipient(config: string, file: string, recipient: string): string | undefined {
  const rule = pickCreationRule(parseSopsConfig(config, SOPS_CONFIG), file, SOPS_CONFIG);
  if (rule.groups.flat().includes(recipient)) return config;
  const node = parseDocument(config).getIn(['creation_rules', rule.index, 'age'], true);
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return undefined;
  const [start, end] = node.range;
  if (node.type === Scalar.BLOCK_FOLDED || node.type === Scalar.BLOCK_LITERAL) {
    const block = config.slice(start, end);
    const last = block.trimEnd().length;
    const indent = /\n([ \t]+)\S[^\n]*$/.exec(block.slice(0, last))?.[1] ?? '  ';
    return config.slice(0, start) + block.slice(0, last) + `,\n${indent}${recipient}` + config.slice(start + last);
  }
  return config.slice(0, start) + JSON.stringify(`${node.value.trim()},${recipient}`) + config.slice(end);
}

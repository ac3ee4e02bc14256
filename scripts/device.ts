// gitops device add ID --env E --model M [--template T]: creates
// environments/E/devices/ID.yaml from a template, validates it with the rest of the
// repository, and writes it only when it is valid.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { GitopsError } from '../agent/core/errors.js';
import { deviceFile, hardwareProfileFile, listHardwareModels, TEMPLATES_DIR, templateFile } from '../agent/core/repo-layout.js';
import { closest } from '../agent/core/suggest.js';
import { validateRepository } from '../agent/core/validate.js';
import { writeFileAtomic } from '../agent/io/repo-files.js';
import { EXIT_INVALID, EXIT_OK, openTree, out, parse, printDiagnostics, rootOption } from './cli.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { pickTarget } from './target.js';

const USAGE = 'gitops device add ID --env E --model M [--template T] [--age-recipient R] [--root DIR]';

/** Findings that only say the secrets still have to be re-wrapped for the new device: next steps, not refusals. */
const NEXT_STEPS = new Set(['device-no-recipient', 'secrets-recipients']);
const ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

export function deviceCommand(args: string[]): number {
  const { values, positionals } = parse('device', args, { ...rootOption, env: { type: 'string', short: 'e' }, model: { type: 'string', short: 'm' }, template: { type: 'string', short: 't' }, 'age-recipient': { type: 'string' } }, USAGE);
  if (values.help) return (out(USAGE), EXIT_OK);
  const [verb, id, ...extra] = positionals;
  if (verb !== 'add' || id === undefined || extra.length > 0) throw new GitopsError('usage', verb === 'add' ? 'device add takes one ID' : `unknown device subcommand "${verb ?? ''}"`, `usage: ${USAGE}`);
  if (!ID.test(id)) throw new GitopsError('usage', `"${id}" is not a valid device id`, 'use 2 to 63 lower-case letters, digits and dashes, starting with a letter or digit');
  if (typeof values.model !== 'string') throw new GitopsError('usage', '--model is required', `usage: ${USAGE}`);
  const { root, files, repo } = openTree(values.root);
  const env = pickTarget(repo, values.env, undefined, USAGE).environment;
  const model = values.model;
  const models = listHardwareModels(files);
  if (!files.has(hardwareProfileFile(model))) {
    const guess = closest(model, models);
    throw new GitopsError('unknown-model', `there is no hardware profile for model "${model}"${guess ? `. Did you mean "${guess}"?` : ''}`, `models: ${models.join(', ') || '(none)'}; record one with gitops hardware capture --model ${model}`);
  }
  const target = deviceFile(env, id);
  if (files.has(target) || existsSync(join(root, target))) throw new GitopsError('device-exists', `${target} already exists`, 'choose another id, or edit the existing file');

  const templates = [...files.keys()].filter((f) => f.startsWith(TEMPLATES_DIR + '/')).map((f) => f.slice(TEMPLATES_DIR.length + 1).replace(/\.ya?ml$/, ''));
  let name = values.template;
  if (name === undefined) {
    name = templates.find((t) => parseDocument(files.get(templateFile(t)) ?? '').getIn(['device', 'model']) === model);
    if (!name) throw new GitopsError('usage', `no template is made for model "${model}"`, `pass --template with one of: ${templates.join(', ')}`);
  }
  const text = files.get(templateFile(name));
  if (text === undefined) {
    const guess = closest(name, templates);
    throw new GitopsError('unknown-template', `there is no template "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`, `templates in ${TEMPLATES_DIR}/: ${templates.join(', ')}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.get('device', true))) throw new GitopsError('bad-template', `${templateFile(name)} is not a device template (no device: mapping)`, 'run gitops validate to see what is wrong with it');
  doc.setIn(['device', 'id'], id);
  doc.setIn(['device', 'model'], model);
  const recipient = values['age-recipient'];
  if (recipient !== undefined) {
    if (!/^age1[0-9a-z]+$/.test(recipient)) throw new GitopsError('usage', `"${recipient}" is not an age recipient`, 'the device prints it when its identity is made: age-keygen -o key.txt');
    doc.setIn(['device', 'age_recipient'], recipient);
  }
  doc.commentBefore = ` yaml-language-server: $schema=../../../schemas/device.schema.json\n Doorbell ${id} (model ${model}), created from template ${name}.`;
  const output = doc.toString({ lineWidth: 0 });

  const candidate = new Map(files).set(target, output);
  const report = validateRepository(candidate, { environments: [env], devices: [id], env: {} }, fileSchemaCache());
  const blocking = report.diagnostics.filter((d) => d.severity === 'error' && !NEXT_STEPS.has(d.code));
  if (blocking.length > 0) {
    printDiagnostics(blocking, 'text', `${target} was not written`);
    return EXIT_INVALID;
  }
  writeFileAtomic(join(root, target), output);
  out(`created ${target} (model ${model}, template ${name}); it validates`);
  const pending = report.diagnostics.filter((d) => NEXT_STEPS.has(d.code) && (d.file === target || d.message.includes(id)));
  if (pending.length > 0) {
    out(`next: the device cannot read the ${env} secrets yet:`);
    for (const d of pending) out(`  - ${d.message}${d.hint ? `\n    ${d.hint}` : ''}`);
  }
  return EXIT_OK;
}

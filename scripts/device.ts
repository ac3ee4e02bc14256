// gitops device add ID --env E --model M [--template T] [--age-recipient R] [--identity F]...:
// creates environments/E/devices/ID.yaml from a template; with the device's age recipient it
// also lists the key in the environment's .sops.yaml rule and re-wraps the environment's
// secrets to it (with the operator's key). The result is validated exactly as gitops validate
// --env E validates it, and written only when it is valid.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, parseDocument, Scalar } from 'yaml';
import { GitopsError } from '../agent/core/errors.js';
import {
  deviceFile,
  hardwareProfileFile,
  listHardwareModels,
  secretsFile,
  TEMPLATES_DIR,
  templateFile,
} from '../agent/core/repo/layout.js';
import { openRepository } from '../agent/core/repo/repository.js';
import { SOPS_CONFIG } from '../agent/core/validate/secrets-check.js';
import { parseSopsConfig, pickCreationRule } from '../agent/core/sops/sops-config.js';
import { readEncrypted, updateKeys } from '../agent/core/sops/sops-file.js';
import { closest } from '../agent/core/format/suggest.js';
import { validateOpened } from '../agent/core/validate/validate.js';
import { writeFileAtomic } from '../agent/io/repo-files.js';
import { loadIdentities } from '../agent/io/sops-keys.js';
import { EXIT_INVALID, EXIT_OK, list, openTree, out, parse, printDiagnostics, rootOption } from './cli.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { pickTarget } from './target.js';

const USAGE =
  'gitops device add ID --env E --model M [--template T] [--age-recipient R] [--identity F]... [--root DIR]';

const ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** The header every device file carries (device files live three levels below the root). */
const HEADER = ' yaml-language-server: $schema=../../../schemas/device.schema.json';

export async function deviceCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'device',
    args,
    {
      ...rootOption,
      env: { type: 'string', short: 'e' },
      model: { type: 'string', short: 'm' },
      template: { type: 'string', short: 't' },
      'age-recipient': { type: 'string' },
      identity: { type: 'string', multiple: true, short: 'i' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  const [verb, id, ...extra] = positionals;
  if (verb !== 'add' || id === undefined || extra.length > 0)
    throw new GitopsError(
      'usage',
      verb === 'add' ? 'device add takes one ID' : `unknown device subcommand "${verb ?? ''}"`,
      `usage: ${USAGE}`,
    );
  if (!ID.test(id))
    throw new GitopsError(
      'usage',
      `"${id}" is not a valid device id`,
      'use 2 to 63 lower-case letters, digits and dashes, starting with a letter or digit',
    );
  if (typeof values.model !== 'string') throw new GitopsError('usage', '--model is required', `usage: ${USAGE}`);
  const { root, files, repo } = openTree(values.root);
  const env = pickTarget(repo, values.env, undefined, USAGE).environment;
  const model = values.model;
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
  if (files.has(target) || existsSync(join(root, target)))
    throw new GitopsError('device-exists', `${target} already exists`, 'choose another id, or edit the existing file');

  const templates = [...files.keys()]
    .filter((f) => f.startsWith(TEMPLATES_DIR + '/'))
    .map((f) => f.slice(TEMPLATES_DIR.length + 1).replace(/\.ya?ml$/, ''));
  let name = values.template;
  if (name === undefined) {
    name = templates.find((t) => parseDocument(files.get(templateFile(t)) ?? '').getIn(['device', 'model']) === model);
    if (!name)
      throw new GitopsError(
        'usage',
        `no template is made for model "${model}"`,
        `pass --template with one of: ${templates.join(', ')}`,
      );
  }
  const text = files.get(templateFile(name));
  if (text === undefined) {
    const guess = closest(name, templates);
    throw new GitopsError(
      'unknown-template',
      `there is no template "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      `templates in ${TEMPLATES_DIR}/: ${templates.join(', ')}`,
    );
  }
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
  const recipient = values['age-recipient'];
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
  const output = doc.toString({ lineWidth: 0 });

  const candidate = new Map(files).set(target, output);
  const steps: string[] = [];
  if (recipient !== undefined) {
    const config = files.get(SOPS_CONFIG);
    const listed = config === undefined ? undefined : withRecipient(config, secretsFile(env), recipient);
    if (config !== undefined && listed !== undefined && listed !== config) {
      candidate.set(SOPS_CONFIG, listed);
      steps.push(`listed its key in the ${env} rule of ${SOPS_CONFIG}`);
    }
    const secrets = files.get(secretsFile(env));
    const rules = candidate.get(SOPS_CONFIG);
    if (secrets !== undefined && rules !== undefined) {
      const rule = pickCreationRule(parseSopsConfig(rules, SOPS_CONFIG), secretsFile(env), SOPS_CONFIG);
      const has = new Set(
        readEncrypted(Buffer.from(secrets, 'utf8'), secretsFile(env)).metadata.keyGroups.flatMap((g) =>
          g.age.map((a) => a.recipient),
        ),
      );
      if (rule.groups.flat().some((r) => !has.has(r))) {
        const ids = await loadIdentities(list(values.identity));
        let rewrapped: Buffer;
        try {
          rewrapped = await updateKeys(
            Buffer.from(secrets, 'utf8'),
            secretsFile(env),
            ids,
            rule.groups,
            rule.shamirThreshold,
          );
        } catch (e) {
          if (!(e instanceof GitopsError)) throw e;
          throw new GitopsError(
            e.code,
            `${target} was not written: the ${env} secrets cannot be re-wrapped for the new device: ${e.message}`,
            `give an operator key of ${env} with --identity FILE or SOPS_AGE_KEY_FILE`,
          );
        }
        candidate.set(secretsFile(env), rewrapped.toString('utf8'));
        steps.push(`re-wrapped the data key of ${secretsFile(env)} for it (values untouched)`);
      }
    }
  }

  // exactly what gitops validate --env E checks, on the repository as it would be
  const report = validateOpened(openRepository(candidate, fileSchemaCache()), {
    environments: [env],
    env: process.env,
  });
  if (!report.valid) {
    printDiagnostics(
      report.diagnostics,
      'text',
      `${target} was not written${recipient === undefined && report.diagnostics.some((d) => d.code === 'device-no-recipient' && d.file === target) ? " (give the device's key with --age-recipient: its secrets are encrypted to each device)" : ''}`,
    );
    return EXIT_INVALID;
  }
  for (const path of [target, SOPS_CONFIG, secretsFile(env)]) {
    const text = candidate.get(path);
    if (text !== undefined && text !== files.get(path))
      writeFileAtomic(
        join(root, path),
        text,
        existsSync(join(root, path)) ? statSync(join(root, path)).mode & 0o777 : 0o644,
      );
  }
  out(
    `created ${target} (model ${model}, template ${name})${steps.length > 0 ? `; ${steps.join('; ')}` : ''}; gitops validate --env ${env} passes`,
  );
  return EXIT_OK;
}

/**
 * .sops.yaml with `recipient` added to the `age:` list of the rule that picks `file`, the rest of
 * the text as it was; undefined when the rule lists its keys otherwise (key_groups).
 */
function withRecipient(config: string, file: string, recipient: string): string | undefined {
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

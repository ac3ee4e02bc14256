// gitops device add ID --env E --model M [--template T] [--age-recipient R] [--identity F]...:
// creates environments/E/devices/ID.yaml from a template; with the device's age recipient it
// also lists the key in the environment's .sops.yaml rule and re-wraps the environment's
// secrets to it (with the operator's key). The result is validated exactly as gitops validate
// --env E validates it, and written only when it is valid.

import { join } from 'node:path';
import { checkDeviceId, planNewDevice } from '../agent/core/change/device.js';
import { GitopsError } from '../agent/core/errors.js';
import { secretsFile } from '../agent/core/repo/layout.js';
import { openRepository } from '../agent/core/repo/repository.js';
import { updateKeys } from '../agent/core/sops/sops-file.js';
import { SOPS_CONFIG } from '../agent/core/validate/secrets-check.js';
import { validateOpened } from '../agent/core/validate/validate.js';
import { fileExists, writeFileKeepingMode } from '../agent/io/local-files.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { loadIdentities } from '../agent/io/sops-keys.js';
import { EXIT_INVALID, EXIT_OK, list, openTree, out, parse, printDiagnostics, rootOption } from './cli.js';
import { pickTarget } from './target.js';

const USAGE =
  'gitops device add ID --env E --model M [--template T] [--age-recipient R] [--identity F]... [--root DIR]';

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
  checkDeviceId(id);
  if (typeof values.model !== 'string') throw new GitopsError('usage', '--model is required', `usage: ${USAGE}`);
  const { root, files, repo } = openTree(values.root);
  const env = pickTarget(repo, values.env, undefined, USAGE).environment;
  const model = values.model;
  const recipient = values['age-recipient'];
  const {
    target,
    template,
    files: candidate,
    steps,
    rewrap,
  } = planNewDevice(
    files,
    {
      env,
      id,
      model,
      ...(values.template !== undefined ? { template: values.template } : {}),
      ...(recipient !== undefined ? { recipient } : {}),
    },
    (path) => fileExists(join(root, path)),
  );
  if (rewrap) {
    const ids = await loadIdentities(list(values.identity));
    let rewrapped: Buffer;
    try {
      rewrapped = await updateKeys(
        Buffer.from(files.get(rewrap.file)!, 'utf8'),
        rewrap.file,
        ids,
        rewrap.groups,
        rewrap.threshold,
      );
    } catch (e) {
      if (!(e instanceof GitopsError)) throw e;
      throw new GitopsError(
        e.code,
        `${target} was not written: the ${env} secrets cannot be re-wrapped for the new device: ${e.message}`,
        `give an operator key of ${env} with --identity FILE or SOPS_AGE_KEY_FILE`,
      );
    }
    candidate.set(rewrap.file, rewrapped.toString('utf8'));
    steps.push(`re-wrapped the data key of ${rewrap.file} for it (values untouched)`);
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
    if (text !== undefined && text !== files.get(path)) writeFileKeepingMode(join(root, path), text);
  }
  out(
    `created ${target} (model ${model}, template ${template})${steps.length > 0 ? `; ${steps.join('; ')}` : ''}; gitops validate --env ${env} passes`,
  );
  return EXIT_OK;
}

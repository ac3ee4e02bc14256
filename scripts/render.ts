// gitops render --env E [--device D] [--output yaml|json] [--show-origin]

import { renderJson, renderYaml } from '../agent/core/format/render.js';
import { redactSecrets } from '../agent/core/config/render.js';
import { validateFor } from '../agent/core/validate/validate.js';
import { decryptEnvironmentSecrets } from '../agent/io/environment-secrets.js';
import { loadIdentities } from '../agent/io/sops-keys.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  list,
  openTree,
  out,
  outputOf,
  outputOptions,
  parse,
  reportInvalid,
  rootOption,
  redactor,
} from './cli.js';
import { pickTarget } from './target.js';

const USAGE =
  'gitops render --env E [--device D] [--output yaml|json] [--show-origin] [--reveal-secrets --identity F]... [--root DIR]';

export async function renderCommand(args: string[]): Promise<number> {
  const { values } = parse(
    'render',
    args,
    {
      ...rootOption,
      env: { type: 'string', short: 'e' },
      device: { type: 'string', short: 'd' },
      ...outputOptions,
      'show-origin': { type: 'boolean' },
      'reveal-secrets': { type: 'boolean' },
      identity: { type: 'string', multiple: true, short: 'i' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = outputOf('render', values, ['yaml', 'json'] as const, 'yaml');
  const { repo } = openTree(values.root);
  const target = pickTarget(repo, values.env, values.device, USAGE);
  const reveal = values['reveal-secrets'] === true;
  // Revealing needs a key: the secrets are decrypted and merged at their paths.
  const secrets = reveal
    ? await decryptEnvironmentSecrets(
        repo.files,
        target.environment,
        await loadIdentities(list(values.identity)),
        redactor,
      )
    : undefined;
  // the same validation as gitops validate and the device: print what renders, exit 1 if invalid
  const report = validateFor(repo, target, { env: process.env, ...(secrets ? { secrets } : {}) });
  const result = report.targets[0]?.result;
  if (result) {
    const config = reveal ? result.config : redactSecrets(repo, result.config);
    const provenance = values['show-origin'] ? result.provenance : undefined;
    out(format === 'json' ? renderJson(config, provenance) : renderYaml(config, provenance));
  }
  return reportInvalid(report) ? EXIT_INVALID : EXIT_OK;
}

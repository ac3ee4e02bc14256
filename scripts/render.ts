// gitops render --env E [--device D] [--format yaml|json] [--show-origin]

import { formatText } from '../agent/core/format-diagnostics.js';
import { renderJson, renderYaml } from '../agent/core/format-render.js';
import { hasErrors } from '../agent/core/diagnostics.js';
import { redactSecrets, render } from '../agent/core/render.js';
import { isYamlFile } from '../agent/core/repo-layout.js';
import { decryptEnvironmentSecrets } from '../agent/io/environment-secrets.js';
import { loadIdentities } from '../agent/io/sops-keys.js';
import { EXIT_INVALID, EXIT_OK, err, list, openTree, oneOf, out, parse, rootOption, useColor } from './cli.js';
import { pickTarget } from './target.js';

const USAGE = 'gitops render --env E [--device D] [--format yaml|json] [--show-origin] [--reveal-secrets --identity F]... [--root DIR]';

export async function renderCommand(args: string[]): Promise<number> {
  const { values } = parse('render', args, { ...rootOption, env: { type: 'string', short: 'e' }, device: { type: 'string', short: 'd' }, format: { type: 'string', short: 'f' }, 'show-origin': { type: 'boolean' }, 'reveal-secrets': { type: 'boolean' }, identity: { type: 'string', multiple: true, short: 'i' } }, USAGE);
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = oneOf('render', 'format', values.format, ['yaml', 'json'] as const, 'yaml');
  const { repo } = openTree(values.root);
  const target = pickTarget(repo, values.env, values.device, USAGE);
  const reveal = values['reveal-secrets'] === true;
  // Revealing needs a key: the secrets are decrypted and merged at their paths.
  const secrets = reveal ? await decryptEnvironmentSecrets(repo.files, target.environment, await loadIdentities(list(values.identity))) : undefined;
  const result = render(repo, target, { env: process.env, ...(secrets ? { secrets } : {}) });
  const problems = [...repo.schemaDiagnostics, ...result.diagnostics];
  for (const file of new Set([...result.provenance.values()].map((e) => e.file))) if (isYamlFile(file)) problems.push(...(repo.document(file)?.diagnostics ?? []));
  if (hasErrors(problems)) {
    err(formatText(problems.filter((d) => d.severity === 'error'), useColor()));
    err('\nrender failed: fix the errors above (gitops validate shows everything)');
    return EXIT_INVALID;
  }
  const config = reveal ? result.config : redactSecrets(repo, result.config);
  const provenance = values['show-origin'] ? result.provenance : undefined;
  out(format === 'json' ? renderJson(config, provenance) : renderYaml(config, provenance));
  return EXIT_OK;
}

// gitops render --env E [--device D] [--format yaml|json] [--show-origin]

import { formatText } from '../agent/core/format-diagnostics.js';
import { renderJson, renderYaml } from '../agent/core/format-render.js';
import { hasErrors } from '../agent/core/diagnostics.js';
import { redactSecrets, render } from '../agent/core/render.js';
import { isYamlFile } from '../agent/core/repo-layout.js';
import { EXIT_INVALID, EXIT_OK, err, openTree, oneOf, out, parse, rootOption, useColor } from './cli.js';
import { pickTarget } from './target.js';

const USAGE = 'gitops render --env E [--device D] [--format yaml|json] [--show-origin] [--root DIR]';

export function renderCommand(args: string[]): number {
  const { values } = parse('render', args, { ...rootOption, env: { type: 'string', short: 'e' }, device: { type: 'string', short: 'd' }, format: { type: 'string', short: 'f' }, 'show-origin': { type: 'boolean' } }, USAGE);
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = oneOf('render', 'format', values.format, ['yaml', 'json'] as const, 'yaml');
  const { repo } = openTree(values.root);
  const target = pickTarget(repo, values.env, values.device, USAGE);
  const result = render(repo, target, { env: process.env });
  const problems = [...repo.schemaDiagnostics, ...result.diagnostics];
  for (const file of new Set([...result.provenance.values()].map((e) => e.file))) if (isYamlFile(file)) problems.push(...(repo.document(file)?.diagnostics ?? []));
  if (hasErrors(problems)) {
    err(formatText(problems.filter((d) => d.severity === 'error'), useColor()));
    err('\nrender failed: fix the errors above (gitops validate shows everything)');
    return EXIT_INVALID;
  }
  const config = redactSecrets(repo, result.config);
  const provenance = values['show-origin'] ? result.provenance : undefined;
  out(format === 'json' ? renderJson(config, provenance) : renderYaml(config, provenance));
  return EXIT_OK;
}

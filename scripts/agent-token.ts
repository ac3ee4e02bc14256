// gitops agent token add --name N --role viewer|operator | list | revoke --name N  (--tokens-file F)
// The token is printed once, on add; the file keeps only its SHA-256 hash.

import { GitopsError } from '../agent/core/errors.js';
import { ROLES } from '../agent/core/contracts/tokens.js';
import { addToken, listTokens, revokeToken } from '../agent/io/token-file.js';
import { EXIT_OK, oneOf, out, parse } from './cli.js';

const USAGE =
  'gitops agent token add --name N --role viewer|operator | list | revoke --name N   [--tokens-file F] (default $DOORBELL_AGENT_TOKENS_FILE or /etc/doorbell-agent/tokens.yaml)';

export async function tokenCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'agent token',
    args.slice(1),
    { 'tokens-file': { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const file = values['tokens-file'] ?? process.env.DOORBELL_AGENT_TOKENS_FILE ?? '/etc/doorbell-agent/tokens.yaml';
  const action = positionals[0];
  if (action === 'list') {
    const tokens = listTokens(file);
    out(
      tokens.length === 0
        ? `no tokens in ${file}`
        : tokens
            .map((t) => `${t.name.padEnd(24)} ${t.role.padEnd(9)} ${t.created ?? ''}  sha256:${t.sha256.slice(0, 12)}`)
            .join('\n'),
    );
    return EXIT_OK;
  }
  if (!values.name)
    throw new GitopsError('usage', `agent token ${action ?? ''}: --name is required`, `usage: ${USAGE}`);
  if (action === 'add') {
    const role = oneOf('agent token add', 'role', values.role, ROLES, 'viewer');
    const token = addToken(file, values.name, role);
    out(token);
    process.stderr.write(
      `added ${role} token "${values.name}" to ${file}; this is the only time it is shown: keep it in a password manager or a 0600 file\n`,
    );
    return EXIT_OK;
  }
  if (action === 'revoke') {
    revokeToken(file, values.name);
    out(`revoked "${values.name}" in ${file}; a running agent stops accepting it at its next request`);
    return EXIT_OK;
  }
  throw new GitopsError('usage', `agent token: unknown action "${action ?? ''}"`, `usage: ${USAGE}`);
}

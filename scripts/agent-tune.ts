// gitops agent tune list | set PATH=VALUE [--ttl D] --reason TEXT | clear PATH: operator leases
// on a running agent, through its API (DESIGN.md section 9). The agent's address and token are
// found as for the other `gitops agent` commands (--url, --token-file, the environment); set and
// clear need an operator token. Exit status: 0 applied (or nothing to change), 1 refused by the
// agent (out of bounds, policy, budget, failed health: the error answer's code), 2 usage.
// --output json (or yaml) prints the API's answer, the error answer of a refusal included; --format
// and --json are aliases of --output (scripts/cli.ts outputOf).

import { GitopsError } from '../agent/core/errors.js';
import { parseDuration } from '../agent/core/format/duration.js';
import { fieldPath, parseLeaseAssignment } from '../agent/core/format/tune-args.js';
import { formatLeaseAnswer, formatTunables } from '../agent/core/format/tunables.js';
import { AgentRefusal } from '../agent/io/api-client.js';
import { connect } from './agent-client.js';
import { EXIT_OK, exitStatusOf, out, outputOf, outputOptions, parse, printData } from './cli.js';

const USAGE =
  'gitops agent tune list | set PATH=VALUE [--ttl D] --reason TEXT | clear PATH   [--url URL] [--token-file F] [--output text|json|yaml]';
const EXAMPLES = [
  'gitops agent tune list',
  'gitops agent tune set frame_capture.fps=10 --ttl 30m --reason "hot afternoon"',
  'gitops agent tune clear frame_capture.fps',
].join('\n  ');

export async function tuneCommand(args: string[]): Promise<number> {
  const { values, positionals: words } = parse(
    'agent tune',
    args.slice(1), // args[0] is "tune"

    {
      url: { type: 'string' },
      'token-file': { type: 'string' },
      ...outputOptions,
      ttl: { type: 'string' },
      reason: { type: 'string' },
    },
    USAGE,
  );
  const [action, ...positionals] = words;
  if (values.help) return (out(`usage: ${USAGE}\n\nexamples:\n  ${EXAMPLES}`), EXIT_OK);
  const output = outputOf('agent tune', values, ['text', 'json', 'yaml'] as const, 'text');
  const wants = (n: number, what: string): void => {
    if (positionals.length !== n)
      throw new GitopsError('usage', `agent tune ${action} takes ${what}`, `usage: ${USAGE}\n  ${EXAMPLES}`);
  };
  const api = (): ReturnType<typeof connect> => connect(values.url, values['token-file']);
  /** The answer, or the agent's refusal: printed as the API sent it with --output json|yaml, else raised for the usual message. */
  const answer = async <T>(call: () => Promise<T>, text: (a: T) => string): Promise<number> => {
    try {
      const a = await call();
      printData(output, a, () => text(a));
      return EXIT_OK;
    } catch (e) {
      if (!(e instanceof AgentRefusal)) throw e;
      if (output === 'text')
        throw new GitopsError(
          e.code,
          `the agent refused (${e.code}): ${e.answer.message ?? `HTTP ${e.status}`}`,
          e.hint,
          {
            cause: e,
          },
        );
      printData(output, e.answer, () => '');
      return exitStatusOf(e);
    }
  };
  switch (action) {
    case 'list':
      wants(0, 'no arguments');
      return answer(
        () => api().getTunables(),
        (a) => formatTunables(a),
      );
    case 'set': {
      wants(1, 'one PATH=VALUE, e.g. frame_capture.fps=10');
      const { path, value } = parseLeaseAssignment(positionals[0]!);
      const reason = values.reason?.trim();
      if (!reason) throw new GitopsError('usage', 'agent tune set needs --reason: say why, for the journal', EXAMPLES);
      const ttl = values.ttl === undefined ? undefined : parseDuration(values.ttl);
      return answer(
        () => api().setLease(path, { value, reason, ...(ttl !== undefined ? { ttl } : {}) }),
        (a) => formatLeaseAnswer(a, Date.now()),
      );
    }
    case 'clear': {
      wants(1, 'one PATH, e.g. frame_capture.fps');
      const path = fieldPath(positionals[0]!);
      return answer(
        () => api().clearLease(path),
        (a) => formatLeaseAnswer(a, Date.now()),
      );
    }
  }
  throw new GitopsError(
    'usage',
    action === undefined ? 'agent tune: say list, set or clear' : `agent tune: unknown action "${action}"`,
    `usage: ${USAGE}`,
  );
}

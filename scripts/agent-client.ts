// gitops agent status | journal | releases | diff | sync | rollback: a running agent, through
// its local API. The address comes from --url or $DOORBELL_AGENT_URL (default
// http://127.0.0.1:8420); the token from --token-file, $DOORBELL_AGENT_TOKEN_FILE or
// $DOORBELL_AGENT_TOKEN (reads on loopback may need none). `status` also shows the leases in
// force and the load governor when the agent reports them (GET /api/v1/tunables; an older agent
// answers 404 and nothing more is shown); its JSON has them as `runtime` (null when not reported).

import { GitopsError } from '../agent/core/errors.js';
import {
  formatDiff,
  formatJournal,
  formatReleases,
  formatRollback,
  formatStatus,
  formatSync,
  syncFailed,
} from '../agent/core/format/agent-answers.js';
import { formatActiveLeases, formatGovernor } from '../agent/core/format/tunables.js';
import { agentApi, completeReleaseName, readTokenFile } from '../agent/io/api-client.js';
import type { AgentApi } from '../agent/io/api-client.js';
import type { TunablesAnswer } from '../agent/core/contracts/api.js';
import { EXIT_INVALID, EXIT_OK, out, outputOf, outputOptions, parse, printData } from './cli.js';

const USAGE =
  'gitops agent status | journal [--limit N] [--event E] | releases | diff [--from R] [--to R] | sync | ' +
  'rollback [--to previous|last_good|COMMIT] [--reason TEXT]   [--url URL] [--token-file F] [--output text|json|yaml]';

function tokenFrom(file: string | undefined): string | undefined {
  const path = file ?? process.env.DOORBELL_AGENT_TOKEN_FILE;
  return path ? readTokenFile(path) : process.env.DOORBELL_AGENT_TOKEN || undefined;
}

/** The agent's API as the `gitops agent` commands find it: --url, --token-file, then the environment. */
export function connect(url: string | undefined, tokenFile: string | undefined): AgentApi {
  return agentApi(url ?? process.env.DOORBELL_AGENT_URL ?? 'http://127.0.0.1:8420', tokenFrom(tokenFile));
}

/** The runtime layers, or undefined from an agent that has none (an older one answers 404) or will not show them. */
export async function tunablesIfAny(api: AgentApi): Promise<TunablesAnswer | undefined> {
  try {
    return await api.getTunables();
  } catch (e) {
    if (e instanceof GitopsError && (e.code === 'not-found' || e.code === 'forbidden')) return undefined;
    throw e;
  }
}

export async function clientCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values } = parse(
    `agent ${action}`,
    rest,
    {
      url: { type: 'string' },
      'token-file': { type: 'string' },
      ...outputOptions,
      limit: { type: 'string' },
      event: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      reason: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const api = connect(values.url, values['token-file']);
  const output = outputOf(`agent ${action}`, values, ['text', 'json', 'yaml'] as const, 'text');
  const show = (value: unknown, text: () => string): void => printData(output, value, text);
  switch (action) {
    case 'status': {
      const s = await api.status();
      const runtime = await tunablesIfAny(api);
      // the JSON carries what the text shows: the status answer, and the runtime layers beside it
      const data = {
        ...s,
        runtime: runtime
          ? { now: runtime.now, leases: runtime.leases ?? [], governor: runtime.governor ?? null }
          : null,
      };
      show(data, () => {
        if (!runtime) return formatStatus(s, Date.now());
        const now = Date.parse(runtime.now);
        return [
          formatStatus(s, Date.now()),
          formatActiveLeases(runtime.leases ?? [], now),
          ...(runtime.governor ? [formatGovernor(runtime.governor, now).replace(/^/gm, '  ')] : []),
        ].join('\n');
      });
      return s.current && !s.components.some((c) => !c.healthy) ? EXIT_OK : EXIT_INVALID;
    }
    case 'journal': {
      const entries = await api.journal({ limit: values.limit ?? '20', event: values.event });
      show(entries, () => formatJournal(entries));
      return EXIT_OK;
    }
    case 'releases': {
      const list = await api.releases();
      show(list, () => formatReleases(list));
      return EXIT_OK;
    }
    case 'diff': {
      const [from, to] = [await completeReleaseName(api, values.from), await completeReleaseName(api, values.to)];
      const d = await api.diff({ from, to });
      show(d, () => formatDiff(d));
      return EXIT_OK;
    }
    case 'sync': {
      const r = await api.sync();
      show(r, () => formatSync(r));
      return syncFailed(r) ? EXIT_INVALID : EXIT_OK;
    }
    case 'rollback': {
      const to = (await completeReleaseName(api, values.to)) ?? 'previous';
      const r = await api.rollback({ to, ...(values.reason ? { reason: values.reason } : {}) });
      show(r, () => formatRollback(r));
      return EXIT_OK;
    }
  }
  throw new GitopsError('usage', `agent: unknown action "${action}"`, `usage: ${USAGE}`);
}

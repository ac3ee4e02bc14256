// gitops agent status | journal | releases | diff | sync | rollback: a running agent, through
// its local API. The address comes from --url or $DOORBELL_AGENT_URL (default
// http://127.0.0.1:8420); the token from --token-file, $DOORBELL_AGENT_TOKEN_FILE or
// $DOORBELL_AGENT_TOKEN (reads on loopback may need none).

import { readFileSync } from 'node:fs';
import { GitopsError } from '../agent/core/errors.js';
import { EXIT_INVALID, EXIT_OK, out, parse } from './cli.js';

const USAGE =
  'gitops agent status | journal [--limit N] [--event E] | releases | diff [--from R] [--to R] | sync | rollback [--to previous|last_good|COMMIT] [--reason TEXT]   [--url URL] [--token-file F] [--json]';

interface Api {
  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
}

function api(url: string, token: string | undefined): Api {
  return {
    async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      let r: Response;
      try {
        r = await fetch(new URL(path, url), {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(120_000),
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
        throw new GitopsError(
          'agent-unreachable',
          `cannot reach the agent at ${url}: ${cause}`,
          'is the agent running? give its address with --url or DOORBELL_AGENT_URL',
        );
      }
      const text = await r.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new GitopsError(
          'agent-answer',
          `the agent at ${url} answered HTTP ${r.status} with something that is not JSON`,
          "is --url the agent's API address?",
        );
      }
      if (!r.ok) {
        const p = json as { code?: string; message?: string; hint?: string };
        throw new GitopsError(
          p.code ?? 'agent-error',
          `the agent refused: ${p.message ?? `HTTP ${r.status}`}`,
          p.hint ?? '',
        );
      }
      return json as T;
    },
  };
}

function tokenFrom(file: string | undefined): string | undefined {
  const path = file ?? process.env.DOORBELL_AGENT_TOKEN_FILE;
  if (path) {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (e) {
      throw new GitopsError(
        'usage',
        `cannot read the token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        'give --token-file with a file holding an API token',
      );
    }
  }
  return process.env.DOORBELL_AGENT_TOKEN || undefined;
}

const short = (c: unknown): string => (typeof c === 'string' ? c.slice(0, 12) : '-');
function ago(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string') return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  return s < 90
    ? `${s} s ago`
    : s < 5400
      ? `${Math.round(s / 60)} min ago`
      : s < 172_800
        ? `${Math.round(s / 3600)} h ago`
        : `${Math.round(s / 86_400)} days ago`;
}

type Release = {
  commit: string;
  subject?: string | null;
  signer?: string | null;
  committed_at?: string | null;
  applied_at?: string | null;
} | null;
interface Status {
  environment: string;
  device: string;
  mode: string;
  current: Release;
  last_good: Release;
  components: Array<{ name: string; healthy: boolean; reason?: string; since: string }>;
  last_sync: { time: string; trigger: string; result: string } | null;
  last_error: { time: string; commit: string | null; reason: string; code: string } | null;
  next_poll: string | null;
}

function describeRelease(r: Release): string {
  if (!r) return 'nothing';
  return `${short(r.commit)}${r.subject ? ` "${r.subject}"` : ''}${r.signer ? `, signed by ${r.signer}` : ''}${r.committed_at ? `, committed ${ago(r.committed_at)}` : ''}`;
}

export function formatStatus(s: Status): string {
  const lines = [
    `${s.environment}/${s.device} (${s.mode})`,
    `  runs       ${describeRelease(s.current)}${s.current?.applied_at ? `; applied ${ago(s.current.applied_at)}` : ''}`,
    `  last good  ${s.last_good?.commit === s.current?.commit ? 'the same' : describeRelease(s.last_good)}`,
    `  last sync  ${s.last_sync ? `${s.last_sync.result} (${s.last_sync.trigger}, ${ago(s.last_sync.time)})` : 'none yet'}${s.next_poll ? `; next poll ${s.next_poll}` : ''}`,
  ];
  if (s.last_error)
    lines.push(
      `  last error ${s.last_error.code} on ${short(s.last_error.commit)} ${ago(s.last_error.time)}: ${s.last_error.reason.split('\n').join('\n             ')}`,
    );
  lines.push(
    `  components ${s.components.length === 0 ? 'not checked yet' : s.components.map((c) => `${c.name} ${c.healthy ? 'healthy' : `UNHEALTHY (${c.reason ?? '?'})`}`).join(', ')}`,
  );
  return lines.join('\n');
}

/**
 * A release as the operator typed it. The agent takes a watch-mode id (tree-...) only whole, and
 * this command prints it short: a shortened one is completed from the agent's list of releases.
 */
async function releaseName(a: Api, name: string | undefined): Promise<string | undefined> {
  if (name === undefined || !/^tree-[0-9a-f]{1,15}$/.test(name)) return name;
  const matches = (await a.call<Array<{ commit: string }>>('GET', '/api/v1/releases'))
    .map((r) => r.commit)
    .filter((c) => c.startsWith(name));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0)
    throw new GitopsError('release-unknown', `no release ${name} on this device`, 'gitops agent releases lists them');
  throw new GitopsError('bad-release', `"${name}" names ${matches.length} releases`, 'give more digits of the id');
}

export async function clientCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values } = parse(
    `agent ${action}`,
    rest,
    {
      url: { type: 'string' },
      'token-file': { type: 'string' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      event: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      reason: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const a = api(
    values.url ?? process.env.DOORBELL_AGENT_URL ?? 'http://127.0.0.1:8420',
    tokenFrom(values['token-file']),
  );
  const show = (value: unknown, text: () => string): void => out(values.json ? JSON.stringify(value, null, 2) : text());
  switch (action) {
    case 'status': {
      const s = await a.call<Status>('GET', '/api/v1/status');
      show(s, () => formatStatus(s));
      return s.current && !s.components.some((c) => !c.healthy) ? EXIT_OK : EXIT_INVALID;
    }
    case 'journal': {
      const q = new URLSearchParams({ limit: values.limit ?? '20', ...(values.event ? { event: values.event } : {}) });
      const answer = await a.call<unknown>('GET', `/api/v1/journal?${q}`);
      // an older agent may answer lines that are JSON but not entries: they are not shown
      const entries = (Array.isArray(answer) ? answer : []).filter(
        (e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !Array.isArray(e),
      );
      const text = (v: unknown): string =>
        typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
      show(
        entries,
        () =>
          entries
            .map(
              (e) =>
                `${text(e.time) || '?'}  ${(text(e.event) || '?').padEnd(14)} ${short(e.commit)}${e.to ? ` -> ${short(e.to)}` : ''}${e.component ? ` ${text(e.component)}` : ''}${e.by ? ` by ${text(e.by)}` : ''}${e.subject ? ` "${text(e.subject)}"` : ''}${e.code ? ` [${text(e.code)}]` : ''}${e.reason ? `: ${text(e.reason).split('\n')[0]}` : ''}`,
            )
            .join('\n') || 'the journal is empty',
      );
      return EXIT_OK;
    }
    case 'releases': {
      const list = await a.call<
        Array<{
          commit: string;
          subject: string | null;
          signer: string | null;
          written_at: string | null;
          current: boolean;
          good: boolean;
          bad: boolean;
        }>
      >('GET', '/api/v1/releases');
      show(list, () =>
        list
          .map(
            (r) =>
              `${r.current ? '*' : ' '} ${short(r.commit)}  ${(r.bad ? 'bad' : r.good ? 'good' : '-').padEnd(4)} ${r.written_at ?? ''}  ${r.subject ?? ''}${r.signer ? ` (${r.signer})` : ''}`,
          )
          .join('\n'),
      );
      return EXIT_OK;
    }
    case 'diff': {
      const [from, to] = [await releaseName(a, values.from), await releaseName(a, values.to)];
      const q = new URLSearchParams({ ...(from ? { from } : {}), ...(to ? { to } : {}) });
      const d = await a.call<{
        from: Release;
        to: Release;
        changes: Array<{ path: string; change: string; old?: unknown; new?: unknown; secret?: boolean }>;
      }>('GET', `/api/v1/diff?${q}`);
      show(
        d,
        () =>
          [
            `${short(d.from?.commit)} -> ${short(d.to?.commit)}`,
            ...d.changes.map(
              (c) =>
                `  ${c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~'} ${c.path}${c.secret ? ' (secret, value not shown)' : `: ${JSON.stringify(c.old ?? null)} -> ${JSON.stringify(c.new ?? null)}`}`,
            ),
          ].join('\n') + (d.changes.length === 0 ? '\n  no differences' : ''),
      );
      return EXIT_OK;
    }
    case 'sync': {
      const r = await a.call<{
        outcome: string;
        commit?: string;
        reason?: string;
        components?: string[];
        ms?: number;
        state?: { result: string };
      }>('POST', '/api/v1/sync');
      show(
        r,
        () =>
          `${r.outcome}${r.commit ? ` ${short(r.commit)}` : ''}${r.components?.length ? `: reconfigured ${r.components.join(', ')}` : ''}${r.state ? `: ${r.state.result}` : ''}${r.reason ? `\n  ${r.reason.split('\n').join('\n  ')}` : ''}${r.ms !== undefined ? ` in ${Math.round(r.ms)} ms` : ''}`,
      );
      return r.outcome === 'refused' || r.outcome === 'rolled-back' || r.state?.result === 'failed'
        ? EXIT_INVALID
        : EXIT_OK;
    }
    case 'rollback': {
      const r = await a.call<{ outcome: string; commit: string; reason?: string; components?: string[]; ms: number }>(
        'POST',
        '/api/v1/rollback',
        { to: (await releaseName(a, values.to)) ?? 'previous', ...(values.reason ? { reason: values.reason } : {}) },
      );
      show(
        r,
        () =>
          `rolled back to ${short(r.commit)}; reconfigured ${r.components?.join(', ') || 'nothing'} in ${Math.round(r.ms)} ms`,
      );
      return EXIT_OK;
    }
  }
  throw new GitopsError('usage', `agent: unknown action "${action}"`, `usage: ${USAGE}`);
}

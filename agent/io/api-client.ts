// An HTTP client of the agent's local API, for `gitops agent ...`: one method per endpoint,
// typed with the answers of core/contracts/api.ts. Whatever goes wrong is a GitopsError: the
// agent cannot be reached (agent-unreachable), answers something that is not JSON
// (agent-answer), or refuses (its own code, or agent-error for one this client does not know).
// It lives in io, not in agent/client (the library components embed to speak the file
// protocol): it is a side effect, the network, behind a small interface.

import { readFileSync } from 'node:fs';
import type {
  ConfigAnswer,
  DiffAnswer,
  ErrorAnswer,
  JournalEntry,
  LeaseAnswer,
  ReleasesAnswer,
  RollbackAnswer,
  StatusAnswer,
  SyncAnswer,
  TunablesAnswer,
} from '../core/contracts/api.js';
import { GitopsError, isErrorCode } from '../core/errors.js';
import type { TunableValue } from '../core/tunables/annotation.js';

/** The agent's refusal: a GitopsError with its code, and the error answer as the agent sent it. */
export class AgentRefusal extends GitopsError {
  constructor(
    readonly answer: Partial<ErrorAnswer> & Pick<ErrorAnswer, 'code'>,
    readonly status: number,
    message: string,
    hint: string,
  ) {
    super(answer.code, message, hint, answer.diagnostics ? { diagnostics: answer.diagnostics } : {});
  }
}

/** What PUT /api/v1/tunables/{path} takes: the value, a time to live (seconds or "30m"; absent: the field's default) and why. */
export interface LeaseBody {
  value: TunableValue;
  ttl?: number | string;
  reason: string;
}

export interface AgentApi {
  status(): Promise<StatusAnswer>;
  /** The journal's entries, newest first; what an older agent answered that is not an entry is left out. */
  journal(query: { limit: string; event?: string }): Promise<JournalEntry[]>;
  releases(): Promise<ReleasesAnswer>;
  diff(query: { from?: string; to?: string }): Promise<DiffAnswer>;
  sync(): Promise<SyncAnswer>;
  rollback(body: { to: string; reason?: string }): Promise<RollbackAnswer>;
  /** The running configuration, or one value of it; with `explain`, every tunable field's runtime layers. */
  config(query: { path?: string; explain?: boolean }): Promise<ConfigAnswer>;
  /** GET /api/v1/tunables: the tunable fields, their layers and leases, and the governor. */
  getTunables(): Promise<TunablesAnswer>;
  /** An operator lease on `path` (operator token); a refusal is an AgentRefusal with the agent's code. */
  setLease(path: string, body: LeaseBody): Promise<LeaseAnswer>;
  /** Clears the operator lease on `path` (operator token). */
  clearLease(path: string): Promise<LeaseAnswer>;
}

const TIMEOUT_MS = 120_000;

/** The API of the agent at `url`, with a bearer token when one is given. */
export function agentApi(url: string, token: string | undefined): AgentApi {
  async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let r: Response;
    try {
      r = await fetch(new URL(path, url), {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new GitopsError(
        'agent-unreachable',
        `cannot reach the agent at ${url}: ${cause}`,
        'is the agent running? give its address with --url or DOORBELL_AGENT_URL',
        { cause: e },
      );
    }
    const text = await r.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new GitopsError(
        'agent-answer',
        `the agent at ${url} answered HTTP ${r.status} with something that is not JSON`,
        "is --url the agent's API address?",
        { cause: e },
      );
    }
    if (!r.ok) {
      const p = (typeof json === 'object' && json !== null ? json : {}) as Partial<ErrorAnswer>;
      throw new AgentRefusal(
        { ...p, code: isErrorCode(p.code) ? p.code : 'agent-error' },
        r.status,
        `the agent refused: ${p.message ?? `HTTP ${r.status}`}`,
        p.hint ?? '',
      );
    }
    return json as T;
  }
  // empty values are left out, as if not given
  const query = (q: Record<string, string | undefined>): string =>
    new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => Boolean(e[1]))).toString();
  return {
    status: () => call<StatusAnswer>('GET', '/api/v1/status'),
    journal: async (q) => {
      const answer = await call<unknown>('GET', `/api/v1/journal?${query(q)}`);
      return (Array.isArray(answer) ? answer : []).filter(
        (e): e is JournalEntry => typeof e === 'object' && e !== null && !Array.isArray(e),
      );
    },
    releases: () => call<ReleasesAnswer>('GET', '/api/v1/releases'),
    diff: (q) => call<DiffAnswer>('GET', `/api/v1/diff?${query(q)}`),
    sync: () => call<SyncAnswer>('POST', '/api/v1/sync'),
    rollback: (body) => call<RollbackAnswer>('POST', '/api/v1/rollback', body),
    config: (q) =>
      call<ConfigAnswer>('GET', `/api/v1/config?${query({ path: q.path, explain: q.explain ? '1' : undefined })}`),
    getTunables: () => call<TunablesAnswer>('GET', '/api/v1/tunables'),
    setLease: (path, body) => call<LeaseAnswer>('PUT', `/api/v1/tunables/${encodeURIComponent(path)}`, body),
    clearLease: (path) => call<LeaseAnswer>('DELETE', `/api/v1/tunables/${encodeURIComponent(path)}`),
  };
}

/**
 * A release as the operator typed it. The agent takes a watch-mode id (tree-...) only whole, and
 * the client prints it short: a shortened one is completed from the agent's list of releases.
 */
export async function completeReleaseName(api: AgentApi, name: string | undefined): Promise<string | undefined> {
  if (name === undefined || !/^tree-[0-9a-f]{1,15}$/.test(name)) return name;
  const matches = (await api.releases()).map((r) => r.commit).filter((c) => c.startsWith(name));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0)
    throw new GitopsError('release-unknown', `no release ${name} on this device`, 'gitops agent releases lists them');
  throw new GitopsError('bad-release', `"${name}" names ${matches.length} releases`, 'give more digits of the id');
}

/** The API token in `file`, trimmed. */
export function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new GitopsError(
      'usage',
      `cannot read the token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'give --token-file with a file holding an API token',
      { cause: e },
    );
  }
}

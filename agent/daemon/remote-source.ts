// Remote mode: fetch the branch, check the candidate against the history policy with the
// device's trust root, then hand its tree to the agent.

import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { commitHeaders, splitCommit } from '../core/trust/git-object.js';
import { verifyRange } from '../core/trust/history.js';
import type { TrustStore } from '../core/trust/verify-object.js';
import { DEFAULT_SKEW_SECONDS, verifyCommitObject } from '../core/trust/verify-object.js';
import { GitStore } from '../io/git-store.js';
import type { FetchResult } from '../io/git-sync.js';
import { readCommitFiles } from '../io/git-tree.js';
import type { Agent, CycleResult } from './agent.js';
import type { AgentSettings } from './settings.js';

export class RemoteSource {
  readonly gitdir: string;
  /** The fetched objects, kept across syncs with isomorphic-git's cache; compacted to what `kept()` reaches. */
  readonly store: GitStore;

  constructor(
    private readonly agent: Agent,
    private readonly settings: AgentSettings,
    private readonly trust: TrustStore,
  ) {
    this.gitdir = join(settings.state_dir, 'repo.git');
    this.store = new GitStore(this.gitdir);
  }

  /** The commits whose objects the device keeps: what runs, the releases it may return to, the anchor. */
  private kept(): Array<string | null | undefined> {
    const state = this.agent.state;
    return [state.applied, state.last_good, ...state.good, this.settings.trust.anchor_commit];
  }

  /** One sync: fetch, and when there is a new commit, verify and apply it; then drop what is not kept. Network errors throw. */
  async sync(trigger: string): Promise<CycleResult | undefined> {
    const s = this.settings;
    const t0 = performance.now();
    const token = s.remote.token_file ? readFileSync(s.remote.token_file, 'utf8').trim() : undefined;
    const state = this.agent.state;
    const fetched = await this.store.fetch({
      url: s.remote.url,
      branch: s.remote.branch,
      ...(token ? { token } : {}),
      maxBytes: s.remote.max_fetch_mb * 1024 * 1024,
      timeoutMs: s.remote.fetch_timeout_seconds * 1000,
      have: state.applied ?? s.trust.anchor_commit ?? null,
      known: state.bad,
    });
    try {
      return await this.consider(fetched, trigger, { fetch: Math.round((performance.now() - t0) * 10) / 10 });
    } finally {
      // pruned and compacted after the answer; the next fetch and every read wait for it
      this.store.settleLater(fetched, this.kept(), (e) =>
        this.agent.options.log?.(`object store: ${(e as Error).message}`),
      );
    }
  }

  private async consider(
    fetched: FetchResult,
    trigger: string,
    steps: Record<string, number>,
  ): Promise<CycleResult | undefined> {
    const s = this.settings;
    const candidate = fetched.commit;
    const state = this.agent.state;
    if (candidate === state.applied || state.bad.includes(candidate)) {
      state.last_sync = {
        time: this.agent.clock.now().toISOString(),
        trigger,
        result: candidate === state.applied ? 'up to date' : `known bad commit ${candidate.slice(0, 12)}, not retried`,
      };
      this.agent.store.writeState(state);
      return undefined;
    }
    const reader = this.store.reader();
    const raw = await reader.read(candidate);
    const split = raw ? splitCommit(raw.bytes) : undefined;
    const message = split?.payload.toString('utf8').split('\n\n').slice(1).join('\n\n') ?? '';
    const subject = message.split('\n')[0] ?? '';
    const time = split ? commitHeaders(split.payload).headers?.committer.time : undefined;
    const committed_at = time === undefined ? undefined : new Date(time * 1000).toISOString();
    const base = state.applied ?? s.trust.anchor_commit;
    const t1 = performance.now();
    if (!base) {
      return this.agent.refuseCandidate(
        { commit: candidate, subject, trigger, steps },
        'policy',
        'no commit has been applied and no trust.anchor_commit is pinned: the first sync needs an anchor',
        false,
      );
    }
    const verdict = await verifyRange(reader, base, candidate, this.trust, {
      now: this.unixNow(),
      skewSeconds: DEFAULT_SKEW_SECONDS,
      mode: s.trust.mode,
    });
    steps.verify = Math.round((performance.now() - t1) * 10) / 10;
    const signer = verdict.commits.find((c) => c.oid === candidate)?.signer ?? null;
    // a commit dated in the future (the device's clock is behind, no RTC) is refused for now and
    // tried again at the next sync, never marked bad for ever
    if (verdict.verdict !== 'trusted')
      return this.agent.refuseCandidate(
        { commit: candidate, subject, signer, trigger, steps },
        verdict.code ?? verdict.verdict,
        verdict.reason,
        !verdict.retryable,
      );
    const t2 = performance.now();
    // an oversized or unreadable file is a located stand-in that validation refuses (core/repo-file.ts)
    const files = await readCommitFiles(this.gitdir, candidate, { cache: this.store.cache });
    steps.read = Math.round((performance.now() - t2) * 10) / 10;
    return this.agent.apply(files, {
      commit: candidate,
      subject,
      signer,
      trigger,
      steps,
      ...(committed_at ? { committed_at } : {}),
    });
  }

  /** The device's wall time in seconds: signatures are judged at it. */
  private unixNow(): number {
    return Math.floor(this.agent.clock.now().getTime() / 1000);
  }

  /** Why a commit of the local history no longer verifies (before an operator's rollback to it), or undefined when it does. */
  async verifyCommit(commit: string): Promise<string | undefined> {
    const raw = await this.store.reader().read(commit);
    if (!raw || raw.type !== 'commit') return `commit ${commit.slice(0, 12)} is not in the local history`;
    const v = await verifyCommitObject('commit', commit, raw.bytes, this.trust, {
      now: this.unixNow(),
      skewSeconds: DEFAULT_SKEW_SECONDS,
    });
    return v.verdict === 'trusted' ? undefined : `${v.verdict}: ${v.reason}`;
  }
}

// Remote mode: fetch the ref the device follows (the environment's branch, or its wave's ref:
// core/rollout/follow.ts); the candidate is its head. Opened, it is checked against the
// history policy with the device's trust root, and its tree is read for the agent.

import { join } from 'node:path';
import { commitHeaders, splitCommit } from '../core/trust/git-object.js';
import { verifyRange } from '../core/trust/history.js';
import type { TrustStore } from '../core/trust/verify-object.js';
import { DEFAULT_SKEW_SECONDS, verifyCommitObject } from '../core/trust/verify-object.js';
import { parse } from 'yaml';
import { GitopsError, verdictErrorCode } from '../core/errors.js';
import { deviceFile, environmentFile } from '../core/repo/layout.js';
import { followedRef, needsDeclaration } from '../core/rollout/follow.js';
import type { Following } from '../core/rollout/follow.js';
import { IMPLICIT_WAVE } from '../core/rollout/waves.js';
import { GitStore } from '../io/git-store.js';
import type { FetchResult } from '../io/git-sync.js';
import { readCommitFile, readCommitFiles } from '../io/git-tree.js';
import type { Clock } from '../io/clock.js';
import type { CandidateInfo } from './agent.js';
import type { AgentSettings } from './settings.js';
import { followSettings } from './settings.js';
import type { Candidate, Opened, Source } from './source.js';
import { waveNotReached } from './source.js';
import type { RepoFiles } from '../core/repo/layout.js';
import type { StateView } from './state.js';

export interface RemoteIo {
  /** The remote's access token, read at each sync (it may be rotated). */
  readToken(file: string): string;
  clock: Pick<Clock, 'now' | 'monotonic'>;
  log: (line: string) => void;
  /**
   * The files of commits read before, by commit id (a commit's id is its content). A process that
   * hosts many agents of one fleet (the fleet simulation) shares one, so that each commit's tree
   * is read once, not once per agent; an agent alone has none.
   */
  commitFiles?: Map<string, Promise<RepoFiles>>;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

export class RemoteSource implements Source {
  readonly retriesBadAtStart = false;
  readonly gitdir: string;
  /** The fetched objects, kept across syncs with isomorphic-git's cache; compacted to what `kept()` reaches. */
  readonly store: GitStore;
  /** The ref derived from a release's rollout, by the commit it was read from. */
  private derived: { commit: string; following: Following } | undefined;

  constructor(
    private readonly state: () => StateView,
    private readonly settings: AgentSettings,
    private readonly trust: TrustStore,
    private readonly io: RemoteIo,
  ) {
    this.gitdir = join(settings.state_dir, 'repo.git');
    this.store = new GitStore(this.gitdir);
  }

  /** The commits whose objects the device keeps: what runs, the releases it may return to, the anchor. */
  private kept(): Array<string | null | undefined> {
    const state = this.state();
    return [state.applied, state.last_good, ...state.good, this.settings.trust.anchor_commit];
  }

  /** Fetches the ref the device follows: its head is the candidate. Network errors throw. */
  async next(trigger: string): Promise<Candidate> {
    const s = this.settings;
    const t0 = this.io.clock.monotonic();
    const state = this.state();
    const following = await this.following(state.applied);
    let fetched: FetchResult;
    try {
      fetched = await this.fetch(following.branch);
    } catch (e) {
      // a wave the rollout has not reached yet: nothing to try, and nothing wrong with the remote
      if (!(e instanceof GitopsError && e.code === 'ref-missing' && following.wave !== IMPLICIT_WAVE)) throw e;
      return waveNotReached(state.applied, following, s.environment);
    }
    const steps = { fetch: round(this.io.clock.monotonic() - t0) };
    return {
      id: fetched.commit,
      following,
      open: () => this.open(fetched.commit, trigger, steps),
      // pruned and compacted after the cycle; the next fetch and every read wait for it
      settle: () =>
        this.store.settleLater(fetched, this.kept(), (e) => this.io.log(`object store: ${(e as Error).message}`)),
    };
  }

  private fetch(branch: string): Promise<FetchResult> {
    const s = this.settings;
    const state = this.state();
    const token = s.remote.token_file ? this.io.readToken(s.remote.token_file) : undefined;
    return this.store.fetch({
      url: s.remote.url,
      branch,
      ...(token ? { token } : {}),
      maxBytes: s.remote.max_fetch_mb * 1024 * 1024,
      timeoutMs: s.remote.fetch_timeout_seconds * 1000,
      have: state.applied ?? s.trust.anchor_commit ?? null,
      known: [...state.bad],
    });
  }

  /**
   * The ref to fetch: from the settings alone, or from the rollout declared in the release that
   * runs (read once per release); before the first apply, from the branch's head (follow.ts says
   * why that head need not be verified first).
   */
  async following(applied: string | null): Promise<Following> {
    const s = this.settings;
    const settings = followSettings(s);
    if (!needsDeclaration(settings)) return followedRef(settings);
    const from = applied ?? (await this.fetch(s.remote.branch)).commit;
    if (this.derived?.commit !== from) {
      const read = async (path: string): Promise<unknown> => {
        const text = await readCommitFile(this.gitdir, from, path, { cache: this.store.cache });
        try {
          return text === undefined ? undefined : parse(text);
        } catch {
          return undefined; // a document that does not parse declares nothing
        }
      };
      const documents = {
        environment: await read(environmentFile(s.environment)),
        device: await read(deviceFile(s.environment, s.device_id)),
      };
      this.derived = { commit: from, following: followedRef(settings, documents) };
    }
    return this.derived.following;
  }

  /** The candidate verified from what runs (or the anchor) and read, or why it is refused. */
  private async open(candidate: string, trigger: string, steps: Record<string, number>): Promise<Opened> {
    const s = this.settings;
    const reader = this.store.reader();
    const raw = await reader.read(candidate);
    const split = raw ? splitCommit(raw.bytes) : undefined;
    const message = split?.payload.toString('utf8').split('\n\n').slice(1).join('\n\n') ?? '';
    const subject = message.split('\n')[0] ?? '';
    const time = split ? commitHeaders(split.payload).headers?.committer.time : undefined;
    const committed_at = time === undefined ? undefined : new Date(time * 1000).toISOString();
    const base = this.state().applied ?? s.trust.anchor_commit;
    const info: CandidateInfo = { commit: candidate, subject, trigger, steps };
    if (!base)
      return {
        refused: {
          info,
          code: 'policy',
          reason: 'no commit has been applied and no trust.anchor_commit is pinned: the first sync needs an anchor',
          markBad: false,
        },
      };
    const t1 = this.io.clock.monotonic();
    const verdict = await verifyRange(reader, base, candidate, this.trust, {
      now: this.unixNow(),
      skewSeconds: DEFAULT_SKEW_SECONDS,
      mode: s.trust.mode,
    });
    steps.verify = round(this.io.clock.monotonic() - t1);
    info.signer = verdict.commits.find((c) => c.oid === candidate)?.signer ?? null;
    // the pinned anchor itself is not in the range verified from it: its own signature names its signer
    if (info.signer === null && candidate === base && raw) {
      const own = await verifyCommitObject(candidate, candidate, raw.bytes, this.trust, {
        now: this.unixNow(),
        skewSeconds: DEFAULT_SKEW_SECONDS,
      });
      if (own.verdict === 'trusted') info.signer = own.signer ?? null;
    }
    // a commit dated in the future (the device's clock is behind, no RTC) is refused for now and
    // tried again at the next sync, never marked bad for ever
    if (verdict.verdict !== 'trusted')
      return {
        refused: {
          info,
          code: verdictErrorCode(verdict.verdict, verdict.code),
          reason: verdict.reason,
          markBad: !verdict.retryable,
        },
      };
    const t2 = this.io.clock.monotonic();
    // an oversized or unreadable file is a located stand-in that validation refuses (core/repo/file.ts)
    // the read itself is shared, not only its result: agents of one process ask at the same time
    const reading =
      this.io.commitFiles?.get(candidate) ?? readCommitFiles(this.gitdir, candidate, { cache: this.store.cache });
    this.io.commitFiles?.set(candidate, reading);
    const files = await reading.catch((e: unknown) => {
      this.io.commitFiles?.delete(candidate);
      throw e;
    });
    steps.read = round(this.io.clock.monotonic() - t2);
    return { files, info: { ...info, ...(committed_at ? { committed_at } : {}) } };
  }

  /** The device's wall time in seconds: signatures are judged at it. */
  private unixNow(): number {
    return Math.floor(this.io.clock.now().getTime() / 1000);
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

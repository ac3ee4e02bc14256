// The agent's side of its cycle worker (cycle-worker.ts): a preparer and a remote source that
// do their heavy work there, so that the long-lived process never loads the git client, the
// signature verifiers, the parser's and validators' working sets or the decrypter. A remote
// poll asks the branch's commit with one small request here (io/git-http.ts) and starts the
// worker only when that commit is new; the worker ends 15 s after its last call (remote mode:
// a burst of commits shares one) or stays warm between edits for 10 minutes (watch mode).

import type { HardwareProfile } from '../core/config/types.js';
import { GitopsError } from '../core/errors.js';
import { followedRef, needsDeclaration } from '../core/rollout/follow.js';
import type { Following } from '../core/rollout/follow.js';
import { IMPLICIT_WAVE } from '../core/rollout/waves.js';
import { registerValues } from '../io/redactor.js';
import { branchHead, refMissing } from '../io/git-http.js';
import type { RemoteSession } from '../io/git-http.js';
import { Isolate } from '../io/isolate.js';
import type { Redactor } from '../io/redactor.js';
import type { CycleWorkerData, OpenRemoteInput, PrepareAnswer } from './cycle-worker.js';
import type { Preparer } from './prepare.js';
import type { AgentSettings } from './settings.js';
import { followSettings } from './settings.js';
import type { Candidate, Opened, Source } from './source.js';
import { waveNotReached } from './source.js';
import type { StateView } from './state.js';

/** The worker's heap limit: a candidate (or a remote) that needs more is refused, the agent stays. */
export const CYCLE_WORKER_LIMITS = { maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 8 };

/**
 * How long a worker outlives its last call: a burst of commits (or of edits) is applied by one
 * warm worker, and an agent with nothing to do holds none. A start costs about half a second of
 * module loading (npm run bench: the cold cycle).
 */
export const CYCLE_WORKER_IDLE_MS = { remote: 15_000, watch: 600_000 };

/**
 * The cycle worker of an agent. DOORBELL_CYCLE_WORKER_HEAP_MB and DOORBELL_CYCLE_WORKER_IDLE_MS
 * (in the agent's environment) change its heap limit and its idle time.
 */
export function cycleWorker(data: CycleWorkerData, log: (line: string) => void): Isolate {
  const heap = Number(data.env.DOORBELL_CYCLE_WORKER_HEAP_MB);
  return new Isolate({
    entry: new URL('./cycle-worker.js', import.meta.url),
    resourceLimits: heap > 0 ? { ...CYCLE_WORKER_LIMITS, maxOldGenerationSizeMb: heap } : CYCLE_WORKER_LIMITS,
    workerData: data,
    log,
    idleMs: Number(data.env.DOORBELL_CYCLE_WORKER_IDLE_MS) || CYCLE_WORKER_IDLE_MS[data.watchMode ? 'watch' : 'remote'],
  });
}

/** Prepares candidates in the worker; the hardware is probed here (the agent watches it). */
export function isolatedPreparer(
  worker: Isolate,
  redactor: Redactor,
  hardwareProfile: () => Promise<HardwareProfile>,
): Preparer {
  return async (files, step) => {
    const profile = await step('probe', () => hardwareProfile());
    const answer = await worker.call<PrepareAnswer>('prepare', { files, profile });
    if (answer.secrets) registerValues(redactor, answer.secrets);
    return { ...answer.prepared, steps: answer.steps };
  };
}

/** Remote mode from the long-lived process: a ref check here, the rest of the cycle in the worker. */
export class IsolatedRemoteSource implements Source {
  readonly retriesBadAtStart = false;
  private readonly session: RemoteSession = {};
  /** The ref derived from a release's rollout, by the commit it was read from (asked of the worker). */
  private derived: { commit: string | null; following: Following } | undefined;

  constructor(
    private readonly worker: Isolate,
    private readonly state: () => StateView,
    private readonly settings: AgentSettings,
    private readonly readToken: (file: string) => string,
  ) {}

  private async following(state: StateView): Promise<Following> {
    const settings = followSettings(this.settings);
    if (!needsDeclaration(settings)) return followedRef(settings);
    // before the first apply the head of the branch says: not cached, it moves
    if (this.derived === undefined || this.derived.commit !== state.applied || state.applied === null) {
      const following = await this.worker.call<Following>('following', { state });
      this.derived = { commit: state.applied, following };
    }
    return this.derived.following;
  }

  async next(trigger: string): Promise<Candidate> {
    const s = this.settings;
    const state = this.state();
    const following = await this.following(state);
    const token = s.remote.token_file ? this.readToken(s.remote.token_file) : undefined;
    const head = await branchHead({
      url: s.remote.url,
      branch: following.branch,
      ...(token ? { token } : {}),
      timeoutMs: s.remote.fetch_timeout_seconds * 1000,
      maxBytes: s.remote.max_fetch_mb * 1024 * 1024,
      session: this.session,
    });
    if (head === undefined) {
      if (following.wave === IMPLICIT_WAVE) throw refMissing(following.branch);
      // a wave the rollout has not reached yet: nothing to try, and nothing wrong with the remote
      return waveNotReached(state.applied, following, s.environment);
    }
    let opened = false;
    const commit = head;
    return {
      id: commit,
      following,
      open: async (): Promise<Opened> => {
        opened = true;
        const input: OpenRemoteInput = { state: this.state(), trigger, expected: commit };
        try {
          return await this.worker.call<Opened>('openRemote', input);
        } catch (e) {
          // a commit whose history or objects exhaust the worker is refused, like one too large to fetch
          if (!(e instanceof GitopsError && e.code === 'cycle-limit' && e.retryable === false)) throw e;
          return { refused: { info: { commit, trigger }, code: e.code, reason: e.message, markBad: true } };
        }
      },
      // the object store is pruned and compacted in the worker (which ends when it has been idle a while)
      settle: () => {
        if (opened) void this.worker.call('settle', { state: this.state() }).catch(() => undefined);
      },
    };
  }

  /** Why a commit of the local history no longer verifies (before an operator's rollback), asked of a worker. */
  verifyCommit(commit: string): Promise<string | undefined> {
    return this.worker.call<string | undefined>('verifyCommit', { commit });
  }
}

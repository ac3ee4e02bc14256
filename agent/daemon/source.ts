// Where candidates come from: a remote (remote-source.ts) or a working tree (watch-source.ts).
// A source says which commit or tree it would run and, when asked, reads and checks it; it never
// writes the agent's state: whether there is anything to do is the agent's decision (agent.ts).

import type { RepoFiles } from '../core/repo/layout.js';
import type { ErrorCode } from '../core/errors.js';
import type { Following } from '../core/rollout/follow.js';
import type { CandidateInfo } from './agent.js';

export type Opened =
  | { files: RepoFiles; info: CandidateInfo }
  /** Refused before its configuration is looked at (signatures, history); `markBad`: never retried. */
  | { refused: { info: CandidateInfo; code: ErrorCode; reason: string; markBad: boolean } };

export interface Candidate {
  /** The commit (remote) or tree id (watch mode) this candidate would run. */
  id: string;
  open(): Promise<Opened>;
  /** Why there is nothing to try yet (the ref the device follows does not exist): the sync holds. */
  held?: string;
  /** The ref the device follows, for its state. */
  following?: { wave: string; ref: string };
  /** Called once the cycle is over, whatever it came to. */
  settle?(): void;
}

export interface Source {
  /** A refused or rolled-back candidate is tried again when the agent restarts (watch mode). */
  readonly retriesBadAtStart: boolean;
  next(trigger: string): Promise<Candidate>;
}

/** Watch mode's safety-net rescan every few seconds: not announced and not recorded unless it applies something. */
export const QUIET_TRIGGER = 'rescan';

/** The ref of a wave the rollout has not reached yet: nothing to try, and nothing wrong with the remote. */
export const waveNotReached = (applied: string | null, following: Following, environment: string): Candidate => ({
  id: applied ?? '',
  following,
  held:
    `the remote has no ${following.ref} yet: the rollout of ${environment} has not reached wave ${following.wave}` +
    ` (gitops rollout status --env ${environment})`,
  open: () => Promise.reject(new Error('nothing to open')),
});

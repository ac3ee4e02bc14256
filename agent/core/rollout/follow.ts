// Which ref a device follows (DESIGN.md section 10, issue 15): the environment's branch, or the
// ref of its wave, derived from its settings and from the rollout its environment declares in
// the commit it runs. Pure: the agent reads the two documents, this decides.
//
// The declaration read is the one of the release that runs (validated when it was applied); on a
// first sync there is none, and the branch's head is read instead. That head is not verified at
// that point, and need not be: it only chooses which ref to fetch, and whatever that ref points
// at is verified like any candidate (signed, descendant of the anchor) before it is used.

import { isObject } from '../json/value.js';
import { bakeSeconds } from './check.js';
import { assignWave, IMPLICIT_WAVE, waveRef } from './waves.js';
import type { Wave } from './waves.js';

export interface Following {
  /** The wave (all: the environment's branch, no rollout). */
  wave: string;
  /** The branch name fetched: `main`, or `rollout/<env>/<wave>`. */
  branch: string;
  /** The full ref: refs/heads/<branch>. */
  ref: string;
  /** How the wave was found. */
  by: 'branch' | 'settings' | 'cohort' | 'bucket';
}

export interface FollowSettings {
  environment: string;
  device: string;
  /** The environment's branch (remote.branch). */
  branch: string;
  follow: 'auto' | 'branch';
  /** remote.wave: an explicit wave. */
  wave?: string | undefined;
}

const onBranch = (branch: string): Following => ({
  wave: IMPLICIT_WAVE,
  branch,
  ref: `refs/heads/${branch}`,
  by: 'branch',
});

const onWave = (environment: string, wave: string, by: Following['by']): Following => {
  const ref = waveRef(environment, wave);
  return { wave, branch: ref.slice('refs/heads/'.length), ref, by };
};

/** Whether the answer needs the documents at all (it does only for a derived wave). */
export function needsDeclaration(s: FollowSettings): boolean {
  return s.follow === 'auto' && s.wave === undefined;
}

/** The rollout an environment document declares, when it is well-formed enough to assign waves. */
function declaredWaves(environmentDoc: unknown): { seed: string; waves: Wave[] } | undefined {
  if (!isObject(environmentDoc) || !isObject(environmentDoc.rollout)) return undefined;
  const { seed, waves } = environmentDoc.rollout;
  if (typeof seed !== 'string' || !Array.isArray(waves) || waves.length === 0) return undefined;
  const parsed: Wave[] = [];
  for (const w of waves) {
    if (!isObject(w) || typeof w.name !== 'string') return undefined;
    parsed.push({
      name: w.name,
      share: typeof w.share === 'number' ? w.share : 0,
      bakeSeconds: bakeSeconds(w.bake ?? 0),
    });
  }
  return { seed, waves: parsed };
}

/**
 * The ref to follow: the branch when the settings say so or the environment declares no rollout;
 * the wave of `remote.wave`; else the wave of the device's cohort or bucket.
 */
export function followedRef(s: FollowSettings, documents?: { environment?: unknown; device?: unknown }): Following {
  if (s.follow === 'branch') return onBranch(s.branch);
  if (s.wave !== undefined) return onWave(s.environment, s.wave, 'settings');
  const rollout = declaredWaves(documents?.environment);
  if (!rollout) return onBranch(s.branch);
  const meta = isObject(documents?.device) && isObject(documents.device.device) ? documents.device.device : undefined;
  const cohort = typeof meta?.cohort === 'string' ? meta.cohort : undefined;
  const a = assignWave(rollout, { id: s.device, cohort });
  return onWave(s.environment, a.wave, a.by);
}

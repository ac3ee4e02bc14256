// Fleet pooling of trial summaries (`gitops tune report`): per hardware model, the per-candidate
// means that many devices report, with a simple hierarchical model (Chameleon's cross-camera
// reuse; the doc's "per-class mean plus per-device offset"): value = candidate effect + device
// offset + noise, fitted by alternating means, so that a device that runs hotter than its peers
// does not bias the candidates it happened to try. Each candidate gets its estimate, a 95 %
// interval from the spread between devices (normal approximation: with few devices it is too
// narrow, and a candidate needs `minDevices` to be named best), and the evidence table.

import { probit } from 'simple-statistics';
import { mean } from './space.js';
import type { Direction } from './types.js';

/** What one device reports for one candidate (doorbell_tuning_trial and doorbell_tuning_trials). */
export interface TrialSummary {
  model: string;
  device: string;
  candidate: string;
  /** The objective's mean over the candidate's feasible trials on the device; null when none was feasible. */
  mean: number | null;
  /** Feasible trials behind the mean. */
  trials: number;
  /** Trials that failed a constraint or were aborted. */
  failed: number;
}

export interface PooledCandidate {
  candidate: string;
  devices: number;
  trials: number;
  failed: number;
  /** Share of the candidate's trials that failed. */
  failed_share: number;
  /** Device-adjusted mean; null without a feasible trial. */
  estimate: number | null;
  /** 95 % interval; null with fewer than two devices. */
  ci: [number, number] | null;
}

export interface PooledModel {
  model: string;
  candidates: PooledCandidate[];
  /** The best candidate with enough devices and few enough failures, if any. */
  best: PooledCandidate | undefined;
  /** Why there is no best (or which it is), for people. */
  verdict: string;
  /** The evidence table (Markdown) for the pull request. */
  table: string;
}

export interface PoolOptions {
  direction: Direction;
  /** Devices a candidate needs to be named best (default 3). */
  minDevices?: number;
  /** Largest share of failed trials of a candidate named best (default 0.1). */
  maxFailedShare?: number;
}

const fmt = (x: number | null): string => (x === null ? '–' : Number(x.toPrecision(4)).toString());

export function poolTrials(summaries: readonly TrialSummary[], o: PoolOptions): PooledModel[] {
  const minDevices = o.minDevices ?? 3;
  const maxFailed = o.maxFailedShare ?? 0.1;
  const z = probit(0.975);
  const models = [...new Set(summaries.map((s) => s.model))].sort();
  return models.map((model) => {
    const rows = summaries.filter((s) => s.model === model);
    const feasible = rows.filter((r) => r.mean !== null && r.trials > 0);
    const names = [...new Set(rows.map((r) => r.candidate))].sort();
    // alternating means: candidate effects, then device offsets (centred), a few rounds
    const offset = new Map<string, number>();
    let effect = new Map<string, number>();
    for (let round = 0; round < 20; round++) {
      effect = new Map(
        names.map((c) => {
          const rs = feasible.filter((r) => r.candidate === c);
          return [c, rs.length > 0 ? mean(rs.map((r) => r.mean! - (offset.get(r.device) ?? 0))) : NaN];
        }),
      );
      const devices = [...new Set(feasible.map((r) => r.device))];
      const raw = devices.map((d) => {
        const rs = feasible.filter((r) => r.device === d);
        return [d, mean(rs.map((r) => r.mean! - effect.get(r.candidate)!))] as const;
      });
      const centre = raw.length > 0 ? mean(raw.map(([, v]) => v)) : 0;
      for (const [d, v] of raw) offset.set(d, v - centre);
    }
    const candidates: PooledCandidate[] = names.map((candidate) => {
      const rs = rows.filter((r) => r.candidate === candidate);
      const fs = rs.filter((r) => r.mean !== null && r.trials > 0);
      const adjusted = fs.map((r) => r.mean! - (offset.get(r.device) ?? 0));
      const trials = rs.reduce((s, r) => s + r.trials, 0);
      const failed = rs.reduce((s, r) => s + r.failed, 0);
      const estimate = adjusted.length > 0 ? mean(adjusted) : null;
      let ci: [number, number] | null = null;
      if (estimate !== null && adjusted.length > 1) {
        const sd = Math.sqrt(adjusted.reduce((s, v) => s + (v - estimate) ** 2, 0) / (adjusted.length - 1));
        const half = (z * sd) / Math.sqrt(adjusted.length);
        ci = [estimate - half, estimate + half];
      }
      return {
        candidate,
        devices: new Set(rs.map((r) => r.device)).size,
        trials,
        failed,
        failed_share: trials + failed > 0 ? failed / (trials + failed) : 0,
        estimate,
        ci,
      };
    });
    const sign = o.direction === 'maximize' ? -1 : 1;
    const eligible = candidates.filter(
      (c) => c.estimate !== null && c.devices >= minDevices && c.failed_share <= maxFailed,
    );
    const best = eligible.sort((a, b) => sign * (a.estimate! - b.estimate!))[0];
    const verdict = best
      ? `best: ${best.candidate} (${fmt(best.estimate)} over ${best.devices} devices)`
      : `no candidate has ${minDevices} devices with at most ${Math.round(maxFailed * 100)} % failed trials yet`;
    const table = [
      `| candidate | devices | trials | failed | estimate | 95 % interval |`,
      `| --- | ---: | ---: | ---: | ---: | --- |`,
      ...[...candidates]
        .sort((a, b) => sign * ((a.estimate ?? sign * Infinity) - (b.estimate ?? sign * Infinity)))
        .map(
          (c) =>
            `| ${c.candidate}${c === best ? ' (best)' : ''} | ${c.devices} | ${c.trials} | ${c.failed} | ${fmt(c.estimate)} | ` +
            `${c.ci ? `${fmt(c.ci[0])} .. ${fmt(c.ci[1])}` : '–'} |`,
        ),
    ].join('\n');
    return { model, candidates, best, verdict, table };
  });
}

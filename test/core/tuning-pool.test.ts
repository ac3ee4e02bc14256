// Fleet pooling of trial summaries: device offsets are taken out (a hot device that tried only
// the good candidate does not make it look bad), a candidate needs enough devices and few failed
// trials to be named best, and the evidence table lists every candidate.

import { describe, expect, it } from 'vitest';
import { poolTrials } from '../../agent/core/tuning/pool.js';
import type { TrialSummary } from '../../agent/core/tuning/pool.js';

const row = (
  device: string,
  candidate: string,
  mean: number | null,
  trials = 2,
  failed = 0,
  model = 'edge-p4-c920',
): TrialSummary => ({
  model,
  device,
  candidate,
  mean,
  trials,
  failed,
});

describe('poolTrials', () => {
  it('takes device offsets out, names the best with enough devices, and writes the evidence table', () => {
    const rows: TrialSummary[] = [];
    const offsets = { a: 0, b: 0.1, c: -0.05, d: 0.3 };
    const truth = { 'size=256': 0.3, 'size=320': 0.4, 'size=416': 0.6 };
    for (const [device, off] of Object.entries(offsets))
      for (const [candidate, v] of Object.entries(truth))
        if (!(device === 'd' && candidate !== 'size=256')) rows.push(row(device, candidate, v + off));
    // d (hot) tried only size=256 and once more alone: its offset cannot be told from the candidate's
    const [p4] = poolTrials(rows, { direction: 'minimize' });
    expect(p4!.best?.candidate).toBe('size=256');
    const e = Object.fromEntries(p4!.candidates.map((c) => [c.candidate, c.estimate!]));
    expect(e['size=320']! - e['size=256']!).toBeCloseTo(0.1, 1);
    expect(p4!.table.split('\n')).toHaveLength(2 + 3);
    expect(p4!.table).toContain('size=256 (best)');
  });

  it('names no best without enough devices or with too many failed trials, and pools per model', () => {
    const rows = [
      row('a', 'x', 1),
      row('b', 'x', 1.1),
      row('a', 'y', 0.5, 1, 3),
      row('b', 'y', 0.6, 1, 3),
      row('r', 'x', 2, 2, 0, 'rpi4-camv2'),
    ];
    const pooled = poolTrials(rows, { direction: 'minimize', minDevices: 2 });
    expect(pooled.map((p) => p.model)).toEqual(['edge-p4-c920', 'rpi4-camv2']);
    expect(pooled[0]!.best?.candidate).toBe('x'); // y is faster but fails 3 of 4 trials
    expect(pooled[1]!.best).toBeUndefined();
    expect(pooled[1]!.verdict).toMatch(/no candidate has 2 devices/);
  });
});

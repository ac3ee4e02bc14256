// The switchback schedule (agent/core/experiments/switchback.ts): epoch-aligned blocks, each
// (device, block) drawn by the weights from its own seed, deterministic; each arm's share of
// blocks converges to its weight; a washout only after a switch; the next switch and the next
// change where the schedule says; and deviceExperiments carries the schedule of a switchback
// experiment the device is in (armAt then gives its arm per time).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { armAt, deviceExperiments } from '../../agent/core/experiments/device.js';
import { gbHash } from '../../agent/core/experiments/hash.js';
import {
  blockMs,
  blockOf,
  blockSeed,
  blockVariant,
  HOUR_MS,
  measuredBlocks,
  measuredMs,
  switchbackArm,
  switchedAt,
} from '../../agent/core/experiments/switchback.js';
import type { SwitchbackSchedule } from '../../agent/core/experiments/switchback.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { edit, exampleFiles } from '../helpers/project.js';

const schedule = (over: Partial<SwitchbackSchedule> = {}): SwitchbackSchedule => ({
  device: 'dev-1',
  seed: 'sb-1',
  hash_version: 2,
  block_hours: 6,
  washout_minutes: 30,
  variants: [
    { name: 'control', weight: 0.5, set: {} },
    { name: 'low', weight: 0.5, set: { 'motion.sensitivity': 0.45 } },
  ],
  ...over,
});

const T0 = Date.parse('2026-12-01T00:00:00Z');
const weightsArb = fc
  .array(fc.integer({ min: 1, max: 50 }), { minLength: 2, maxLength: 5 })
  .map((raw) => raw.map((w) => w / raw.reduce((a, b) => a + b, 0)));

describe('switchback schedule', () => {
  it('blocks are aligned to the Unix epoch and each block is GrowthBook v2 of the device with seed <seed>/block/<k>', () => {
    const s = schedule();
    expect(blockMs(s)).toBe(6 * HOUR_MS);
    expect(blockOf(s, 0)).toBe(0);
    expect(blockOf(s, 6 * HOUR_MS - 1)).toBe(0);
    expect(blockOf(s, 6 * HOUR_MS)).toBe(1);
    expect(blockOf(s, T0)).toBe(T0 / (6 * HOUR_MS));
    expect(blockSeed('sb-1', 12)).toBe('sb-1/block/12');
    for (let k = 0; k < 50; k++)
      expect(blockVariant(s, 'dev-1', k)).toBe(gbHash(`sb-1/block/${k}`, 'dev-1', 2) < 0.5 ? 0 : 1);
  });

  it('is deterministic: the same (schedule, time) gives the same answer, every time', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 2 ** 42 }), (device, at) => {
        const s = schedule({ device });
        expect(switchbackArm(s, at)).toEqual(switchbackArm({ ...s, variants: [...s.variants] }, at));
      }),
    );
  });

  it("respects the weights over many blocks and devices (each arm's share of blocks within 1 % of its weight)", () => {
    const s = schedule({
      variants: [
        { name: 'a', weight: 0.2, set: {} },
        { name: 'b', weight: 0.3, set: {} },
        { name: 'c', weight: 0.5, set: {} },
      ],
    });
    const counts = [0, 0, 0];
    const first = blockOf(s, T0);
    for (let d = 0; d < 200; d++) for (let k = first; k < first + 500; k++) counts[blockVariant(s, `dev-${d}`, k)]!++;
    const total = 200 * 500;
    counts.forEach((c, i) => expect(Math.abs(c / total - [0.2, 0.3, 0.5][i]!)).toBeLessThan(0.01));
    // each device sees every arm: it is its own control
    for (let d = 0; d < 20; d++) {
      const seen = new Set<number>();
      for (let k = first; k < first + 60; k++) seen.add(blockVariant(s, `dev-${d}`, k));
      expect(seen.size).toBe(3);
    }
  });

  it('a washout only in the first washout_minutes of a block whose arm differs from the previous one', () => {
    fc.assert(
      fc.property(
        weightsArb,
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 12 * HOUR_MS - 1 }),
        (weights, hours, washout, k, offset) => {
          const s = schedule({
            block_hours: hours,
            washout_minutes: washout,
            variants: weights.map((weight, i) => ({ name: `v${i}`, weight, set: {} })),
          });
          const at = (blockOf(s, T0) + k) * blockMs(s) + (offset % blockMs(s));
          const arm = switchbackArm(s, at);
          const switched = switchedAt(s, s.device, arm.block);
          expect(arm.blockStartMs).toBeLessThanOrEqual(at);
          expect(arm.blockEndMs).toBeGreaterThan(at);
          expect(arm.washout).toBe(switched && at - arm.blockStartMs < washout * 60_000);
          expect(arm.washoutEndMs).toBe(arm.blockStartMs + (switched ? washout * 60_000 : 0));
        },
      ),
    );
  });

  it('the next switch is the start of the next block with another arm, and the next change the washout end or that', () => {
    fc.assert(
      fc.property(
        weightsArb,
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 59 }),
        (weights, k, m) => {
          const s = schedule({
            block_hours: 1,
            washout_minutes: 20,
            variants: weights.map((weight, i) => ({ name: `v${i}`, weight, set: {} })),
          });
          const at = (blockOf(s, T0) + k) * HOUR_MS + m * 60_000;
          const arm = switchbackArm(s, at);
          if (arm.nextSwitchMs === null) return;
          const next = blockOf(s, arm.nextSwitchMs);
          expect(arm.nextSwitchMs).toBe(next * HOUR_MS);
          expect(blockVariant(s, s.device, next)).not.toBe(arm.variant);
          for (let j = arm.block; j < next; j++) expect(blockVariant(s, s.device, j)).toBe(arm.variant);
          expect(arm.nextChangeMs).toBe(arm.washout ? arm.blockStartMs + 20 * 60_000 : arm.nextSwitchMs);
          // at the switch, the new arm with a washout
          const after = switchbackArm(s, arm.nextSwitchMs);
          expect(after).toMatchObject({ block: next, washout: 20 > 0, washoutEndMs: next * HOUR_MS + 20 * 60_000 });
          expect(switchbackArm(s, arm.nextSwitchMs - 1).variant).toBe(arm.variant);
        },
      ),
    );
  });

  it('one arm of weight 1 never switches: no washout, no next switch', () => {
    const s = schedule({
      variants: [
        { name: 'control', weight: 1, set: {} },
        { name: 'low', weight: 0, set: {} },
      ],
    });
    expect(switchbackArm(s, T0)).toMatchObject({ variant: 0, washout: false, nextSwitchMs: null, nextChangeMs: null });
  });

  it('measures the tail of every block that lies within the analysis window', () => {
    const s = schedule({ block_hours: 1, washout_minutes: 15 });
    expect(measuredMs(s)).toBe(45 * 60_000);
    // start 10 minutes into block k: the tail of k starts at 15 minutes, so k counts
    const k = blockOf(s, T0);
    expect(measuredBlocks(s, T0 + 10 * 60_000, T0 + 5 * HOUR_MS + 1)).toEqual({ first: k, last: k + 4 });
    expect(measuredBlocks(s, T0 + 20 * 60_000, T0 + 5 * HOUR_MS)).toEqual({ first: k + 1, last: k + 4 });
    expect(measuredBlocks(s, T0, T0 + 30 * 60_000).last).toBeLessThan(measuredBlocks(s, T0, T0).first);
  });
});

describe('deviceExperiments with a switchback design', () => {
  const FILE = 'experiments/motion-sensitivity.yaml';
  // every production device in (no namespace): both example devices run the schedule
  const files = edit(
    edit(
      exampleFiles(),
      FILE,
      'design: { type: between }',
      'design: { type: switchback, block_hours: 6, washout_minutes: 30 }',
    ),
    FILE,
    'namespace: { name: motion, range: [0, 0.5] }\n',
    '',
  );
  const repo = openRepository(files);

  it('carries the schedule for a device in, none for one out; armAt gives the block arm per time', () => {
    const all = ['prod-berlin-001', 'prod-hamburg-002'].map(
      (d) => [d, deviceExperiments(repo, 'production', d)[0]!] as const,
    );
    expect(all.filter(([, e]) => e.switchback).length).toBe(2);
    for (const [device, e] of all) {
      if (e.variant === null) {
        expect(e.switchback).toBeUndefined();
        expect(armAt(e, T0)).toEqual({ variant: null, set: {} });
        continue;
      }
      expect(e.switchback).toEqual({
        device,
        seed: 'motion-sensitivity-1',
        hash_version: 2,
        block_hours: 6,
        washout_minutes: 30,
        variants: [
          { name: 'control', weight: 0.5, set: {} },
          { name: 'low', weight: 0.5, set: { 'motion.sensitivity': 0.45 } },
        ],
      });
      for (let k = 0; k < 8; k++) {
        const at = T0 + k * 6 * HOUR_MS + 1;
        const arm = armAt(e, at);
        const v = blockVariant(e.switchback!, device, blockOf(e.switchback!, at));
        expect(arm.variant).toBe(['control', 'low'][v]);
        expect(arm.set).toEqual(v === 1 ? { 'motion.sensitivity': 0.45 } : {});
        expect(arm.switchback?.block).toBe(blockOf(e.switchback!, at));
      }
    }
  });

  it('the between design carries no schedule and armAt is the assigned variant', () => {
    const between = openRepository(exampleFiles());
    for (const d of ['prod-berlin-001', 'prod-hamburg-002']) {
      const e = deviceExperiments(between, 'production', d)[0]!;
      expect(e.switchback).toBeUndefined();
      expect(armAt(e, T0)).toEqual({ variant: e.variant, set: e.set });
    }
  });
});

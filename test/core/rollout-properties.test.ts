// Property tests (fast-check) of wave assignment (agent/core/rollout/waves.ts): the assignment is a
// pure function of the seed and the device id; the waves' ranges cover [0, 1) once and their shares
// add up to 100; growing the share of a wave never moves a device of that wave or an earlier one (no
// device moves to an earlier wave because a wave after it grew), and no device ever moves to a later
// wave (whose ref is behind) because a wave grew: devices of later waves only move up, to the grown
// wave at the earliest.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignWave, planRollout, waveRanges } from '../../agent/core/rollout/waves.js';
import type { Wave } from '../../agent/core/rollout/waves.js';

const deviceId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,30}$/);
const seed = fc.stringMatching(/^[!-~]{1,40}$/);

/** 2 to 6 waves: every one but the last with a share (in hundredths of a percent) adding up to at most 100. */
const wavesArb: fc.Arbitrary<Wave[]> = fc
  .array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 5 })
  .filter((shares) => shares.reduce((a, b) => a + b, 0) <= 10_000)
  .map((shares) => {
    const named = shares.map((s, i) => ({ name: `w${i}`, share: s / 100, bakeSeconds: 60 }));
    const rest = 100 - named.reduce((a, w) => a + w.share, 0);
    return [...named, { name: `w${shares.length}`, share: rest, bakeSeconds: 0 }];
  });

const indexOf = (waves: readonly Wave[], name: string): number => waves.findIndex((w) => w.name === name);

describe('wave assignment', () => {
  it('is a pure function of seed and id: the same alone, twice, or among other devices', () => {
    fc.assert(
      fc.property(seed, wavesArb, fc.array(deviceId, { minLength: 1, maxLength: 20 }), (s, waves, ids) => {
        const rollout = { seed: s, waves };
        const together = planRollout(
          'env',
          { ...rollout, gates: {} },
          ids.map((id) => ({ id })),
        );
        ids.forEach((id, i) => {
          const alone = assignWave(rollout, { id });
          expect(assignWave(rollout, { id })).toEqual(alone);
          expect(together.devices[i]).toMatchObject({ device: id, wave: alone.wave, bucket: alone.bucket });
          expect(alone.bucket).toBeGreaterThanOrEqual(0);
          expect(alone.bucket).toBeLessThan(1);
        });
        // reversed order: the same answers
        const reversed = planRollout(
          'env',
          { ...rollout, gates: {} },
          [...ids].reverse().map((id) => ({ id })),
        );
        expect([...reversed.devices].reverse()).toEqual(together.devices);
      }),
    );
  });

  it('ranges cover [0, 1) once, in wave order, and the shares add up to 100', () => {
    fc.assert(
      fc.property(wavesArb, (waves) => {
        const ranges = waveRanges(waves);
        expect(ranges[0]!.from).toBe(0);
        expect(ranges[ranges.length - 1]!.to).toBe(1);
        for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.from).toBe(ranges[i - 1]!.to);
        for (const r of ranges) expect(r.to).toBeGreaterThanOrEqual(r.from);
        const plan = planRollout('env', { seed: 's', waves, gates: {} }, []);
        expect(plan.waves.reduce((a, w) => a + w.share, 0)).toBeCloseTo(100, 6);
      }),
    );
  });

  it('growing a wave never moves a device of it or of an earlier wave, and moves no device to a later wave', () => {
    fc.assert(
      fc.property(
        seed,
        wavesArb,
        fc.nat(),
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(deviceId, { minLength: 1, maxLength: 30 }),
        (s, waves, pick, grow, ids) => {
          const j = pick % (waves.length - 1); // a wave before the last, whose growth the last gives up
          const room = waves[waves.length - 1]!.share;
          const delta = Math.min(grow / 100, room);
          const grown = waves.map((w, i) =>
            i === j ? { ...w, share: w.share + delta } : i === waves.length - 1 ? { ...w, share: room - delta } : w,
          );
          for (const id of ids) {
            const before = indexOf(waves, assignWave({ seed: s, waves }, { id }).wave);
            const after = indexOf(grown, assignWave({ seed: s, waves: grown }, { id }).wave);
            // a device of the wave that grew or of an earlier one stays: a later wave's growth never moves it
            if (before <= j) expect(after).toBe(before);
            // a device of a later wave may move up (its range shifted), never to a later wave, nor before j
            expect(after).toBeLessThanOrEqual(before);
            expect(after).toBeGreaterThanOrEqual(Math.min(before, j));
          }
        },
      ),
    );
  });

  it('a cohort naming a wave puts the device there whatever the shares', () => {
    fc.assert(
      fc.property(seed, wavesArb, deviceId, fc.nat(), (s, waves, id, pick) => {
        const cohort = waves[pick % waves.length]!.name;
        expect(assignWave({ seed: s, waves }, { id, cohort })).toMatchObject({ wave: cohort, by: 'cohort' });
      }),
    );
  });
});

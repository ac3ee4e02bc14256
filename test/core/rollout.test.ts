// Waves of a staged rollout (agent/core/rollout): the bucket hash and its known values, wave
// assignment by cohort and by bucket, the plan, and what validation refuses about a rollout (shares,
// names, cohorts) with its file and line, on the example repository edited in memory.

import { describe, expect, it } from 'vitest';
import { bucketOf, fmix32, fnv1a32 } from '../../agent/core/rollout/bucket.js';
import {
  assignWave,
  countByWave,
  planRollout,
  waveOfBucket,
  waveRanges,
  waveRef,
} from '../../agent/core/rollout/waves.js';
import { readRollout } from '../../agent/core/rollout/check.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import type { Diagnostic } from '../../agent/core/validate/diagnostics.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { edit, exampleFiles } from '../helpers/project.js';

const files = exampleFiles();
const PROD = 'environments/production/environment.yaml';
const diagnosticsOf = (changed: Map<string, string>, code: string): Diagnostic[] =>
  validateRepository(changed, { environments: ['production'] }).diagnostics.filter((d) => d.code === code);
const lineOf = (changed: Map<string, string>, file: string, text: string): number =>
  changed
    .get(file)!
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;

describe('the bucket', () => {
  it('FNV-1a 32 gives its published values; fmix32 is MurmurHash3 finalizer', () => {
    // the FNV reference vectors (http://www.isthe.com/chongo/src/fnv/test_fnv.c): "", "a", "foobar"
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
  });

  it('is fmix32(fnv1a32(seed + ":" + id)) / 2^32, in [0, 1), and spreads sequential ids evenly', () => {
    expect(bucketOf('production-1', 'prod-berlin-001')).toBe(fmix32(fnv1a32('production-1:prod-berlin-001')) / 2 ** 32);
    const bins = new Array<number>(10).fill(0);
    let canary = 0;
    for (let i = 0; i < 10_000; i++) {
      const b = bucketOf('production-1', `door-${String(i).padStart(5, '0')}`);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(1);
      bins[Math.floor(b * 10)]!++;
      if (b < 0.02) canary++;
    }
    // chi-square with 9 degrees of freedom: 27.9 is p = 0.001
    const chi = bins.reduce((a, n) => a + (n - 1000) ** 2 / 1000, 0);
    expect(chi).toBeLessThan(27.9);
    expect(canary).toBeGreaterThan(150);
    expect(canary).toBeLessThan(250);
  });

  it('depends on the seed', () => {
    expect(bucketOf('a', 'door-1')).not.toBe(bucketOf('b', 'door-1'));
  });
});

describe('waves', () => {
  const waves = [
    { name: 'canary', share: 2, bakeSeconds: 7200 },
    { name: 'early', share: 20, bakeSeconds: 43_200 },
    { name: 'stable', share: 78, bakeSeconds: 0 },
  ];

  it('take consecutive ranges of the bucket by cumulative share; the last ends at 1', () => {
    expect(waveRanges(waves)).toEqual([
      { name: 'canary', from: 0, to: 0.02 },
      { name: 'early', from: 0.02, to: 0.22 },
      { name: 'stable', from: 0.22, to: 1 },
    ]);
    const ranges = waveRanges(waves);
    expect([0, 0.0199, 0.02, 0.2199, 0.22, 0.999].map((b) => waveOfBucket(ranges, b))).toEqual([
      'canary',
      'canary',
      'early',
      'early',
      'stable',
      'stable',
    ]);
  });

  it('a cohort naming a wave wins over the bucket; one naming no wave leaves the bucket to decide', () => {
    const rollout = { seed: 's', waves };
    const byBucket = assignWave(rollout, { id: 'door-1' });
    expect(byBucket.by).toBe('bucket');
    expect(assignWave(rollout, { id: 'door-1', cohort: 'canary' })).toEqual({
      wave: 'canary',
      bucket: byBucket.bucket,
      by: 'cohort',
    });
    expect(assignWave(rollout, { id: 'door-1', cohort: 'nope' })).toEqual(byBucket);
  });

  it('a wave follows refs/heads/rollout/<env>/<wave>', () => {
    expect(waveRef('production', 'canary')).toBe('refs/heads/rollout/production/canary');
  });

  it('an environment without a rollout has one implicit wave, all, with no bucket and no ref of its own', () => {
    const plan = planRollout('development', undefined, [{ id: 'dev-bench-01', cohort: 'canary' }]);
    expect(plan).toEqual({
      environment: 'development',
      declared: false,
      waves: [{ name: 'all', share: 100, bake: 0 }],
      devices: [{ device: 'dev-bench-01', wave: 'all', bucket: null, ref: null, by: null }],
    });
    expect(countByWave(plan)).toEqual([{ wave: 'all', devices: 1 }]);
  });
});

describe('the example rollout', () => {
  it('production declares canary 2 %, early 20 % and stable (the rest), with bakes in seconds', () => {
    const read = readRollout(openRepository(files), 'production');
    expect(read.kind).toBe('declared');
    if (read.kind !== 'declared') return;
    expect(read.problems).toEqual([]);
    expect(read.rollout.waves).toEqual([
      { name: 'canary', share: 2, bakeSeconds: 7200 },
      { name: 'early', share: 20, bakeSeconds: 43_200 },
      { name: 'stable', share: 78, bakeSeconds: 0 },
    ]);
    expect(read.rollout.gates.canary).toEqual({ maxRolledBack: 0, maxRefusing: 1 });
    const plan = planRollout('production', read.rollout, [
      { id: 'prod-berlin-001', cohort: 'canary' },
      { id: 'prod-hamburg-002', cohort: 'stable' },
    ]);
    expect(plan.devices.map((d) => [d.device, d.wave, d.by, d.ref])).toEqual([
      ['prod-berlin-001', 'canary', 'cohort', 'refs/heads/rollout/production/canary'],
      ['prod-hamburg-002', 'stable', 'cohort', 'refs/heads/rollout/production/stable'],
    ]);
  });

  it('development declares none', () => {
    expect(readRollout(openRepository(files), 'development').kind).toBe('none');
  });

  it('the example validates with its rollouts, with no rollout diagnostics', () => {
    const report = validateRepository(files);
    expect(report.valid).toBe(true);
    expect(report.diagnostics.filter((d) => d.code.startsWith('rollout-'))).toEqual([]);
  });
});

describe('validation of a rollout', () => {
  it('shares before the last adding up to more than 100 %', () => {
    const changed = edit(files, PROD, 'share: 20', 'share: 99');
    const [d, ...more] = diagnosticsOf(changed, 'rollout-shares-over');
    expect(more).toEqual([]);
    expect(d).toMatchObject({
      severity: 'error',
      file: PROD,
      line: lineOf(changed, PROD, 'share: 99'),
      path: 'rollout.waves.1.share',
    });
  });

  it('a last wave whose share is given but does not make 100 %', () => {
    const lastShare = (share: number): Map<string, string> =>
      edit(
        files,
        PROD,
        '    - name: stable\n      bake: 0',
        `    - name: stable\n      share: ${share}\n      bake: 0`,
      );
    const changed = lastShare(50);
    const [d] = diagnosticsOf(changed, 'rollout-shares-sum');
    expect(d).toMatchObject({
      file: PROD,
      line: lineOf(changed, PROD, 'share: 50'),
      hint: expect.stringContaining('78'),
    });
    expect(diagnosticsOf(lastShare(78), 'rollout-shares-sum')).toEqual([]);
  });

  it('a wave but the last without a share', () => {
    const changed = edit(files, PROD, '      share: 20\n', '');
    const [d] = diagnosticsOf(changed, 'rollout-share-missing');
    expect(d).toMatchObject({ file: PROD, path: 'rollout.waves.1', line: lineOf(changed, PROD, 'name: early') });
  });

  it('waves before the last taking everything leave the last one empty (a warning)', () => {
    const changed = edit(files, PROD, 'share: 20', 'share: 98');
    expect(diagnosticsOf(changed, 'rollout-empty-wave')).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'rollout.waves.2' }),
    ]);
    expect(validateRepository(changed, { environments: ['production'] }).valid).toBe(true);
  });

  it('a wave name used twice', () => {
    const changed = edit(files, PROD, 'name: early', 'name: canary');
    const [d] = diagnosticsOf(changed, 'rollout-duplicate-wave');
    expect(d).toMatchObject({ file: PROD, line: lineOf(changed, PROD, 'share: 20') - 1, path: 'rollout.waves.1.name' });
  });

  it('gates for a wave the rollout does not have', () => {
    const gateOf = (wave: string): Map<string, string> =>
      edit(files, PROD, '    no_data: hold', `    no_data: hold\n    waves:\n      ${wave}:\n        max_refusing: 0`);
    const changed = gateOf('canery');
    const [d] = diagnosticsOf(changed, 'rollout-unknown-wave');
    expect(d).toMatchObject({ file: PROD, line: lineOf(changed, PROD, 'canery:'), suggestion: 'canary' });
    const right = gateOf('canary');
    expect(diagnosticsOf(right, 'rollout-unknown-wave')).toEqual([]);
    const read = readRollout(openRepository(right), 'production');
    expect(read.kind === 'declared' && read.rollout.gates).toEqual({
      canary: { maxRolledBack: 0, maxRefusing: 0 },
      early: { maxRolledBack: 0, maxRefusing: 1 },
      stable: { maxRolledBack: 0, maxRefusing: 1 },
    });
  });

  it('a device whose cohort names no wave, at its line in the device file', () => {
    const file = 'environments/production/devices/prod-hamburg-002.yaml';
    const changed = edit(files, file, 'cohort: stable', 'cohort: stabel');
    const [d, ...more] = diagnosticsOf(changed, 'rollout-unknown-cohort');
    expect(more).toEqual([]);
    expect(d).toMatchObject({
      severity: 'error',
      file,
      line: lineOf(changed, file, 'cohort: stabel'),
      path: 'device.cohort',
      suggestion: 'stable',
    });
  });

  it('a cohort in an environment without a rollout is not checked', () => {
    const file = 'environments/development/devices/dev-bench-01.yaml';
    const changed = edit(files, file, 'cohort: canary', 'cohort: whatever');
    expect(
      validateRepository(changed, { environments: ['development'] }).diagnostics.filter((d) =>
        d.code.startsWith('rollout-'),
      ),
    ).toEqual([]);
  });

  it('the schema refuses a bad rollout (no seed, a bake that is no duration, the reserved name all); the rollout checks then stay silent', () => {
    for (const [from, to] of [
      ['  seed: production-1\n', ''],
      ['bake: 2h', 'bake: two hours'],
      ['name: early', 'name: all'],
      ['share: 2\n', 'share: 0\n'],
    ] as const) {
      const changed = edit(files, PROD, from, to);
      const report = validateRepository(changed, { environments: ['production'] });
      expect(report.valid, `${from} -> ${to}`).toBe(false);
      expect(
        report.diagnostics.filter((d) => d.file === PROD && d.code.startsWith('schema')).length,
        `${from} -> ${to}`,
      ).toBeGreaterThan(0);
      expect(report.diagnostics.filter((d) => d.code.startsWith('rollout-'))).toEqual([]);
      expect(readRollout(openRepository(changed), 'production').kind).toBe('invalid');
    }
  });
});

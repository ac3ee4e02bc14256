// Which ref a device follows (core/rollout/follow.ts): the settings first, then the rollout the
// running release declares; the same wave and ref as `gitops rollout plan` computes in CI.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { followedRef, needsDeclaration } from '../../agent/core/rollout/follow.js';
import { planRollout } from '../../agent/core/rollout/waves.js';

const settings = { environment: 'production', device: 'prod-berlin-001', branch: 'main', follow: 'auto' as const };
const environment = {
  rollout: {
    seed: 'production-1',
    waves: [
      { name: 'canary', share: 2, bake: '2h' },
      { name: 'early', share: 20, bake: '12h' },
      { name: 'stable', bake: 0 },
    ],
  },
};

describe('the ref a device follows', () => {
  it('the branch when the settings say so or no rollout is declared; an explicit wave wins over the declaration', () => {
    expect(followedRef({ ...settings, follow: 'branch' }, { environment })).toEqual({
      wave: 'all',
      branch: 'main',
      ref: 'refs/heads/main',
      by: 'branch',
    });
    expect(followedRef(settings, { environment: { name: 'production' } })).toMatchObject({
      wave: 'all',
      branch: 'main',
    });
    expect(followedRef(settings)).toMatchObject({ wave: 'all', branch: 'main' });
    expect(followedRef({ ...settings, wave: 'early' }, { environment })).toEqual({
      wave: 'early',
      branch: 'rollout/production/early',
      ref: 'refs/heads/rollout/production/early',
      by: 'settings',
    });
    expect(needsDeclaration(settings)).toBe(true);
    expect(needsDeclaration({ ...settings, wave: 'early' })).toBe(false);
    expect(needsDeclaration({ ...settings, follow: 'branch' })).toBe(false);
  });

  it('a cohort naming a wave puts the device there; a rollout that is not well-formed declares nothing', () => {
    expect(followedRef(settings, { environment, device: { device: { cohort: 'canary' } } })).toMatchObject({
      wave: 'canary',
      by: 'cohort',
    });
    for (const bad of [
      { rollout: { seed: 1, waves: [] } },
      { rollout: { seed: 's', waves: [{ share: 2 }] } },
      { rollout: 'x' },
    ])
      expect(followedRef(settings, { environment: bad })).toMatchObject({ wave: 'all', by: 'branch' });
  });

  it('for any device id, the wave and ref gitops rollout plan shows', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}$/), (id) => {
        const plan = planRollout(
          'production',
          {
            seed: 'production-1',
            waves: [
              { name: 'canary', share: 2, bakeSeconds: 7200 },
              { name: 'early', share: 20, bakeSeconds: 43_200 },
              { name: 'stable', share: 0, bakeSeconds: 0 },
            ],
            gates: {},
          },
          [{ id }],
        );
        const f = followedRef({ ...settings, device: id }, { environment, device: { device: { id } } });
        expect({ wave: f.wave, ref: f.ref }).toEqual({ wave: plan.devices[0]!.wave, ref: plan.devices[0]!.ref });
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { dependencyOrder, planChanges } from '../../agent/core/change/plan.js';
import { render } from '../../agent/core/config/render.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { edit, exampleFiles } from '../helpers/project.js';

const configOf = (files: Map<string, string>) =>
  render(openRepository(files), { environment: 'production', device: 'prod-berlin-001' }).config;

describe('the apply plan', () => {
  it('a first apply reconfigures every component, dependencies first', () => {
    const plan = planChanges(undefined, configOf(exampleFiles()));
    expect(plan.components).toEqual(['capture', 'detector', 'logging', 'notifier', 'recorder', 'web']);
    expect(plan.components.indexOf('capture')).toBeLessThan(plan.components.indexOf('detector'));
    expect(plan.components.indexOf('detector')).toBeLessThan(plan.components.indexOf('notifier'));
  });

  it('only the components consuming a changed section are reconfigured', () => {
    const before = configOf(exampleFiles());
    const after = configOf(edit(exampleFiles(), 'config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.7'));
    expect(planChanges(before, after)).toEqual({ changedSections: ['motion'], components: ['capture'] });
    const detectors = configOf(
      edit(exampleFiles(), 'config/detectors.yaml', 'confidence_threshold: 0.6', 'confidence_threshold: 0.65'),
    );
    expect(planChanges(before, detectors)).toEqual({ changedSections: ['detectors'], components: ['detector'] });
    expect(planChanges(before, before)).toEqual({ changedSections: [], components: [] });
  });

  it('a changed component definition reconfigures that component', () => {
    const before = configOf(exampleFiles());
    const after = configOf(edit(exampleFiles(), 'config/components.yaml', 'bake_seconds: 15', 'bake_seconds: 30'));
    expect(planChanges(before, after).components).toEqual(['detector']);
  });

  it('a dependency cycle is refused', () => {
    expect(() =>
      dependencyOrder(
        { a: { sections: ['motion'], depends_on: ['b'] }, b: { sections: ['motion'], depends_on: ['a'] } },
        new Set(['a']),
      ),
    ).toThrow(expect.objectContaining({ code: 'component-cycle', message: expect.stringContaining('a -> b -> a') }));
  });
});

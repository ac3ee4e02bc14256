// Secret values checked against the configuration schema before they are written.

import { describe, expect, it } from 'vitest';
import { isEnvironmentSecretsFile, secretValueProblems } from '../../../agent/core/sops/secret-values.js';
import { fromPlain } from '../../../agent/core/sops/tree.js';
import type { MapNode } from '../../../agent/core/sops/tree.js';
import { exampleFiles } from '../../helpers/project.js';

const FILE = 'environments/production/secrets.sops.yaml';
const tree = (value: unknown): MapNode[] => [fromPlain(value) as MapNode];

describe('secretValueProblems', () => {
  it('none for values that fit the schema; a required property elsewhere is not asked for', () => {
    expect(
      secretValueProblems(FILE, exampleFiles(), tree({ frame_capture: { username: 'door', password: 's3cret' } })),
    ).toEqual([]);
  });

  it('one line per value that does not fit', () => {
    const problems = secretValueProblems(FILE, exampleFiles(), tree({ frame_capture: { fps: 'fast' } }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('fps');
  });

  it('only an environment’s secrets file is checked; schemas that do not compile are said so', () => {
    expect(
      secretValueProblems('other/secrets.sops.yaml', exampleFiles(), tree({ frame_capture: { fps: 'x' } })),
    ).toEqual([]);
    expect(isEnvironmentSecretsFile(FILE)).toBe(true);
    expect(isEnvironmentSecretsFile('environments/production/devices/secrets.sops.yaml')).toBe(false);
    const broken = new Map(exampleFiles()).set('schemas/config.schema.json', '{ not json');
    expect(secretValueProblems(FILE, broken, tree({}))).toEqual([
      'the repository schemas do not compile; run gitops validate',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { environmentsRequiringSignedCommits } from '../../agent/core/validate/signing.js';

const repo = (envs: Record<string, string | undefined>): Map<string, string> =>
  new Map(
    Object.entries(envs).flatMap(([env, text]) => [
      [`environments/${env}/overrides.yaml`, 'version: 2\n'],
      ...(text === undefined ? [] : [[`environments/${env}/environment.yaml`, text] as [string, string]]),
    ]),
  );

describe('environmentsRequiringSignedCommits', () => {
  it('reads the parsed policy, not the text: a comment or another key saying it does not count', () => {
    const files = repo({
      dev: 'version: 2\nname: dev\n# require_signed_commits: true\npolicy:\n  require_signed_commits: false\n',
      prod: 'version: 2\nname: prod\npolicy:\n  require_signed_commits: true\n',
      lab: 'version: 2\nname: lab\ndescription: "require_signed_commits: true"\npolicy: { require_signed_commits: false }\n',
    });
    expect(environmentsRequiringSignedCommits(files)).toEqual(['prod']);
  });

  it('applies the policy default (required) when the policy, the file or a readable document is missing', () => {
    const files = repo({
      silent: 'version: 2\nname: silent\npolicy: {}\n',
      nopolicy: 'version: 2\nname: nopolicy\n',
      broken: 'version: 2\npolicy: [unclosed\n',
      absent: undefined,
      off: 'version: 2\npolicy:\n  require_signed_commits: false\n',
    });
    expect(environmentsRequiringSignedCommits(files)).toEqual(['absent', 'broken', 'nopolicy', 'silent']);
  });

  it('a repository without environments requires nothing', () => {
    expect(environmentsRequiringSignedCommits(new Map([['config/a.yaml', 'a: 1\n']]))).toEqual([]);
  });
});

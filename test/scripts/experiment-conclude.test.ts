// gitops experiment conclude, through the built command, on a git repository with a bare remote,
// a real Prometheus holding the arms' series (a known CPU cut in `low`) and a local server
// answering like the GitHub API: the pull request writes the shipped value into the production
// overrides (comments kept), removes the experiment, carries the report as its evidence, and the
// branch validates; --dry-run touches nothing; a variant the verdict does not ship, an unknown
// one and a missing --ship are refused, the first unless --allow-without-verdict (the body says so).

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { concludeVerb } from '../../scripts/experiment-conclude.js';
import { gitops, gitopsAsync } from '../helpers/cli.js';
import { withCode } from '../helpers/codes.js';
import { EXPERIMENT, experimentRepo, pushArms } from '../helpers/experiment-fleet.js';
import { run } from '../helpers/git.js';
import type { Repo } from '../helpers/git.js';
import { tempDir } from '../helpers/project.js';
import { committedFleet, pullRecorder } from '../helpers/pull-requests.js';
import { usePrometheus } from '../helpers/prometheus.js';

const MIN = 60_000;
const now = Date.now();
const start = new Date(now - 30 * MIN);
const FILE = `experiments/${EXPERIMENT}.yaml`;
const OVERRIDES = 'environments/production/overrides.yaml';

describe('gitops experiment conclude', () => {
  const prom = usePrometheus();
  const { pulls, env } = pullRecorder(7);
  let repo: Repo;
  let origin = '';

  beforeAll(async () => {
    ({ repo, origin } = committedFleet((dir) => experimentRepo(80, start, dir)));
    await pushArms(repo.dir, prom(), now, { low: 0.05 });
  }, 90_000);

  const args = (...more: string[]): string[] => [
    'experiment',
    'conclude',
    EXPERIMENT,
    '--root',
    repo.dir,
    '--prometheus',
    prom().url,
    '--at',
    new Date(now).toISOString(),
    '--remote',
    'upstream',
    '--repo',
    'fleet/config',
    ...more,
  ];
  /** The working tree as committed, on main, with the branches of the pull requests opened so far and no other. */
  const untouched = (): void => {
    expect(repo.git(['status', '--porcelain'])).toBe('');
    expect(
      repo.git(['branch', '--list', '--format=%(refname:short)', 'experiment/*']).split('\n').filter(Boolean),
    ).toEqual(pulls.map((p) => p.head).sort());
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('main');
  };

  it('--dry-run prints the change and the body with the report, and touches nothing', async () => {
    const r = await gitopsAsync(args('--ship', 'low', '--dry-run'), { env: env() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`would write  ${OVERRIDES}`);
    expect(r.stdout).toContain(`would remove ${FILE}`);
    expect(r.stdout).toMatch(/~ motion\.sensitivity: 0\.6 -> 0\.45/);
    expect(r.stdout).toContain(`### Experiment \`${EXPERIMENT}\`: **ship low**`);
    expect(r.stdout).not.toContain("Shipped without the report's verdict");
    untouched();
    expect(pulls).toHaveLength(0);
  });

  it('opens the pull request: the value in the overrides (comments kept), the experiment removed, the report as evidence', async () => {
    const r = await gitopsAsync(args('--ship', 'low'), { env: env() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('opened https://github.example/fleet/config/pull/1');
    expect(pulls).toHaveLength(1);
    const pull = pulls[0]!;
    expect(pull).toMatchObject({ title: `experiment ${EXPERIMENT}: ship low`, base: 'main', draft: false });
    expect(pull.head).toMatch(new RegExp(`^experiment/${EXPERIMENT}-ship-low-`));
    expect(pull.body).toContain(`## Conclude experiment \`${EXPERIMENT}\`: ship \`low\``);
    expect(pull.body).toContain(`### Experiment \`${EXPERIMENT}\`: **ship low**`);
    expect(pull.body).toMatch(/^\| `low` \| \d+ \|/m);
    expect(pull.body).toContain('`motion.sensitivity` | `0.6` | `0.45`');
    const show = (path: string): string => run('git', ['--git-dir', origin, 'show', `${pull.head}:${path}`]).toString();
    expect(show(OVERRIDES)).toMatch(/^motion:\n {2}sensitivity: 0\.45$/m);
    expect(show(OVERRIDES)).toContain("# The residents' group chat; the bot token is in secrets.sops.yaml.");
    expect(run('git', ['--git-dir', origin, 'ls-tree', '-r', '--name-only', pull.head]).toString()).not.toContain(FILE);
    // the proposed tree validates
    const branch = join(tempDir('branch-'), 'tree');
    run('git', ['clone', '-q', '--branch', pull.head, origin, branch]);
    const validate = gitops(['validate', '--root', branch]);
    expect(validate.status, validate.stdout).toBe(0);
    untouched();
  });

  it('refuses a variant the verdict does not ship, an unknown variant and a missing --ship by code; a failed commit leaves nothing', async () => {
    const inProcess = (...more: string[]) => concludeVerb(EXPERIMENT, args(...more).slice(3));
    await expect(inProcess('--ship', 'control')).rejects.toThrow(withCode('experiment-no-verdict', 'ship low'));
    await expect(inProcess('--ship', 'lwo')).rejects.toThrow(withCode('unknown-variant', 'Did you mean "low"?'));
    await expect(inProcess()).rejects.toThrow(withCode('usage'));
    await expect(inProcess('--ship', 'low', '--repo', 'nope')).rejects.toThrow(withCode('usage'));
    const refused = await gitopsAsync(args('--ship', 'control'), { env: env() });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('--allow-without-verdict');
    expect((await gitopsAsync(args(), { env: env() })).status).toBe(2);
    // a commit git refuses (signing fails): the overrides and the experiment file put back, no branch left
    const unsigned = await gitopsAsync(args('--ship', 'low'), {
      env: {
        ...env(),
        GIT_CONFIG_COUNT: '2',
        GIT_CONFIG_KEY_0: 'commit.gpgsign',
        GIT_CONFIG_VALUE_0: 'true',
        GIT_CONFIG_KEY_1: 'gpg.program',
        GIT_CONFIG_VALUE_1: '/bin/false',
      },
    });
    expect(unsigned.status).toBe(1);
    expect(unsigned.stderr).toContain('git could not commit the change');
    untouched();
    expect(pulls).toHaveLength(1);
  });

  it('--allow-without-verdict ships the control arm (only the experiment removed) and the body says so', async () => {
    const r = await gitopsAsync(args('--ship', 'control', '--allow-without-verdict', '--draft'), { env: env() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(pulls).toHaveLength(2);
    const pull = pulls[1]!;
    expect(pull).toMatchObject({ title: `experiment ${EXPERIMENT}: ship control`, draft: true });
    expect(pull.body).toContain(
      "**Shipped without the report's verdict** (`--allow-without-verdict`): the report says ship low",
    );
    expect(pull.body).toContain('`control` sets nothing: the experiment is removed and nothing else changes.');
    const changed = run('git', ['--git-dir', origin, 'diff', '--name-status', 'main', pull.head]).toString().trim();
    expect(changed).toBe(`D\t${FILE}`);
    untouched();
  });
});

// The command line as operators expect it, through the real CLI: each command's JSON against its
// schema (schemas/cli/*.output.json) and the same data as YAML; the repository root found from a
// subdirectory; revisions as git reads them; gitops diff against the work tree; propose --dry-run
// and the refusal of an unsigned proposal; the completion scripts parsed by their shells.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { expectValid } from '../helpers/output-schemas.js';
import { makeRepo, signerLine, sshKey, trustDir } from '../helpers/git.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const alice = sshKey('ed25519', 'alice');

/** The example fleet, committed (signed by alice), with one more commit tagged v2. */
function fleet(): ReturnType<typeof makeRepo> {
  const repo = makeRepo();
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(repo.dir, sub), { recursive: true });
  repo.git(['add', '-A']);
  repo.git(['commit', '-q', '-m', 'fleet']);
  const motion = readFileSync(join(repo.dir, 'config/motion.yaml'), 'utf8');
  repo.commit('motion', {
    sign: alice,
    file: 'config/motion.yaml',
    content: motion.replace('sensitivity: 0.6', 'sensitivity: 0.7'),
  });
  repo.git(['tag', 'v2']);
  repo.git(['config', 'user.name', 'Ana']);
  repo.git(['config', 'user.email', 'ana@example.test']);
  return repo;
}
function edit(dir: string, file: string, from: string, to: string): void {
  const p = join(dir, file);
  const t = readFileSync(p, 'utf8');
  if (!t.includes(from)) throw new Error(`test setup: ${file} lacks ${from}`);
  writeFileSync(p, t.replace(from, to));
}

describe('JSON outputs and their schemas', () => {
  const repo = fleet();
  const trust = trustDir({ signers: [signerLine('alice@example.test', alice)] });
  const run = (args: string[]) => gitops([...args, '--root', repo.dir]);

  it('validate --summary --output json carries the summary; --format json and --json are the same; YAML is the same data', () => {
    const r = run(['validate', '--summary', '--output', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const data = expectValid('validate', r.stdout) as { summary: { targets: string[] }; targets: unknown[] };
    expect(data.summary.targets.length).toBe(data.targets.length);
    expect(data.summary.targets.some((t) => t.includes('prod-berlin-001'))).toBe(true);
    const strip = (s: string) => ({ ...(JSON.parse(s) as object), elapsed_ms: 0 });
    expect(strip(run(['validate', '--summary', '--format', 'json']).stdout)).toEqual(strip(r.stdout));
    expect(strip(run(['validate', '--summary', '--json']).stdout)).toEqual(strip(r.stdout));
    const yaml = run(['validate', '--summary', '--output', 'yaml']);
    expect({ ...(parseYaml(yaml.stdout) as object), elapsed_ms: 0 }).toEqual(strip(r.stdout));
    expect(run(['validate', '--output', 'json', '--format', 'text']).status).toBe(2);
  });

  it('diff, explain, audit, migrate: each JSON matches its schema', () => {
    expectValid('diff', run(['diff', '--base', 'HEAD~1', '--head', 'HEAD', '--output', 'json']).stdout);
    expectValid('explain', run(['explain', 'motion.sensitivity', '--env', 'production', '--output', 'json']).stdout);
    const audit = expectValid('audit', run(['audit', '--output', 'json', '--trust', trust]).stdout) as unknown[];
    expect(audit.length).toBeGreaterThan(0);
    expectValid('migrate', run(['migrate', '--check', '--output', 'json']).stdout);
  });

  it('verify prints JSON by default, and takes any revision git accepts: HEAD~1, a tag, a short id, a range of them', () => {
    const head = repo.git(['rev-parse', 'HEAD']);
    const verify = (...args: string[]) =>
      gitops(['verify', '--repo', repo.dir, '--trust', trust, '--now', '2030-01-01T00:00:00Z', ...args]);
    const objects = verify('HEAD~1', 'v2', head.slice(0, 8));
    const verdicts = expectValid('verify', objects.stdout) as Array<{ object: string; oid: string; verdict: string }>;
    expect(verdicts.map((v) => [v.object, v.verdict])).toEqual([
      ['HEAD~1', 'unsigned'],
      ['v2', 'unsigned'], // a lightweight tag
      [head.slice(0, 8), 'trusted'],
    ]);
    expect(verdicts[0]!.oid).toBe(repo.git(['rev-parse', 'HEAD~1']));
    const range = verify('--range', 'HEAD~1..v2');
    const result = expectValid('verify', range.stdout) as { verdict: string; candidate: string };
    expect(range.status).toBe(0);
    expect(result).toMatchObject({ verdict: 'trusted', candidate: head });
    expect(verify('--output', 'text', 'HEAD').stdout).toMatch(/^HEAD +trusted +alice@example\.test/);
  });
});

describe('the repository and the work tree', () => {
  it('finds the repository root from a subdirectory; --root still wins', () => {
    const repo = fleet();
    const sub = join(repo.dir, 'environments/production/devices');
    const r = gitops(['validate', '--output', 'json'], { cwd: sub });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { counts: { environments: number } }).counts.environments).toBe(3);
    const elsewhere = tempDir('not-a-repo-');
    mkdirSync(join(elsewhere, 'a/b'), { recursive: true });
    const lost = gitops(['validate'], { cwd: join(elsewhere, 'a/b') });
    expect(lost.status).toBe(1);
    expect(lost.stderr).toContain('has no config/, environments/ or schemas/ directory');
    expect(gitops(['validate', '--root', repo.dir], { cwd: join(elsewhere, 'a/b') }).status).toBe(0);
  });

  it('gitops diff with no revision compares HEAD with the work tree, staged and unstaged, and says so', () => {
    const repo = fleet();
    const clean = gitops(['diff'], { cwd: repo.dir });
    expect(clean.stdout).toMatch(/^comparing HEAD \([0-9a-f]{12}\) with the work tree/);
    edit(repo.dir, 'config/frame_capture.yaml', '  fps: 15', '  fps: 12'); // unstaged
    edit(repo.dir, 'config/motion.yaml', 'sensitivity: 0.7', 'sensitivity: 0.8');
    repo.git(['add', 'config/motion.yaml']); // staged
    const dirty = gitops(['diff', '--exit-code'], { cwd: repo.dir });
    expect(dirty.status).toBe(1);
    expect(dirty.stdout).toContain('frame_capture.fps: 15 -> 12');
    expect(dirty.stdout).toContain('motion.sensitivity: 0.7 -> 0.8');
    const json = gitops(['diff', '--output', 'json'], { cwd: repo.dir });
    const d = expectValid('diff', json.stdout) as { head: null; compared: { head: { work_tree: boolean } } };
    expect(d.head).toBeNull();
    expect(d.compared.head.work_tree).toBe(true);
    const tagged = gitops(['diff', '--base', 'v2~1', '--head', 'v2'], { cwd: repo.dir });
    expect(tagged.stdout).toMatch(/^comparing v2~1 \([0-9a-f]{12}\) with v2 \([0-9a-f]{12}\)/);
    expect(tagged.stdout).toContain('motion.sensitivity: 0.6 -> 0.7');
  });
});

describe('gitops propose', () => {
  const args = ['propose', '--env', 'production', '--device', 'prod-berlin-001', '--set', 'frame_capture.fps=18'];
  const env = { GIT_CONFIG_GLOBAL: '/dev/null' };

  it('--dry-run prints the diff and the validation and touches nothing', () => {
    const repo = fleet();
    const before = repo.git(['rev-list', '--count', '--all']);
    const r = gitops([...args, '--dry-run', '--root', repo.dir], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run: nothing is written, committed or pushed');
    expect(r.stdout).toContain('frame_capture.fps');
    expect(repo.git(['status', '--porcelain'])).toBe('');
    expect(repo.git(['branch', '--list', 'propose/*'])).toBe('');
    expect(repo.git(['rev-list', '--count', '--all'])).toBe(before);
  });

  it('refuses an unsigned commit to an environment that requires signed ones, unless --allow-unsigned', () => {
    const repo = fleet();
    const refused = gitops([...args, '--root', repo.dir], { env });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('requires signed commits');
    expect(refused.stderr).toContain('--allow-unsigned');
    expect(repo.git(['branch', '--list', 'propose/*'])).toBe('');
    // allowed: it goes on to commit (and fails only at the push: there is no origin)
    const allowed = gitops([...args, '--allow-unsigned', '--root', repo.dir], { env });
    expect(allowed.stderr).toContain('will not be signed');
    expect(repo.git(['branch', '--list', 'propose/*'])).toContain('propose/');
  });
});

describe('gitops completion', () => {
  const shells: Array<[string, string[]]> = [
    ['bash', ['-n']],
    ['zsh', ['-n']],
    ['fish', ['-n']],
  ];
  /** The shell's path, or undefined (with a note in the test's name and its output) where it is not installed. */
  const installed = (shell: string): string | undefined =>
    spawnSync('sh', ['-c', `command -v ${shell}`], { encoding: 'utf8' }).stdout.trim() || undefined;
  const notInstalled = (shell: string, what: string): void =>
    console.warn(`gitops completion ${shell}: ${shell} is not installed here: ${what} NOT CHECKED`);
  const scriptFile = (shell: string): string => {
    const file = join(tempDir('completion-'), `gitops.${shell}`);
    writeFileSync(file, gitops(['completion', shell]).stdout);
    return file;
  };
  for (const [shell, check] of shells) {
    const binary = installed(shell);
    it(`${shell}: the script parses${binary ? '' : ` (NOT CHECKED: ${shell} is not installed here)`}`, () => {
      const r = gitops(['completion', shell]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('validate');
      expect(r.stdout).toContain('hardware-profile');
      if (!binary) return notInstalled(shell, `${shell} ${check.join(' ')}`);
      const parsed = spawnSync(binary, [...check, scriptFile(shell)], { encoding: 'utf8' });
      expect(parsed.status, parsed.stderr).toBe(0);
    });
  }

  const zsh = installed('zsh');
  const zshName =
    'zsh: compinit registers it, and it completes commands, subcommands, flags and flag values' +
    (zsh ? '' : ' (NOT CHECKED: zsh is not installed here)');
  it(zshName, () => {
    if (!zsh) return notInstalled('zsh', 'completing');
    const file = scriptFile('zsh');
    // outside a completion widget compadd cannot run: a stand-in prints the candidates it is given, and
    // the prefix is matched here as zsh's compadd would
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const program =
        `autoload -Uz compinit && compinit -u -D && source ${file} && [[ \${_comps[gitops]} == _gitops ]] || exit 3\n` +
        'compadd() { shift ${@[(i)--]}; print -rl -- "$@"; }\n_files() { print -r -- "(files)"; }\n' +
        `words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; _gitops`;
      const r = spawnSync(zsh, ['-f', '-c', program], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: tempDir('zsh-home-') },
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.split('\n').filter((c) => c !== '' && c.startsWith(words.at(-1)!));
    };
    expect(complete('gitops val')).toEqual(['validate']);
    expect(complete('gitops rollout adv')).toEqual(['advance']);
    expect(complete('gitops validate --sum')).toEqual(['--summary']);
    expect(complete('gitops tune report x --js')).toEqual(['--json']);
  });

  const fish = installed('fish');
  it(`fish: it completes commands, subcommands, flags and flag values${fish ? '' : ' (NOT CHECKED: fish is not installed here)'}`, () => {
    if (!fish) return notInstalled('fish', 'completing');
    const file = scriptFile('fish');
    const complete = (line: string): string[] => {
      const r = spawnSync(fish, ['--no-config', '-c', `source ${file}; complete -C '${line}'`], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: tempDir('fish-home-') },
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!);
    };
    expect(complete('gitops val')).toEqual(['validate']);
    expect(complete('gitops rollout adv')).toEqual(['advance']);
    expect(complete('gitops validate --sum')).toEqual(['--summary']);
    expect(complete('gitops validate --output ').sort()).toEqual(['github', 'json', 'text', 'yaml']);
  });

  it('bash completes commands, subcommands, flags and flag values', () => {
    const script = gitops(['completion', 'bash']).stdout;
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const program =
        `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; ` +
        `_gitops; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return spawnSync('bash', ['-c', program], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    };
    expect(complete('gitops val')).toEqual(['validate']);
    expect(complete('gitops rollout adv')).toEqual(['advance']);
    expect(complete('gitops validate --sum')).toEqual(['--summary']);
    expect(complete('gitops validate --output ')).toEqual(['text', 'json', 'yaml', 'github']);
    expect(gitops(['completion', 'tcsh']).status).toBe(2);
  });
});

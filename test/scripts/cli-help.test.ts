// The help system of the real CLI: every command and subcommand described (summary, synopsis, each
// flag with its default, examples) by `gitops help X` and `gitops X --help` alike; --version; a
// mistyped command or flag gets "Did you mean" and exit 2; and the table of commands does not drift
// from what each command's parser accepts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../scripts/commands.js';
import type { CommandSpec } from '../../scripts/commands.js';
import { gitops, gitopsAsync } from '../helpers/cli.js';
import { PROJECT } from '../helpers/project.js';

const every: CommandSpec[] = COMMANDS.flatMap((c) => [c, ...(c.subcommands ?? [])]);

/** Runs at most `n` at a time (the machine is small and busy). */
async function pooled<T, R>(items: readonly T[], n: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await f(items[i]!);
      }
    }),
  );
  return results;
}

describe('gitops help', () => {
  it('--version prints the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = gitops([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('gitops --help lists every command; no command at all is a usage error with the same list', () => {
    const r = gitops(['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name}`);
    const none = gitops([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('usage: gitops <command>');
  });

  it('describes every command and subcommand the same way through help X and X --help: usage, each flag and its default, examples', async () => {
    const checked = await pooled(every, 4, async (spec) => {
      const words = spec.name.split(' ');
      const [viaHelp, viaFlag] = await Promise.all([
        gitopsAsync(['help', ...words]),
        gitopsAsync([...words, '--help']),
      ]);
      expect(viaHelp.status, spec.name).toBe(0);
      expect(viaFlag.status, spec.name).toBe(0);
      expect(viaFlag.stdout).toBe(viaHelp.stdout);
      const text = viaHelp.stdout;
      expect(text).toContain(`gitops ${spec.name}: ${spec.summary}`);
      expect(text).toContain(`usage: ${spec.usage[0]}`);
      expect(text).toContain('examples:');
      for (const f of spec.flags) {
        const line = text.split('\n').find((l) => l.includes(`--${f.name}${f.type === 'string' ? ' ' : ''}`));
        expect(line, `${spec.name} --${f.name}`).toBeDefined();
        if (f.default !== undefined) expect(text, `${spec.name} --${f.name}`).toContain(`default: ${f.default}`);
      }
      for (const s of spec.subcommands ?? []) expect(text).toContain(s.summary);
      return spec.name;
    });
    expect(checked.length).toBe(every.length);
  }, 240_000);

  it('--help anywhere before "--" describes the command, even with other arguments missing', () => {
    const r = gitops(['rollout', 'advance', '--env', 'production', '-h']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('gitops rollout advance: ');
    expect(r.stdout).toContain('--emergency');
  });

  it('a mistyped command or subcommand: exit 2 and "Did you mean"', () => {
    const top = gitops(['valdiate']);
    expect(top.status).toBe(2);
    expect(top.stderr).toContain('unknown command "valdiate". Did you mean "validate"?');
    const sub = gitops(['rollout', 'avdance']);
    expect(sub.status).toBe(2);
    expect(sub.stderr).toContain('Did you mean "rollout advance"?');
    const help = gitops(['help', 'rendr']);
    expect(help.status).toBe(2);
    expect(help.stderr).toContain('Did you mean "render"?');
  });

  it("an unknown flag, a missing value, a value to a switch: exit 2 with a clear message, not Node's parser text", () => {
    const cases: Array<[string[], string]> = [
      [['validate', '--sumary'], 'unknown flag --sumary. Did you mean --summary?'],
      [['validate', '--env'], '--env needs a value'],
      [['validate', '--summary=yes'], '--summary takes no value'],
      [['diff', '--bsae', 'HEAD'], 'Did you mean --base?'],
    ];
    for (const [args, message] of cases) {
      const r = gitops(args, { cwd: PROJECT });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain(`gitops ${args[0]} --help describes them`);
      expect(r.stderr).not.toMatch(/Unknown option|To specify a positional/);
    }
  });
});

describe('the table of commands and the parsers', () => {
  // a NAME where a subcommand needs one before its flags are parsed
  const needsName = new Set([
    'experiment assign',
    'experiment report',
    'experiment conclude',
    'tune report',
    'tune propose',
  ]);
  const leaves = every.filter((s) => !s.subcommands && !['help'].includes(s.name) && !s.name.startsWith('completion'));

  it('every flag a command accepts is described, and every flag described is accepted', async () => {
    await pooled(leaves, 4, async (spec) => {
      const words = spec.name.split(' ');
      const r = await gitopsAsync([...words, ...(needsName.has(spec.name) ? ['x'] : []), '--zz-not-a-flag'], {
        cwd: PROJECT,
      });
      expect(r.status, `${spec.name}: ${r.stderr}`).toBe(2);
      const m = /flags of [^:]+: (.*); gitops/.exec(r.stderr);
      expect(m, `${spec.name}: ${r.stderr}`).not.toBeNull();
      const accepted = new Set(m![1]!.split(', ').map((f) => f.replace(/^--/, '')));
      const parent = COMMANDS.find((c) => c.subcommands?.includes(spec));
      const siblings = new Set((parent?.subcommands ?? [spec]).flatMap((s) => s.flags.map((f) => f.name)));
      for (const f of spec.flags) expect(accepted, `${spec.name} describes --${f.name}`).toContain(f.name);
      for (const f of accepted) expect(siblings, `${spec.name} accepts --${f}`).toContain(f);
    });
  }, 240_000);
});

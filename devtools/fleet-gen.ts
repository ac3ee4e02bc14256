// A generated fleet for the scale bench and the scale tests: the example repository as committed
// at HEAD, plus N devices spread over its three environments (10 % development, 20 % staging,
// 70 % production) and both hardware models, each a copy of a device file of its environment
// with its own id, site label and, for one in five, 10 frames a second.
// `node dist/devtools/fleet-gen.js DIR N` writes one (a git repository with one commit).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyExample, editFile, gitEnv } from './fleet-remote.js';

export interface GeneratedFleet {
  repo: string;
  /** The generated device ids by environment. */
  devices: Record<string, string[]>;
  env: NodeJS.ProcessEnv;
  /** Commits everything in the work tree; returns the commit id. */
  commit(message: string): string;
  /** Replaces `from` with `to` in a file of the work tree; throws when `from` is not there. */
  edit(file: string, from: string | RegExp, to: string): void;
}

const SHARE: Array<[string, number]> = [
  ['development', 0.1],
  ['staging', 0.2],
  ['production', 0.7],
];

export function generateFleet(root: string, repo: string, count: number): GeneratedFleet {
  const env = gitEnv({ name: 'fleet', email: 'fleet@example.invalid' });
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', repo, ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
  mkdirSync(repo, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', repo], { env });
  copyExample(root, repo);
  const devices: Record<string, string[]> = {};
  let made = 0;
  SHARE.forEach(([name, share], i) => {
    const dir = join(repo, 'environments', name, 'devices');
    const templates = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => ({ id: f.replace(/\.yaml$/, ''), text: readFileSync(join(dir, f), 'utf8') }));
    const n = i === SHARE.length - 1 ? count - made : Math.round(count * share);
    devices[name] = [];
    for (let k = 0; k < n; k++) {
      const t = templates[k % templates.length]!;
      const id = `${name.slice(0, 4)}-gen-${String(k).padStart(5, '0')}`;
      let text = t.text.replace(`id: ${t.id}`, `id: ${id}`).replace(/site: .*/, `site: site-${k % 97}`);
      if (k % 5 === 0) text = text.replace(/fps: \d+/, 'fps: 10');
      writeFileSync(join(dir, `${id}.yaml`), text);
      devices[name].push(id);
    }
    made += n;
  });
  const fleet: GeneratedFleet = {
    repo,
    devices,
    env,
    commit(message) {
      git('add', '-A');
      git('commit', '-q', '--no-verify', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    edit: (file, from, to) => editFile(repo, file, from, to),
  };
  fleet.commit(`a generated fleet of ${count} devices`);
  return fleet;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, n] = process.argv.slice(2);
  if (!dir || !n || !/^\d+$/.test(n)) {
    process.stderr.write('usage: node dist/devtools/fleet-gen.js DIR DEVICES\n');
    process.exit(2);
  }
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const fleet = generateFleet(root, dir, Number(n));
  process.stdout.write(`${fleet.repo}: ${Object.values(fleet.devices).flat().length} generated devices\n`);
}

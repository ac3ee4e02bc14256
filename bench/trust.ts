// Trust figures (issue: trust): verifying a range of 1,000 signed commits with mixed key types
// (ssh-ed25519, ecdsa-p256, rsa-3072, OpenPGP ed25519), in process and as `gitops verify
// --range`, beside a loop of `git verify-commit` over the same commits.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyRange } from '../agent/core/trust/history.js';
import { objectReader } from '../agent/io/git-objects.js';
import { loadTrustStore } from '../agent/io/trust-store.js';
import { median } from './measure.js';
import type { Row } from './measure.js';

const COMMITS = 1000;

export async function benchTrust(cli: string): Promise<Row[]> {
  const group = 'trust';
  const dir = mkdtempSync(join(tmpdir(), 'bench-trust-'));
  try {
    const env = {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Bench',
      GIT_AUTHOR_EMAIL: 'bench@example.test',
      GIT_COMMITTER_NAME: 'Bench',
      GIT_COMMITTER_EMAIL: 'bench@example.test',
      GNUPGHOME: join(dir, 'gnupg'),
    };
    const sh = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}): string =>
      execFileSync(cmd, args, { cwd: join(dir, 'repo'), env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] })
        .toString()
        .trim();
    execFileSync('git', ['init', '-q', '-b', 'main', join(dir, 'repo')], { env });
    execFileSync('mkdir', ['-m', '700', join(dir, 'gnupg')]);
    const keys: string[][] = [];
    const signers: string[] = [];
    for (const [t, bits] of [
      ['ed25519', ''],
      ['ecdsa', '256'],
      ['rsa', '3072'],
    ] as const) {
      const path = join(dir, `id_${t}`);
      execFileSync('ssh-keygen', ['-q', '-t', t, ...(bits ? ['-b', bits] : []), '-N', '', '-f', path]);
      keys.push(['-c', 'gpg.format=ssh', '-c', `user.signingkey=${path}`]);
      signers.push(
        `bench-${t}@example.test namespaces="git" ${execFileSync('cat', [`${path}.pub`])
          .toString()
          .split(' ')
          .slice(0, 2)
          .join(' ')}`,
      );
    }
    execFileSync(
      'gpg',
      ['--batch', '--passphrase', '', '--quick-gen-key', 'Bench <bench@example.test>', 'ed25519', 'sign', 'never'],
      { env, stdio: 'ignore' },
    );
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(
      execFileSync('gpg', ['--batch', '--with-colons', '--list-keys'], { env }).toString(),
    )![1]!;
    keys.push(['-c', 'gpg.format=openpgp', '-c', `user.signingkey=${fpr}`]);
    const trust = join(dir, 'trust');
    execFileSync('mkdir', [trust]);
    writeFileSync(join(trust, 'allowed_signers'), signers.join('\n') + '\n');
    writeFileSync(join(trust, 'bench.asc'), execFileSync('gpg', ['--batch', '--armor', '--export', fpr], { env }));

    const t0 = Date.parse('2026-01-01T00:00:00Z') / 1000;
    sh('git', ['commit', '-q', '--allow-empty', '-m', 'anchor'], {
      GIT_AUTHOR_DATE: `${t0} +0000`,
      GIT_COMMITTER_DATE: `${t0} +0000`,
    });
    const anchor = sh('git', ['rev-parse', 'HEAD']);
    for (let i = 1; i <= COMMITS; i++) {
      const date = `${t0 + i * 60} +0000`;
      sh('git', [...keys[i % keys.length]!, 'commit', '-q', '-S', '--allow-empty', '-m', `change ${i}`], {
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
      });
    }
    const oids = sh('git', ['rev-list', `${anchor}..HEAD`]).split('\n');

    const store = await loadTrustStore(trust);
    const gitdir = join(dir, 'repo', '.git');
    const inProcess: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      const r = await verifyRange(objectReader(gitdir), anchor, oids[0]!, store, {
        now: Math.floor(Date.now() / 1000),
        skewSeconds: 300,
        mode: 'all',
      });
      inProcess.push(performance.now() - s);
      if (r.verdict !== 'trusted' || r.commits.length !== COMMITS)
        throw new Error(`bench range not trusted: ${r.reason}`);
    }
    const cliTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      const r = spawnSync(
        process.execPath,
        [cli, 'verify', '--repo', gitdir, '--trust', trust, '--range', `${anchor}..main`],
        { encoding: 'utf8' },
      );
      cliTimes.push(performance.now() - s);
      if (r.status !== 0) throw new Error(`gitops verify failed: ${r.stdout}${r.stderr}`);
    }
    const s = performance.now();
    for (const oid of oids) {
      const r = spawnSync(
        'git',
        ['-c', `gpg.ssh.allowedSignersFile=${join(trust, 'allowed_signers')}`, 'verify-commit', oid],
        { cwd: join(dir, 'repo'), env, stdio: 'ignore' },
      );
      if (r.status !== 0) throw new Error(`git verify-commit ${oid} failed`);
    }
    const gitLoop = performance.now() - s;
    const cliMs = median(cliTimes);
    return [
      {
        group,
        name: `verify range of ${COMMITS} signed commits (4 key types), in process`,
        value: median(inProcess),
        unit: 'ms',
        target: '< 2000 ms',
        pass: median(inProcess) < 2000,
      },
      {
        group,
        name: `\`gitops verify --range\` of ${COMMITS} commits, whole process`,
        value: cliMs,
        unit: 'ms',
        target: '< 2000 ms, faster than git',
        pass: cliMs < 2000 && cliMs < gitLoop,
      },
      {
        group,
        name: `loop of \`git verify-commit\` over the same ${COMMITS}`,
        value: gitLoop,
        unit: 'ms',
        note: 'git + ssh-keygen/gpg per commit',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

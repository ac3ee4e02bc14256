// The agent end to end with real parts: a smart-HTTP git server on 127.0.0.1 (git
// http-backend), commits signed with keys made for this run, the agent as a real process with
// the example pipeline, and its local API to trigger syncs.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, startFollowing } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { makeRepo, run, signerLine, sshKey, trustDir } from '../helpers/git.js';
import { startGitServer } from '../helpers/git-server.js';
import type { GitServer } from '../helpers/git-server.js';
import { PROJECT, tempDir } from '../helpers/project.js';
import { gitops } from '../helpers/cli.js';
import { benchDeviceSettings } from '../../devtools/bench-device.js';
import { apiTokens, bearer } from '../helpers/tokens.js';

interface Result {
  outcome: string;
  commit: string;
  reason?: string;
  components?: string[];
}

describe('the agent following a remote', () => {
  const alice = sshKey('ed25519');
  const mallory = sshKey('ed25519');
  const root = tempDir('remote-');
  const bare = join(root, 'fleet.git');
  const work = makeRepo();
  const state = tempDir('agent-state-');
  const tokens = apiTokens();
  let server: GitServer;
  let agent: AgentProcess;
  let api = '';
  let good = ''; // the last commit the device should run
  let trust = '';
  let anchor = '';
  const writeSettings = (
    file: string,
    o: { state: string; url: string; trust: string; anchor: string; device?: string },
  ): string => {
    writeFileSync(
      file,
      benchDeviceSettings({
        root: PROJECT,
        url: o.url,
        trustDir: o.trust,
        anchor: o.anchor,
        stateDir: o.state,
        tokensFile: tokens.file,
        ...(o.device ? { device: o.device } : {}),
      }),
    );
    return file;
  };

  const edit = (file: string, from: string, to: string): void => {
    const p = join(work.dir, file);
    const text = readFileSync(p, 'utf8');
    if (!text.includes(from)) throw new Error(`test setup: ${file} lacks ${from}`);
    writeFileSync(p, text.replace(from, to));
  };
  let clock = Date.parse('2026-03-01T10:00:00Z') / 1000;
  const commit = (message: string, sign: typeof alice | null, change?: () => void): string => {
    change?.();
    clock += 60;
    work.git(['add', '-A']);
    const env = { GIT_AUTHOR_DATE: `${clock} +0000`, GIT_COMMITTER_DATE: `${clock} +0000` };
    work.git(
      [
        ...(sign ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${sign.key}`] : []),
        'commit',
        '-q',
        ...(sign ? ['-S'] : []),
        '--allow-empty',
        '-m',
        message,
      ],
      { env },
    );
    return work.git(['rev-parse', 'HEAD']);
  };
  const push = (ref = 'HEAD'): void => void work.git(['push', '-q', '--force', bare, `${ref}:main`]);
  const sync = async (): Promise<Result> =>
    (await (await fetch(`${api}/api/v1/sync`, { method: 'POST', headers: bearer(tokens.operator) })).json()) as Result;
  const status = async (): Promise<{
    current: { commit: string; signer: string | null } | null;
    state: { last_error: { reason: string; code: string } | null; last_good: string };
  }> => (await (await fetch(`${api}/api/v1/status`)).json()) as never;
  const delivered = (component: string): { commit: string; sections: Record<string, { fps?: number }> } =>
    JSON.parse(readFileSync(join(state, 'components', component, 'config.json'), 'utf8'));
  const journal = (): Array<{ event: string; commit: string; reason?: string; code?: string }> =>
    readFileSync(join(state, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  /** Back to the good commit on the remote, as an operator reverting a bad push would. */
  const restoreRemote = async (): Promise<void> => {
    work.git(['reset', '-q', '--hard', good]);
    push();
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
  };

  beforeAll(async () => {
    run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(work.dir, sub), { recursive: true });
    anchor = commit('the fleet configuration', alice);
    push();
    good = anchor;
    server = await startGitServer(root);
    trust = trustDir({ signers: [signerLine('alice@example.test', alice)] });
    writeSettings(join(state, 'agent.yaml'), { state, url: `${server.url}/fleet.git`, trust, anchor });
    ({ agent, api } = await startFollowing(join(state, 'agent.yaml'), ['--bake', '0.3']));
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await server?.close();
  });

  it('a first sync applies the pinned anchor; the pipeline runs it', async () => {
    expect((await status()).current?.commit).toBe(good);
    // the anchor's own signature names its signer (it is not in a range verified from itself)
    expect((await status()).current?.signer).toBe('alice@example.test');
    expect(delivered('capture').sections.frame_capture!.fps).toBe(15);
    await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 15 fps/);
  });

  it('a good signed commit is applied through POST /api/v1/sync; only the affected components are reconfigured', async () => {
    const detectorBefore = delivered('detector');
    const c = commit('fps 12 for the bench', alice, () => edit('config/frame_capture.yaml', '  fps: 15', '  fps: 12'));
    push();
    const r = await sync();
    expect(r).toMatchObject({ outcome: 'applied', commit: c, components: ['capture'] });
    good = c;
    expect(delivered('capture')).toMatchObject({ commit: c, sections: { frame_capture: { fps: 12 } } });
    expect(delivered('detector')).toEqual(detectorBefore);
    await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 12 fps \(live, no restart\)/);
    expect((await status()).state.last_good).toBe(c);
  });

  it.each([
    [
      'an unsigned commit',
      'unsigned',
      () => commit('unsigned change', null, () => edit('config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.5')),
    ],
    [
      'a commit signed by an untrusted key',
      'untrusted-key',
      () =>
        commit('mallory was here', mallory, () => edit('config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.4')),
    ],
    [
      'a commit that fails validation',
      'invalid',
      () => commit('fps 500', alice, () => edit('config/frame_capture.yaml', '  fps: 12', '  fps: 500')),
    ],
    [
      'a commit the hardware cannot run (C920 gives 5 fps in YUYV at 1080p)',
      'hardware',
      () =>
        commit('raw 1080p', alice, () =>
          edit(
            'config/frame_capture.yaml',
            'pixel_format: MJPG\n  width: 1280\n  height: 720',
            'pixel_format: YUYV\n  width: 1920\n  height: 1080',
          ),
        ),
    ],
  ] as const)(
    '%s is refused with the reason in the journal and the status; the pipeline keeps its configuration',
    async (_name, code, make) => {
      const c = make();
      push();
      const r = await sync();
      expect(r).toMatchObject({ outcome: 'refused', commit: c });
      const s = await status();
      expect(s.current?.commit).toBe(good);
      expect(s.state.last_error).toMatchObject({ code });
      expect(journal().at(-1)).toMatchObject({ event: 'refused', commit: c, code });
      expect(delivered('capture').sections.frame_capture!.fps).toBe(12);
      if (code === 'hardware') expect(s.state.last_error!.reason).toContain('supports at most 5 fps at 1920x1080 YUYV');
      await restoreRemote();
    },
  );

  it('secrets this device cannot decrypt are refused; the pipeline keeps its configuration', async () => {
    const device = /age_recipient: (\S+)/.exec(
      readFileSync(join(work.dir, 'environments/development/devices/dev-bench-01.yaml'), 'utf8'),
    )![1]!;
    const c = commit('secrets for the operator only', alice, () => {
      edit('.sops.yaml', `,\n      ${device}`, '');
      const r = gitops(['secrets', 'updatekeys', 'environments/development/secrets.sops.yaml'], {
        cwd: work.dir,
        env: { SOPS_AGE_KEY_FILE: join(PROJECT, 'environments/development/keys/dev-operator.agekey') },
      });
      expect(r.stderr).toContain(`removed ${device}`);
    });
    push();
    // CI refuses this commit too (the rule no longer lists the device): the device says what CI says, where
    expect(await sync()).toMatchObject({ outcome: 'refused', commit: c });
    expect((await status()).state.last_error).toMatchObject({
      code: 'invalid',
      diagnostics: [
        expect.objectContaining({
          code: 'secrets-recipients',
          file: 'environments/development/devices/dev-bench-01.yaml',
          line: expect.any(Number),
        }),
      ],
    });
    expect(delivered('capture').sections.frame_capture!.fps).toBe(12);
    await restoreRemote();
  });

  it('a force-push and a rollback to an old commit are refused as policy', async () => {
    const anchor = work.git(['rev-list', '--max-parents=0', 'HEAD']);
    work.git(['reset', '-q', '--hard', anchor]);
    const forked = commit('rewritten history', alice, () =>
      edit('config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.3'),
    );
    push();
    expect(await sync()).toMatchObject({ outcome: 'refused', commit: forked });
    expect((await status()).state.last_error).toMatchObject({
      code: 'policy',
      reason: expect.stringContaining('does not descend from the applied commit'),
    });
    push(anchor);
    expect(await sync()).toMatchObject({
      outcome: 'refused',
      commit: anchor,
      reason: expect.stringContaining('rollback'),
    });
    await restoreRemote();
  });

  it('a commit whose health check fails is rolled back; the next good commit is applied normally', async () => {
    const bad = commit('new person model', alice, () =>
      edit('config/detectors.yaml', 'ssd-mobilenet-v2-person.tflite', 'ssd-mobilenet-v3-person.tflite'),
    );
    push();
    const r = await sync();
    expect(r).toMatchObject({
      outcome: 'rolled-back',
      commit: bad,
      reason: expect.stringContaining('model file /opt/doorbell/models/ssd-mobilenet-v3-person.tflite does not exist'),
    });
    expect((await status()).current?.commit).toBe(good);
    expect(delivered('detector').commit).toBe(good);
    expect(journal().at(-1)).toMatchObject({ event: 'rolled-back', commit: bad });
    // the bad commit is never retried
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    const fixed = commit('back to the v2 model, fps 10', alice, () => {
      edit('config/detectors.yaml', 'ssd-mobilenet-v3-person.tflite', 'ssd-mobilenet-v2-person.tflite');
      edit('config/frame_capture.yaml', '  fps: 12', '  fps: 10');
    });
    push();
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: fixed });
    good = fixed;
    expect(delivered('capture').sections.frame_capture!.fps).toBe(10);
  });

  it('a remote that answers garbage leaves the running configuration alone and says why', async () => {
    server.mode = 'garbage';
    const r = await fetch(`${api}/api/v1/sync`, { method: 'POST', headers: bearer(tokens.operator) });
    expect(r.status).toBe(200);
    const s = await status();
    expect(s.current?.commit).toBe(good);
    expect(s.state.last_error).toMatchObject({ code: 'sync-failed', commit: null });
    expect(s.state.last_error!.reason).toContain('fetching main from '); // which branch, from where
    server.mode = 'ok';
  });

  it('an operator rolls back to the last good commit, verified again; the commit it left is not retried, a newer one is applied', async () => {
    const left = good;
    const post = (body: unknown): Promise<Response> =>
      fetch(`${api}/api/v1/rollback`, {
        method: 'POST',
        headers: { ...bearer(tokens.operator), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const r = (await (await post({ to: 'previous', reason: 'night mode too dark' })).json()) as Result;
    expect(r).toMatchObject({ outcome: 'rolled-back', components: ['capture'] });
    expect(r.commit).not.toBe(left);
    expect(delivered('capture')).toMatchObject({ commit: r.commit, sections: { frame_capture: { fps: 12 } } });
    expect(journal().at(-1)).toMatchObject({
      event: 'rolled-back',
      commit: left,
      to: r.commit,
      by: 'oncall',
      reason: 'night mode too dark',
    });
    expect(await sync()).toMatchObject({ outcome: 'no-change' });
    expect((await status()).current?.commit).toBe(r.commit);
    const newer = commit('fps 10 again, gentler motion', alice, () =>
      edit('config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.55'),
    );
    push();
    expect(await sync()).toMatchObject({ outcome: 'applied', commit: newer });
    good = newer;
    expect(delivered('capture').sections.frame_capture!.fps).toBe(10);
  });

  it('export, then import into an empty state directory: verified again, and the restored agent runs the same commit', async () => {
    const backup = join(root, 'dev-bench-01.backup.tgz');
    const exported = gitops(['agent', 'export', '--config', join(state, 'agent.yaml'), '--out', backup]);
    expect(exported).toMatchObject({
      status: 0,
      stdout: expect.stringContaining(`history up to ${good.slice(0, 12)}`),
    });
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    // what is inside, read by tar and git themselves: a real bundle, and no release
    const unpacked = tempDir('unpacked-');
    run('tar', ['-xzf', backup, '-C', unpacked]);
    expect(readdirSync(unpacked).sort()).toEqual(['backup.json', 'history.bundle', 'journal.jsonl', 'state.json']);
    expect(
      run('git', ['bundle', 'list-heads', join(unpacked, 'history.bundle')])
        .toString()
        .trim(),
    ).toBe(`${good} refs/heads/main`);
    const verified = spawnSync('git', ['bundle', 'verify', join(unpacked, 'history.bundle')], {
      cwd: makeRepo().dir,
      encoding: 'utf8',
    });
    expect(verified.stderr + verified.stdout).toContain('is okay');
    const offline = 'http://127.0.0.1:9/fleet.git';

    // a device that does not trust alice refuses the restored history and keeps nothing of it
    const wary = tempDir('wary-');
    const waryTrust = trustDir({ signers: [signerLine('mallory@example.test', mallory)] });
    const refused = gitops([
      'agent',
      'import',
      backup,
      '--config',
      writeSettings(join(wary, 'agent.yaml'), { state: join(wary, 'state'), url: offline, trust: waryTrust, anchor }),
    ]);
    expect(refused).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('the restored history does not verify'),
    });
    expect(existsSync(join(wary, 'state/repo.git'))).toBe(false);
    expect(existsSync(join(wary, 'state/current'))).toBe(false);
    // another device's backup is refused
    const other = tempDir('other-');
    expect(
      gitops([
        'agent',
        'import',
        backup,
        '--config',
        writeSettings(join(other, 'agent.yaml'), {
          state: join(other, 'state'),
          url: offline,
          trust,
          anchor,
          device: 'dev-bench-02',
        }),
      ]),
    ).toMatchObject({
      status: 1,
      stderr: expect.stringContaining(
        'is the backup of development/dev-bench-01; this device is development/dev-bench-02',
      ),
    });

    const fresh = tempDir('fresh-');
    const settings = writeSettings(join(fresh, 'agent.yaml'), {
      state: join(fresh, 'state'),
      url: offline,
      trust,
      anchor,
    });
    const restored = gitops(['agent', 'import', backup, '--config', settings]);
    expect(restored).toMatchObject({ status: 0, stdout: expect.stringContaining(`restored ${good.slice(0, 12)}`) });
    expect(restored.stdout).toContain('signed by alice@example.test');
    expect(gitops(['agent', 'import', backup, '--config', settings])).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('already runs release'),
    });
    const second = startAgent(['--config', settings, '--bake', '0.3', '--with-example-pipeline']);
    try {
      const api2 = await second.api;
      const s = (await (await fetch(`${api2}/api/v1/status`)).json()) as {
        current: { commit: string; signer: string };
      };
      expect(s.current).toMatchObject({ commit: good, signer: 'alice@example.test' });
      expect(s.current.commit).toBe((await status()).current!.commit);
      await second.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 10 fps/);
      const entries = (await (await fetch(`${api2}/api/v1/journal?limit=1000`)).json()) as Array<{
        event: string;
        commit: string;
      }>;
      expect(entries.filter((e) => e.event === 'rolled-back').length).toBeGreaterThan(0); // the first device's history came along
      expect(entries.at(-1)).toMatchObject({ event: 'restored', commit: good });
    } finally {
      await second.stop();
    }
  }, 60_000);
});

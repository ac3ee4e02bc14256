// Watch mode, settings, and the delivery methods that are not the file protocol.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Delivery } from '../../agent/io/delivery.js';
import { nodeProcessRunner } from '../../agent/io/process.js';
import type { ComponentTarget, Outcome } from '../../agent/io/delivery.js';
import { startAgent } from '../helpers/agent-process.js';
import { gitops } from '../helpers/cli.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const copy = (): string => {
  const dir = tempDir('watch-repo-');
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
  return dir;
};
const key = join(PROJECT, 'environments/development/keys/dev-bench-01.agekey');

describe('watch mode', () => {
  it('an edit of config/frame_capture.yaml reaches the pipeline within a second, saved atomically or in place', async () => {
    const dir = copy();
    const agent = startAgent([
      '--watch',
      dir,
      '--env',
      'development',
      '--device',
      'dev-bench-01',
      '--identity',
      key,
      '--hardware-profile',
      'recorded',
      '--state',
      join(dir, '.state'),
      '--listen',
      '127.0.0.1:0',
      '--with-example-pipeline',
    ]);
    try {
      await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 15 fps/);
      const file = join(dir, 'config/frame_capture.yaml');
      const t0 = Date.now();
      writeFileSync(file, readFileSync(file, 'utf8').replace('  fps: 15', '  fps: 9'));
      await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 9 fps \(live, no restart\)/, 5000);
      expect(Date.now() - t0).toBeLessThan(1000);
      // an editor's atomic save: a temp file renamed over the original
      writeFileSync(`${file}.tmp`, readFileSync(file, 'utf8').replace('  fps: 9', '  fps: 8'));
      (await import('node:fs')).renameSync(`${file}.tmp`, file);
      await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 8 fps/, 5000);
      // an invalid edit is refused and the pipeline keeps running the last good configuration
      writeFileSync(file, readFileSync(file, 'utf8').replace('  fps: 8', '  fps: 800'));
      await agent.waitFor(/refused tree-[0-9a-f]+: the configuration is not valid for dev-bench-01/, 5000);
      expect(
        JSON.parse(readFileSync(join(dir, '.state/components/capture/config.json'), 'utf8')).sections.frame_capture.fps,
      ).toBe(8);
    } finally {
      await agent.stop();
    }
  }, 30_000);

  it('is refused where the environment policy forbids it', async () => {
    const dir = copy();
    const agent = startAgent([
      '--watch',
      dir,
      '--env',
      'production',
      '--device',
      'prod-berlin-001',
      '--hardware-profile',
      'recorded',
      '--state',
      join(dir, '.state'),
      '--listen',
      '127.0.0.1:0',
    ]);
    try {
      const line = await agent.waitFor(/refused/);
      expect(line).toContain('the production policy does not allow watch mode');
    } finally {
      await agent.stop();
    }
  });
});

describe('a start that fails', () => {
  it('a port in use stops the agent with the reason, and leaves no watcher or pipeline behind', async () => {
    const dir = copy();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    const state = join(dir, '.state');
    const agent = startAgent([
      '--watch',
      dir,
      '--env',
      'development',
      '--device',
      'dev-bench-01',
      '--identity',
      key,
      '--hardware-profile',
      'recorded',
      '--state',
      state,
      '--listen',
      `127.0.0.1:${port}`,
      '--with-example-pipeline',
    ]);
    try {
      const code = await new Promise<number | null>((r) => agent.child.once('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(agent.lines.join('\n')).toContain(`the API cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
      await new Promise((r) => setTimeout(r, 500));
      expect(spawnSync('pgrep', ['-f', state]).stdout.toString()).toBe('');
    } finally {
      busy.close();
      await agent.stop();
    }
  }, 20_000);
});

describe('agent settings', () => {
  it('unknown or invalid settings stop the agent at start with a clear message', () => {
    const dir = tempDir('settings-');
    writeFileSync(
      join(dir, 'agent.yaml'),
      'version: 2\nremote: { url: "ftp://x" }\nenvironment: production\ndevice_id: d1\ntrust: { dir: t }\nstate_dir: s\npoll_intervall: 5\n',
    );
    const r = gitops(['agent', '--config', join(dir, 'agent.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the agent settings are invalid; the agent does not start');
    expect(r.stderr).toMatch(
      /agent\.yaml:7:1 error unknown-key "poll_intervall" is not allowed in agent settings\. Did you mean "poll_interval_seconds"\?|poll_intervall/,
    );
    expect(r.stderr).toContain('remote.url');
  });
});

describe('delivery methods', () => {
  const target = (
    reload: ComponentTarget['spec']['reload'],
    health?: ComponentTarget['spec']['health'],
  ): ComponentTarget => ({ name: 'c', spec: { sections: ['motion'], reload, ...(health ? { health } : {}) } });
  const proposal = { generation: 1, commit: 'abc', sections: { motion: { sensitivity: 0.5 } } };
  const codeOf = (o: Outcome): string | undefined => (o.ok ? undefined : o.code);
  const reasonOf = (o: Outcome): string | undefined => (o.ok ? undefined : o.reason);

  it('http: validate (with a veto), apply and health endpoints, and a component that never answers', async () => {
    const calls: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        calls.push(`${req.method} ${req.url} ${body ? (JSON.parse(body) as { commit: string }).commit : ''}`.trim());
        if (req.url === '/cfg/validate' && body.includes('"veto"'))
          return void res.writeHead(422).end(JSON.stringify({ reason: 'cannot run that' }));
        if (req.url === '/slow/validate') return; // never answers
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const d = new Delivery(tempDir(), nodeProcessRunner);
    try {
      const t = target({ method: 'http', url: `${base}/cfg` }, { url: `${base}/health` });
      expect(await d.propose(t, proposal)).toEqual({ ok: true });
      expect(await d.propose(t, { ...proposal, commit: 'veto' })).toEqual({
        ok: false,
        code: 'vetoed',
        reason: 'c refused it: cannot run that',
      });
      expect(await d.apply(t, proposal)).toEqual({ ok: true });
      expect(await d.health(t, 1)).toEqual({ ok: true });
      expect(calls).toEqual([
        'POST /cfg/validate abc',
        'POST /cfg/validate veto',
        'POST /cfg/apply abc',
        'GET /health',
      ]);
      const slow = target({ method: 'http', url: `${base}/slow`, timeout_ms: 200 });
      expect(await d.propose(slow, proposal)).toEqual({
        ok: false,
        code: 'unavailable',
        reason: `c did not answer in time at ${base}/slow/validate`,
      });
      const down = await d.health(target({ method: 'http', url: base }, { url: 'http://127.0.0.1:1/health' }), 1);
      expect(codeOf(down)).toBe('unhealthy');
      expect(reasonOf(down)).toMatch(/^c health check (ECONNREFUSED|fetch failed)/);
    } finally {
      server.close();
    }
  });

  it('signal: SIGHUP to the pid in the pid file; command: run without a shell, with a timeout', async () => {
    const dir = tempDir();
    const child = spawn(
      process.execPath,
      [
        '-e',
        "process.on('SIGHUP', () => { console.log('reloaded'); process.exit(0); }); setInterval(() => {}, 1000); console.log('ready')",
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await new Promise((r) => child.stdout!.once('data', r));
    writeFileSync(join(dir, 'c.pid'), `${child.pid}\n`);
    const d = new Delivery(tempDir(), nodeProcessRunner);
    const out = new Promise<string>((r) => child.stdout!.on('data', (b: Buffer) => r(b.toString())));
    expect(await d.apply(target({ method: 'signal', pid_file: join(dir, 'c.pid') }), proposal)).toEqual({ ok: true });
    expect(await out).toContain('reloaded');
    writeFileSync(join(dir, 'bad.pid'), 'not a pid');
    const bad = await d.apply(target({ method: 'signal', pid_file: join(dir, 'bad.pid') }), proposal);
    expect(codeOf(bad)).toBe('reload-failed');
    expect(reasonOf(bad)).toContain('does not hold a process id');
    // a pid file that is a FIFO nobody writes, or /dev/zero, neither blocks nor fills memory
    spawnSync('mkfifo', [join(dir, 'fifo.pid')]);
    for (const f of [join(dir, 'fifo.pid'), '/dev/zero'])
      expect(reasonOf(await d.apply(target({ method: 'signal', pid_file: f }), proposal))).toContain('(not-a-file)');
    writeFileSync(join(dir, 'huge.pid'), '1'.repeat(100_000));
    expect(reasonOf(await d.apply(target({ method: 'signal', pid_file: join(dir, 'huge.pid') }), proposal))).toContain(
      '(file-too-large)',
    );
    expect(
      await d.apply(
        target({ method: 'command', command: ['/bin/sh', '-c', `echo done > ${join(dir, 'ran')}`] }),
        proposal,
      ),
    ).toEqual({ ok: true });
    expect(readFileSync(join(dir, 'ran'), 'utf8')).toBe('done\n');
    expect(
      codeOf(await d.apply(target({ method: 'command', command: ['sleep', '5'], timeout_ms: 200 }), proposal)),
    ).toBe('reload-failed');
    expect(
      reasonOf(await d.apply(target({ method: 'command', command: ['/nonexistent/reload'] }), proposal)),
    ).toContain('ENOENT');
  });
});

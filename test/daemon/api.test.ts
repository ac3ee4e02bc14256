// The local API against a real agent process on loopback (watch mode, the example pipeline,
// tokens made for this run, loopback reads switched off): every endpoint and every role, bad
// input of every kind, the event stream through a real EventSource client, Prometheus metrics
// checked by promtool, and an operator's rollback.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken } from '../../agent/io/token-file.js';
import { decryptEnvironmentSecrets } from '../../agent/io/environment-secrets.js';
import { Redactor } from '../../agent/io/redactor.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { loadIdentities } from '../../agent/io/sops-keys.js';
import { leaves } from '../../agent/core/json/value.js';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { gitopsAsync } from '../helpers/cli.js';
import { exampleCopy, PROJECT } from '../helpers/project.js';
import { apiTokens, bearer } from '../helpers/tokens.js';
import { which } from '../helpers/tools.js';

const key = join(PROJECT, 'environments/development/keys/dev-bench-01.agekey');
const promtool = which('promtool');

describe('the local API', () => {
  const dir = exampleCopy();
  const tokens = apiTokens();
  const limited = addToken(tokens.file, 'scripted', 'operator');
  let agent: AgentProcess;
  let api = '';
  let secrets: string[] = [];
  const answers: string[] = []; // every body the API gave, searched for secrets and tokens at the end

  const call = async (
    method: string,
    path: string,
    token?: string,
    init: RequestInit = {},
  ): Promise<{ status: number; json: Record<string, unknown> & { code?: string }; headers: Headers }> => {
    const r = await fetch(`${api}${path}`, {
      method,
      ...init,
      headers: { ...(token ? bearer(token) : {}), ...(init.headers as Record<string, string> | undefined) },
    });
    const text = await r.text();
    answers.push(text);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { text };
    }
    return { status: r.status, json, headers: r.headers };
  };
  const setFps = (from: number, to: number): void => {
    const file = join(dir, 'config/frame_capture.yaml');
    const text = readFileSync(file, 'utf8');
    if (!text.includes(`  fps: ${from}`)) throw new Error(`test setup: fps is not ${from}`);
    writeFileSync(file, text.replace(`  fps: ${from}`, `  fps: ${to}`));
  };
  const delivered = (component: string): { commit: string; sections: { frame_capture?: { fps: number } } } =>
    JSON.parse(readFileSync(join(dir, '.state/components', component, 'config.json'), 'utf8'));
  const metric = async (name: string, labels: string): Promise<number> => {
    const r = await fetch(`${api}/metrics`, { headers: bearer(tokens.viewer) });
    const line = (await r.text()).split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
    return line ? Number(line.split(' ').at(-1)) : NaN;
  };

  beforeAll(async () => {
    const values = await decryptEnvironmentSecrets(
      readWorkingTree(PROJECT),
      'development',
      await loadIdentities([key], {}),
      new Redactor(),
    );
    secrets = leaves(values ?? {})
      .map(([, v]) => String(v))
      .filter((v) => v.length >= 6);
    expect(secrets.length).toBeGreaterThan(0);
    agent = startAgent([
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
      '--tokens-file',
      tokens.file,
      '--no-loopback-reads',
      '--bake',
      '0.3',
      '--with-example-pipeline',
    ]);
    api = await agent.api;
    await agent.waitFor(/\[pipeline\] capture: now 1280x720 MJPG at 15 fps/);
    setFps(15, 12);
    await agent.waitFor(/applied tree-\w+ "working tree": frame_capture changed/);
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
  });

  it('health and readiness need no token; everything else does', async () => {
    expect(await call('GET', '/healthz')).toMatchObject({ status: 200, json: { ok: true } });
    expect(await call('GET', '/readyz')).toMatchObject({
      status: 200,
      json: { ready: true, commit: expect.stringMatching(/^tree-/) },
    });
    for (const path of [
      '/api/v1/status',
      '/api/v1/config',
      '/api/v1/journal',
      '/api/v1/releases',
      '/api/v1/diff',
      '/api/v1/events',
      '/metrics',
    ]) {
      const r = await call('GET', path);
      expect(r.status, path).toBe(401);
      expect(r.json).toMatchObject({
        code: 'no-token',
        message: expect.stringContaining(path),
        hint: expect.stringContaining('Authorization: Bearer'),
      });
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('a wrong or malformed token is refused; a viewer reads but may not act; an operator may', async () => {
    for (const header of [
      'Bearer dbt_' + 'x'.repeat(43),
      'Bearer ' + tokens.viewer + 'x',
      'Basic b25jYWxsOnNlY3JldA==',
      'Bearer',
    ]) {
      const r = await call('GET', '/api/v1/status', undefined, { headers: { authorization: header } });
      expect(r.status, header).toBe(401);
      expect(r.json.code).toBe('bad-token');
    }
    for (const path of ['/api/v1/status', '/api/v1/config', '/api/v1/journal', '/api/v1/releases', '/api/v1/diff']) {
      expect((await call('GET', path, tokens.viewer)).status, path).toBe(200);
      expect((await call('GET', path, tokens.operator)).status, path).toBe(200);
    }
    for (const path of ['/api/v1/sync', '/api/v1/rollback', '/api/v1/hardware/probe']) {
      const r = await call('POST', path, tokens.viewer);
      expect(r.status, path).toBe(403);
      expect(r.json).toMatchObject({
        code: 'forbidden',
        message: expect.stringContaining('role viewer'),
        hint: expect.any(String),
      });
      expect((await call('POST', path)).status, path).toBe(401);
    }
    const synced = await call('POST', '/api/v1/sync', tokens.operator);
    expect(synced).toMatchObject({ status: 200, json: { outcome: 'no-change' } });
  });

  it("status says what runs, since when, the last good release and each component's health", async () => {
    const { json } = await call('GET', '/api/v1/status', tokens.viewer);
    expect(json).toMatchObject({
      environment: 'development',
      device: 'dev-bench-01',
      current: { commit: expect.stringMatching(/^tree-/), subject: 'working tree', applied_at: expect.any(String) },
      caller: { name: 'dashboard', role: 'viewer' },
    });
    expect((json.last_good as { commit: string }).commit).toBe((json.current as { commit: string }).commit);
    // the health monitor checks after each apply and every 5 s
    const deadline = Date.now() + 8000;
    let components: Array<{ name: string; healthy: boolean }> = [];
    while (Date.now() < deadline && components.length === 0) {
      components = (await call('GET', '/api/v1/status', tokens.viewer)).json.components as typeof components;
      if (components.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(components.map((c) => c.name).sort()).toEqual([
      'capture',
      'detector',
      'logging',
      'notifier',
      'recorder',
      'web',
    ]);
    expect(components.every((c) => c.healthy)).toBe(true);
  });

  it('config is served with secrets redacted, whole or by path; bad paths are refused', async () => {
    const whole = await call('GET', '/api/v1/config', tokens.viewer);
    expect(whole.status).toBe(200);
    expect(JSON.stringify(whole.json)).toContain('<redacted>');
    expect(await call('GET', '/api/v1/config?path=frame_capture.fps', tokens.viewer)).toMatchObject({
      status: 200,
      json: { path: 'frame_capture.fps', value: 12 },
    });
    expect(await call('GET', '/api/v1/config?path=notifications.telegram.bot_token', tokens.viewer)).toMatchObject({
      status: 200,
      json: { value: '<redacted>' },
    });
    for (const path of ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '/etc/shadow', 'frame_capture..fps', '%00']) {
      const r = await call('GET', `/api/v1/config?path=${path}`, tokens.viewer);
      expect(r.status, path).toBe(400);
      expect(r.json).toMatchObject({ code: 'bad-path', hint: expect.stringContaining('frame_capture.fps') });
    }
    expect(await call('GET', '/api/v1/config?path=frame_capture.nope', tokens.viewer)).toMatchObject({
      status: 404,
      json: { code: 'no-such-path' },
    });
  });

  it('releases and the diff between two of them; release names cannot leave the release store', async () => {
    const releases = (await call('GET', '/api/v1/releases', tokens.viewer)).json as unknown as Array<{
      commit: string;
      current: boolean;
      good: boolean;
    }>;
    expect(releases).toHaveLength(2);
    expect(releases[0]).toMatchObject({ current: true, good: true });
    const d = await call('GET', `/api/v1/diff?from=${releases[1]!.commit}&to=current`, tokens.viewer);
    expect(d.json.changes).toEqual([{ path: 'frame_capture.fps', change: 'changed', old: 15, new: 12 }]);
    expect((await call('GET', '/api/v1/diff', tokens.viewer)).json.changes).toEqual(d.json.changes);
    for (const name of ['../../etc/passwd', '..', 'current/../../x', 'tree-../../etc']) {
      const r = await call('GET', `/api/v1/diff?from=${encodeURIComponent(name)}`, tokens.viewer);
      expect(r.status, name).toBe(400);
      expect(r.json.code).toBe('bad-release');
    }
    expect(await call('GET', '/api/v1/diff?from=deadbeef', tokens.viewer)).toMatchObject({
      status: 404,
      json: { code: 'release-unknown' },
    });
  });

  it('bad JSON, wrong shapes, oversized bodies, unknown paths and methods, foreign host names', async () => {
    const post = (body: string): Promise<{ status: number; json: { code?: string } }> =>
      call('POST', '/api/v1/rollback', tokens.operator, { body, headers: { 'content-type': 'application/json' } });
    expect(await post('{"to": ')).toMatchObject({
      status: 400,
      json: { code: 'bad-request', message: expect.stringContaining('not valid JSON') },
    });
    expect(await post('[1,2]')).toMatchObject({ status: 400, json: { code: 'bad-request' } });
    expect(await post('{"to": 42}')).toMatchObject({ status: 400, json: { code: 'bad-request' } });
    expect(await post(JSON.stringify({ to: 'last_good', reason: 'x'.repeat(8000) }))).toMatchObject({
      status: 413,
      json: { code: 'body-too-large' },
    });
    expect(await post('{"to": "../../../etc/passwd"}')).toMatchObject({ status: 400, json: { code: 'bad-release' } });
    expect(await post('{"to": "0123456789abcdef"}')).toMatchObject({ status: 404, json: { code: 'release-unknown' } });
    expect(await call('GET', '/api/v1/nope', tokens.viewer)).toMatchObject({
      status: 404,
      json: { code: 'not-found', hint: expect.stringContaining('/api/v1/status') },
    });
    expect(await call('GET', '/../../etc/passwd', tokens.viewer)).toMatchObject({ status: 404 });
    expect(await call('GET', '/api/v1/sync', tokens.operator)).toMatchObject({
      status: 405,
      json: { code: 'method-not-allowed' },
    });
    expect(await call('GET', '/api/v1/journal?limit=abc', tokens.viewer)).toMatchObject({
      status: 400,
      json: { code: 'bad-request' },
    });
    // a page on another site that rebinds its DNS name to 127.0.0.1 (fetch cannot set Host, so node:http)
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${api}/api/v1/status`,
        { headers: { host: 'evil.example.com', ...bearer(tokens.viewer) } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body)).toMatchObject({ code: 'bad-host' });
  });

  it('the page is served with security headers', async () => {
    const r = await fetch(`${api}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<script src="/app.js" defer></script>');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('the event stream tells an EventSource client of a sync, an apply and a refusal', async () => {
    const seen: Array<{ type: string; data: Record<string, unknown> }> = [];
    const es = new EventSource(`${api}/api/v1/events`, {
      fetch: (url, init) =>
        fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...bearer(tokens.viewer) } }),
    });
    for (const type of ['hello', 'sync-started', 'applied', 'refused'])
      es.addEventListener(type, (e) =>
        seen.push({ type, data: JSON.parse((e as { data: string }).data) as Record<string, unknown> }),
      );
    try {
      await waitUntil(() => seen.some((e) => e.type === 'hello'));
      setFps(12, 10);
      await waitUntil(() => seen.some((e) => e.type === 'applied'));
      setFps(10, 999);
      await waitUntil(() => seen.some((e) => e.type === 'refused'));
      expect(seen.find((e) => e.type === 'sync-started')?.data).toMatchObject({ trigger: 'watch' });
      expect(seen.find((e) => e.type === 'applied')?.data).toMatchObject({
        commit: expect.stringMatching(/^tree-/),
        sections: ['frame_capture'],
        components: ['capture'],
      });
      expect(seen.find((e) => e.type === 'refused')?.data).toMatchObject({
        code: 'invalid',
        reason: expect.stringContaining('frame_capture.fps'),
      });
    } finally {
      es.close();
      setFps(999, 10);
      await agent.waitFor(/applied tree-\w+ "working tree": frame_capture changed; reconfigured capture/);
    }
  });

  it('a client that reconnects with Last-Event-ID gets the events it missed', async () => {
    const controller = new AbortController();
    const r = await fetch(`${api}/api/v1/events`, {
      headers: { ...bearer(tokens.viewer), 'last-event-id': '1' },
      signal: controller.signal,
    });
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!/event: refused/.test(text)) text += (await reader.read()).value ?? '';
    controller.abort();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(2);
    expect(Math.min(...ids)).toBe(2);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(text).toMatch(/^event: applied$/m);
  });

  it('metrics parse as Prometheus text and the counters move with applies and refusals', async () => {
    const applied = await metric('doorbell_agent_applies_total', 'outcome="applied"');
    const invalid = await metric('doorbell_agent_refusals_total', 'reason="invalid"');
    expect(applied).toBeGreaterThanOrEqual(2);
    setFps(10, 1000);
    await waitUntil(async () => (await metric('doorbell_agent_refusals_total', 'reason="invalid"')) === invalid + 1);
    setFps(1000, 9);
    await waitUntil(async () => (await metric('doorbell_agent_applies_total', 'outcome="applied"')) === applied + 1);
    const text = await (await fetch(`${api}/metrics`, { headers: bearer(tokens.viewer) })).text();
    expect(text).toMatch(
      /^doorbell_agent_release_info\{environment="development",device="dev-bench-01",wave="all",commit="tree-[0-9a-f]+",last_good="tree-[0-9a-f]+"\} 1$/m,
    );
    expect(text).toMatch(/^doorbell_agent_step_duration_seconds_bucket\{le="\+Inf",step="validate"\} [1-9]/m);
    expect(Number(/^doorbell_agent_last_successful_apply_timestamp_seconds (\S+)$/m.exec(text)![1])).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
    if (promtool) {
      const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(r.stderr + r.stdout).toBe('');
      expect(r.status).toBe(0);
    }
  }, 120_000);

  it('an operator rolls back to an earlier good release; the release it replaces is never applied again', async () => {
    const before = (await call('GET', '/api/v1/status', tokens.viewer)).json.current as { commit: string };
    const r = await call('POST', '/api/v1/rollback', tokens.operator, {
      body: JSON.stringify({ to: 'previous', reason: 'fps 9 drops frames at night' }),
    });
    expect(r).toMatchObject({ status: 200, json: { outcome: 'rolled-back', components: ['capture'] } });
    const target = (r.json as { commit: string }).commit;
    expect(target).not.toBe(before.commit);
    expect(delivered('capture')).toMatchObject({ commit: target, sections: { frame_capture: { fps: 10 } } });
    const releases = (await call('GET', '/api/v1/releases', tokens.viewer)).json as unknown as Array<{
      commit: string;
      current: boolean;
      bad: boolean;
    }>;
    expect(releases.find((x) => x.commit === before.commit)).toMatchObject({ current: false, bad: true });
    expect(releases.find((x) => x.commit === target)).toMatchObject({ current: true });
    const journal = (await call('GET', '/api/v1/journal?event=rolled-back', tokens.viewer)).json as unknown as Array<
      Record<string, unknown>
    >;
    expect(journal.at(-1)).toMatchObject({
      commit: before.commit,
      to: target,
      by: 'oncall',
      trigger: 'operator',
      reason: 'fps 9 drops frames at night',
    });
    // the working tree still holds the bad one: the agent does not go back to it
    await new Promise((res) => setTimeout(res, 2500));
    expect(((await call('GET', '/api/v1/status', tokens.viewer)).json.current as { commit: string }).commit).toBe(
      target,
    );
    expect(
      await call('POST', '/api/v1/rollback', tokens.operator, { body: JSON.stringify({ to: before.commit }) }),
    ).toMatchObject({ status: 409, json: { code: 'release-not-good' } });
    expect(
      await call('POST', '/api/v1/rollback', tokens.operator, { body: JSON.stringify({ to: target }) }),
    ).toMatchObject({ status: 409, json: { code: 'already-running' } });
  });

  it('the command-line clients: status, journal, releases, diff, sync, rollback', async () => {
    const env = { DOORBELL_AGENT_URL: api, DOORBELL_AGENT_TOKEN: tokens.operator };
    const status = await gitopsAsync(['agent', 'status'], { env });
    expect(status.stdout).toMatch(
      /^development\/dev-bench-01 \(watch .*\)\n {2}runs {7}tree-[0-9a-f]{7} "working tree"; applied \d+ s ago/,
    );
    expect(status.stdout).toContain('capture healthy');
    const journal = await gitopsAsync(['agent', 'journal', '--limit', '50'], { env });
    expect(journal.stdout).toMatch(/rolled-back +tree-\w+ -> tree-\w+ by oncall.*: fps 9 drops frames at night/);
    expect(journal.stdout).toMatch(/refused +tree-\w+.*\[invalid\]/);
    const releases = await gitopsAsync(['agent', 'releases'], { env });
    expect(releases.stdout).toMatch(/^\* tree-\w+ +good/m);
    // the short ids it prints are taken back by diff
    const shorts = [...releases.stdout.matchAll(/^[* ] (tree-[0-9a-f]+) /gm)].map((m) => m[1]!);
    expect(shorts.length).toBeGreaterThan(1);
    expect(shorts.every((id) => id.length < 21)).toBe(true);
    const byShort = await gitopsAsync(['agent', 'diff', '--from', shorts[1]!, '--to', shorts[0]!], { env });
    expect(byShort).toMatchObject({ status: 0, stdout: expect.stringContaining(`${shorts[1]} -> ${shorts[0]}`) });
    expect((await gitopsAsync(['agent', 'diff', '--from', 'tree-0000000'], { env })).status).toBe(1);
    expect((await gitopsAsync(['agent', 'diff', '--to', 'current'], { env })).stdout).toMatch(
      /~ frame_capture\.fps: \d+ -> 10/,
    );
    setFps(9, 8);
    await agent.waitFor(/applied tree-\w+ "working tree": frame_capture changed; reconfigured capture/);
    const rollback = await gitopsAsync(['agent', 'rollback', '--reason', 'from the command line'], { env });
    expect(rollback).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^rolled back to tree-\w+; reconfigured capture in \d+ ms/),
    });
    expect(await gitopsAsync(['agent', 'sync'], { env })).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('no-change'),
    });
    const viewer = await gitopsAsync(['agent', 'sync'], { env: { ...env, DOORBELL_AGENT_TOKEN: tokens.viewer } });
    expect(viewer).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('the agent refused: the token "dashboard" has the role viewer'),
    });
    const away = await gitopsAsync(['agent', 'status', '--url', 'http://127.0.0.1:9'], { env });
    expect(away).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('cannot reach the agent at http://127.0.0.1:9'),
    });
  }, 180_000); // eight command-line processes, each a cold start: slow on a busy machine and under coverage

  it('mutating requests are rate limited per caller, with Retry-After', async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, () => call('POST', '/api/v1/rollback', limited, { body: '{"to":"nope!"}' })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    const limitedAnswer = results.find((r) => r.status === 429)!;
    expect(limitedAnswer.json).toMatchObject({
      code: 'rate-limited',
      hint: expect.stringMatching(/try again in \d+ s/),
    });
    expect(Number(limitedAnswer.headers.get('retry-after'))).toBeGreaterThan(0);
    // another caller is not affected
    expect((await call('POST', '/api/v1/sync', tokens.operator)).status).toBe(200);
  });

  it('no answer carried a secret value, a token or a stack trace', () => {
    expect(answers.length).toBeGreaterThan(50);
    const all = answers.join('\n');
    for (const s of secrets) expect(all.includes(s), 'a secret value').toBe(false);
    for (const t of [tokens.operator, tokens.viewer, limited]) expect(all.includes(t), 'a token').toBe(false);
    expect(all).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

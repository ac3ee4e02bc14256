// gitops agent tune list | set | clear, gitops agent status and gitops explain --agent against a
// real agent (watch mode, the example pipeline; capture is this test's HTTP component, which
// turns unhealthy at 9 fps): an operator lease is applied live, shown with its owner, actor,
// reason and remaining time, cleared back to the signed value, and expires back on its own;
// refusals exit 1 with the agent's code (out of bounds, TTL, role, failed health rolled back,
// policy), usage errors exit 2; --output json prints the API's answer, a refusal's included. The
// JSON of agent tune, status, journal, releases, diff, sync and rollback is checked against its schema
// (schemas/cli/agent-*.output.json).

import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml, parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorAnswer, JournalEntry, LeaseAnswer, TunablesAnswer } from '../../agent/core/contracts/api.js';
import type { Lease } from '../../agent/core/tunables/lease.js';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { gitopsAsync } from '../helpers/cli.js';
import { expectValid } from '../helpers/output-schemas.js';
import { until } from '../helpers/fleet.js';
import { exampleCopy, tempDir } from '../helpers/project.js';
import { apiTokens, bearer } from '../helpers/tokens.js';
import { benchWatchArgs } from '../helpers/watch-agent.js';

describe('gitops agent tune against a running agent', () => {
  const dir = exampleCopy();
  const tokens = apiTokens();
  const operatorFile = join(tempDir('tune-token-'), 'operator');
  writeFileSync(operatorFile, `${tokens.operator}\n`, { mode: 0o600 });
  /** fps of each configuration capture was handed, in order */
  const applied: number[] = [];
  const capture = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/capture/apply') {
        const p = JSON.parse(body) as { sections: { frame_capture: { fps: number } } };
        applied.push(p.sections.frame_capture.fps);
      }
      if (req.url === '/capture/healthz' && applied.at(-1) === 9)
        return void res.writeHead(500).end(JSON.stringify({ reason: 'frames pile up at 9 fps' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  let agent: AgentProcess;
  let url = '';

  /** The command with the operator's token file (set, clear) or the viewer's token in the environment. */
  const run = (args: string[], as: 'operator' | 'viewer' = 'viewer') =>
    gitopsAsync(
      [...args, '--url', url, ...(as === 'operator' ? ['--token-file', operatorFile] : [])],
      as === 'viewer' ? { env: { DOORBELL_AGENT_TOKEN: tokens.viewer } } : {},
    );
  const tune = (args: string[], as: 'operator' | 'viewer' = 'operator') => run(['agent', 'tune', ...args], as);
  const tunables = async (): Promise<TunablesAnswer> =>
    (await (await fetch(`${url}/api/v1/tunables`, { headers: bearer(tokens.viewer) })).json()) as TunablesAnswer;
  const fps = async () => (await tunables()).tunables.find((t) => t.path === 'frame_capture.fps')!;

  beforeAll(async () => {
    await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
    const file = join(dir, 'environments/development/overrides.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['components', 'capture'], {
      reload: { method: 'http', url: `${base}/capture` },
      health: { url: `${base}/capture/healthz`, bake_seconds: 1 },
    });
    writeFileSync(file, doc.toString());
    agent = startAgent(benchWatchArgs(dir, ['--tokens-file', tokens.file, '--bake', '0.5', '--with-example-pipeline']));
    url = await agent.api;
    await agent.waitFor(/applied tree-\w+ "working tree"/, 60_000);
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    capture.closeAllConnections();
    capture.close();
  });

  it('lists the tunable fields with their bounds and signed values (text and the API answer as JSON)', async () => {
    const text = await tune(['list'], 'viewer');
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^tunables of tree-[0-9a-f]{7}\n/);
    expect(text.stdout).toContain('\nframe_capture.fps = 15  (signed; 1..30 step 1, applies by restart)\n');
    expect(text.stdout).toContain('\nlogging.level = "debug"  (signed; one of debug, info, warn, applies hot)\n');
    const json = await tune(['list', '--output', 'json'], 'viewer');
    expect(json.status).toBe(0);
    const answer = expectValid('agent tune', json.stdout) as TunablesAnswer;
    const yaml = parseYaml((await tune(['list', '--output', 'yaml'], 'viewer')).stdout) as TunablesAnswer;
    expect({ ...yaml, now: answer.now }).toEqual(answer); // the same data, read a moment later
    expect(answer.leases).toEqual([]);
    expect(answer.tunables.find((t) => t.path === 'frame_capture.fps')).toMatchObject({ value: 15, winner: 'signed' });
  });

  it('sets an operator lease live, shows it in the list, the status and explain, and clears it back', async () => {
    const set = await tune(['set', 'frame_capture.fps=10', '--ttl', '30m', '--reason', 'hot afternoon']);
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
    expect(set.stdout).toMatch(
      new RegExp(
        String.raw`^applied: frame_capture\.fps = 10 \(operator lease\); reconfigured capture in \d+ ms\n` +
          String.raw` {2}lease operator 10 by oncall "hot afternoon", (30m|29m\d+s) left\n$`,
      ),
    );
    expect(applied.at(-1)).toBe(10);
    expect(await fps()).toMatchObject({ value: 10, winner: 'operator', signed: 15 });

    const list = await tune(['list'], 'viewer');
    expect(list.stdout).toMatch(
      new RegExp(
        String.raw`\nframe_capture\.fps = 10 {2}\(operator lease; signed 15; 1\.\.30 step 1, applies by restart\)\n` +
          String.raw` {2}\* operator 10 by oncall "hot afternoon", (?:30m|29m\d+s) left\n`,
      ),
    );

    const status = await run(['agent', 'status']);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(
      /\n {2}leases {5}frame_capture\.fps: operator 10 by oncall "hot afternoon", (?:30m|29m\d+s) left/,
    );
    // the JSON carries the leases the text shows
    const statusJson = await run(['agent', 'status', '--output', 'json']);
    expect(statusJson.status, statusJson.stderr).toBe(0);
    const withLeases = expectValid('agent status', statusJson.stdout) as { runtime: { leases: Lease[] } };
    expect(withLeases.runtime.leases).toContainEqual(
      expect.objectContaining({ path: 'frame_capture.fps', owner: 'operator', value: 10, reason: 'hot afternoon' }),
    );

    const explain = await gitopsAsync(['explain', 'frame_capture.fps', '--agent', url, '--root', dir], {
      env: { DOORBELL_AGENT_TOKEN: tokens.viewer },
    });
    expect(explain.stderr).toBe('');
    expect(explain.status).toBe(0);
    expect(explain.stdout).toMatch(/^frame_capture\.fps = 15 {4}\[development\/dev-bench-01\]\n/);
    expect(explain.stdout).toMatch(
      new RegExp(
        [
          String.raw` {2}runtime layers on the agent \(release tree-[0-9a-f]{7}\), lowest first:`,
          String.raw` {4}signed {5}15`,
          String.raw` {4}experiment -`,
          String.raw` {4}tuner {6}-`,
          String.raw` {4}governor {3}-`,
          String.raw` {2}\* operator {3}10 by oncall "hot afternoon", (?:30m|29m\d+s) left`,
          String.raw` {2}runs 10 \(the operator lease wins\)`,
        ].join('\n'),
      ),
    );
    const explainJson = await gitopsAsync(
      ['explain', 'frame_capture.fps', '--agent', url, '--root', dir, '--format', 'json'],
      { env: { DOORBELL_AGENT_TOKEN: tokens.viewer } },
    );
    const facts = JSON.parse(explainJson.stdout) as {
      value: number;
      runtime: { value: number; tunable: { winner: string } };
    };
    expect(facts).toMatchObject({ value: 15, runtime: { value: 10, tunable: { winner: 'operator' } } });
    const notTunable = await gitopsAsync(['explain', 'web_interface.port', '--agent', url, '--root', dir], {
      env: { DOORBELL_AGENT_TOKEN: tokens.viewer },
    });
    expect(notTunable.stdout).toMatch(
      /on the agent \(release tree-[0-9a-f]{7}\): 8080; not tunable at runtime: the signed value runs\n$/,
    );

    const clear = await tune(['clear', 'frame_capture.fps', '--output', 'json']);
    expect(clear.status).toBe(0);
    expect(expectValid('agent tune', clear.stdout)).toMatchObject({
      outcome: 'applied',
      value: 15,
      winner: 'signed',
      lease: null,
    } satisfies Partial<LeaseAnswer>);
    expect(applied.at(-1)).toBe(15);
    const again = await tune(['clear', 'frame_capture.fps']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('the agent refused (lease-not-found)');
  });

  it('a lease expires back to the signed value by itself', async () => {
    const set = await tune(['set', 'motion.sensitivity=0.45', '--ttl', '3s', '--reason', 'windy']);
    expect(set.status).toBe(0);
    expect((await tunables()).tunables.find((t) => t.path === 'motion.sensitivity')).toMatchObject({ value: 0.45 });
    await until(
      'the lease to expire',
      async () => (await tunables()).tunables.find((t) => t.path === 'motion.sensitivity')!,
      (t) => t.winner === 'signed' && t.value === 0.6,
    );
    const list = await tune(['list'], 'viewer');
    expect(list.stdout).toContain('\nmotion.sensitivity = 0.6  (signed;');
  });

  it.each([
    [['frame_capture.fps=500', '--reason', 'x'], 'lease-out-of-bounds'],
    [['frame_capture.fps=12', '--ttl', '3d', '--reason', 'x'], 'lease-ttl-too-long'],
    [['web_interface.port=8081', '--reason', 'x'], 'not-tunable'],
  ])('refuses %j with exit 1 and the code (%s), as text and as the API answer', async (args, code) => {
    const text = await tune(['set', ...args]);
    expect(text.status).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain(`the agent refused (${code}): `);
    const json = await tune(['set', ...args, '--output', 'json']);
    expect(json.status).toBe(1);
    expect((expectValid('agent tune', json.stdout) as ErrorAnswer).code).toBe(code);
  });

  it('a viewer may not set a lease', async () => {
    const r = await gitopsAsync(['agent', 'tune', 'set', 'frame_capture.fps=12', '--reason', 'x', '--url', url], {
      env: { DOORBELL_AGENT_TOKEN: tokens.viewer },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the agent refused (forbidden)');
  });

  it('a lease that makes a component unhealthy is rolled back and journaled (exit 1)', async () => {
    const before = applied.length;
    const r = await tune(['set', 'frame_capture.fps=9', '--reason', 'try 9 fps']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the agent refused (lease-rolled-back)');
    expect(applied.slice(before)).toEqual([9, 15]); // delivered, then the configuration before it again
    expect(await fps()).toMatchObject({ value: 15, winner: 'signed' });
    const journal = (await (
      await fetch(`${url}/api/v1/journal?limit=20&event=lease-rolled-back`, { headers: bearer(tokens.viewer) })
    ).json()) as JournalEntry[];
    expect(journal[0]).toMatchObject({ event: 'lease-rolled-back', code: 'unhealthy' });
  });

  it.each([
    [['set', 'frame_capture.fps', '--reason', 'x'], 'is not PATH=VALUE'],
    [['set', 'frame_capture.fps=10'], 'needs --reason'],
    [['set', 'frame_capture.fps=10', '--ttl', '1.5h', '--reason', 'x'], 'is not a duration'],
    [['set', 'frame_capture.fps={"a":1}', '--reason', 'x'], 'takes a number, true, false or a string'],
    [['set', 'a=1', 'b=2', '--reason', 'x'], 'takes one PATH=VALUE'],
    [['clear'], 'takes one PATH'],
    [['list', '--output', 'xml'], '--output must be one of text, json, yaml'],
    [['list', '--json', '--format', 'text'], '--output, --format and --json say different things'],
    [['frobnicate'], 'unknown action "frobnicate"'],
    [[], 'say list, set or clear'],
  ])('%j is a usage error (exit 2)', async (args, text) => {
    const r = await tune(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(text);
  });

  it("an environment's policy that forbids operator leases refuses them (lease-policy)", async () => {
    const running = async (): Promise<string> =>
      (
        (await (await fetch(`${url}/api/v1/status`, { headers: bearer(tokens.viewer) })).json()) as {
          current: { commit: string };
        }
      ).current.commit;
    const before = await running();
    const file = join(dir, 'environments/development/environment.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['policy', 'operator_leases'], { allowed: false });
    writeFileSync(file, doc.toString());
    // with a change of the configuration too: an edit of the policy alone renders the same configuration
    const capture = join(dir, 'config/frame_capture.yaml');
    writeFileSync(capture, readFileSync(capture, 'utf8').replace('  fps: 15', '  fps: 14'));
    await until('the edited policy to run', running, (c) => c !== before).catch((e: Error) => {
      throw new Error(`${e.message}\n${agent.lines.slice(-12).join('\n')}`);
    });
    const r = await tune(['set', 'frame_capture.fps=12', '--reason', 'x']);
    expect(r.stderr).toContain('the agent refused (lease-policy)');
    expect(r.status).toBe(1);
  }, 60_000);

  it('status, journal, releases, diff, sync and rollback print JSON that matches their schemas, and YAML of the same data', async () => {
    const json = async (...args: string[]): Promise<unknown> => {
      const r = await run(['agent', ...args, '--output', 'json'], 'operator');
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.status, args.join(' ')).toBe(0);
      return expectValid(`agent ${args[0]!}`, r.stdout);
    };
    const status = (await json('status')) as { current: { commit: string }; runtime: unknown };
    expect(status.runtime).toMatchObject({ leases: [], governor: { step: 0, signals: expect.any(Array) } });
    const journal = (await json('journal', '--limit', '50')) as Array<{ event: string }>;
    expect(journal.map((e) => e.event)).toContain('lease-rolled-back');
    const releases = (await json('releases')) as Array<{ commit: string; current: boolean }>;
    expect(releases.length).toBeGreaterThanOrEqual(2); // the policy edit made a second release
    expect(releases.find((r) => r.current)?.commit).toBe(status.current.commit);
    const diff = (await json('diff')) as { to: { commit: string }; changes: Array<{ path: string }> };
    expect(diff.to.commit).toBe(status.current.commit);
    expect(diff.changes.map((c) => c.path)).toContain('frame_capture.fps');
    expect(await json('sync')).toMatchObject({ outcome: expect.any(String) });
    const yaml = await run(['agent', 'releases', '--output', 'yaml']);
    expect(parseYaml(yaml.stdout)).toEqual(releases);
    // last: it changes the release that runs
    const rollback = (await json('rollback', '--to', 'previous', '--reason', 'schema check')) as { outcome: string };
    expect(rollback.outcome).toBe('rolled-back');
  }, 60_000);
});

describe('gitops agent status against an agent without runtime layers', () => {
  // an older agent: its status, and 404 for /api/v1/tunables
  const server = createServer((req, res) => {
    if (req.url === '/api/v1/status')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          environment: 'production',
          device: 'front-door-01',
          mode: 'remote',
          current: { commit: 'a'.repeat(40), subject: 'faster capture', applied_at: null },
          last_good: { commit: 'a'.repeat(40) },
          components: [{ name: 'capture', healthy: true, since: '2026-12-01T08:00:00.000Z' }],
          syncing: false,
          last_sync: null,
          last_error: null,
          next_poll: null,
          caller: { role: 'viewer', name: 'loopback' },
        }),
      );
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ code: 'not-found', message: `no such endpoint: GET ${req.url}`, hint: '' }));
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => void server.close());

  it('shows the status and nothing more', async () => {
    const r = await gitopsAsync(['agent', 'status', '--url', url]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^production\/front-door-01 \(remote\)\n/);
    expect(r.stdout).not.toContain('leases');
    expect(r.stdout).not.toContain('governor');
    const tuneList = await gitopsAsync(['agent', 'tune', 'list', '--url', url]);
    expect(tuneList.status).toBe(1);
    expect(tuneList.stderr).toContain('(not-found)');
  });
});

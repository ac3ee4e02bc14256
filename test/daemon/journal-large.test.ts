// A device whose journal grew to 30 MB: the real agent, under the memory limits its systemd unit
// sets (NODE_OPTIONS and malloc settings read from agent/doorbell-agent.service), answers
// ?limit=5 and ?event=... from the end of the journal, skips lines that are JSON but not
// objects, rotates the journal on its next entry (the old history kept), and keeps running.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { gitopsAsync } from '../helpers/cli.js';
import { exampleCopy, PROJECT } from '../helpers/project.js';

const key = join(PROJECT, 'environments/development/keys/dev-bench-01.agekey');

/** The Environment= settings of the unit that bound memory: NODE_OPTIONS and glibc's malloc. */
function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(join(PROJECT, 'agent/doorbell-agent.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment="?([A-Z_]+)=(.*?)"?$/gm)) if (m[1] !== 'NODE_ENV') env[m[1]!] = m[2]!;
  return env;
}

const MB = 1024 * 1024;

describe('a 30 MB journal', () => {
  const dir = exampleCopy();
  const state = join(dir, '.state');
  let agent: AgentProcess;
  let api = '';
  const env = unitEnvironment();
  const written = { lines: 0, lastObjects: [] as Array<Record<string, unknown>> };

  beforeAll(async () => {
    expect(env.NODE_OPTIONS).toMatch(/--max-old-space-size=\d+/);
    mkdirSync(state, { recursive: true, mode: 0o700 });
    // written in pieces: the test itself never holds the whole file
    const fd = openSync(join(state, 'journal.jsonl'), 'w', 0o600);
    const reason = 'the detector crashed: '.padEnd(300, 'x');
    let size = 0;
    writeSync(
      fd,
      JSON.stringify({
        time: '2026-01-01T00:00:00.000Z',
        event: 'refused',
        commit: 'f'.repeat(40),
        code: 'invalid',
        reason: 'the oldest refusal',
      }) + '\n',
    );
    for (let block = 0; size < 30 * MB; block++) {
      const lines: string[] = [];
      for (let i = 0; i < 1000; i++)
        lines.push(
          JSON.stringify({
            time: new Date(Date.UTC(2026, 0, 2) + (block * 1000 + i) * 1000).toISOString(),
            event: 'applied',
            commit: (block * 1000 + i).toString(16).padStart(40, '0'),
            reason,
            steps: { fetch: 12, verify: 3 },
          }),
        );
      const text = lines.join('\n') + '\n';
      size += writeSync(fd, text);
      written.lines += lines.length;
    }
    const tail = [
      { time: '2026-11-30T00:00:00.000Z', event: 'applied', commit: 'a'.repeat(40) },
      {
        time: '2026-11-30T00:00:01.000Z',
        event: 'refused',
        commit: 'b'.repeat(40),
        code: 'unsigned',
        reason: 'the newest refusal',
      },
      { time: '2026-11-30T00:00:02.000Z', event: 'applied', commit: 'c'.repeat(40) },
    ];
    // JSON that is not an object, between and after the last entries, and a line cut by a crash
    writeSync(
      fd,
      [
        JSON.stringify(tail[0]),
        '42',
        'null',
        JSON.stringify(tail[1]),
        '"a string"',
        '[1,2,3]',
        'true',
        JSON.stringify(tail[2]),
        '[]',
        '{"time":"2026-11-30T00:00:03.000Z","event":"app',
      ].join('\n'),
    );
    closeSync(fd);
    written.lastObjects = tail;
    expect(statSync(join(state, 'journal.jsonl')).size).toBeGreaterThan(30 * MB);

    agent = startAgent(
      [
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
        '127.0.0.1:0',
        '--with-example-pipeline',
      ],
      env,
    );
    api = await agent.api;
    await agent.waitFor(/applied tree-\w+ "working tree"/, 60_000);
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
  });

  const journal = async (query: string): Promise<{ status: number; body: Array<Record<string, unknown>> }> => {
    const r = await fetch(`${api}/api/v1/journal?${query}`);
    return { status: r.status, body: (await r.json()) as Array<Record<string, unknown>> };
  };

  it('?limit=5 answers the last five entries, objects only, newest last', async () => {
    const { status, body } = await journal('limit=5');
    expect(status).toBe(200);
    expect(body).toHaveLength(5);
    for (const e of body) expect(typeof e === 'object' && e !== null && !Array.isArray(e)).toBe(true);
    // the agent's own entry for what it applied comes last, after the old journal's last three
    expect(body.at(-1)).toMatchObject({ event: 'applied', commit: expect.stringMatching(/^tree-/) });
    expect(body.slice(1, 4)).toEqual(written.lastObjects);
    expect(body[0]).toMatchObject({ event: 'applied', reason: expect.stringMatching(/^the detector crashed/) });
    expect(agent.child.exitCode).toBeNull();
  });

  it('?event= finds entries from the end to the very first line, within the memory limit', async () => {
    const { status, body } = await journal('limit=5&event=refused');
    expect(status).toBe(200);
    expect(body.map((e) => e.reason)).toEqual(['the oldest refusal', 'the newest refusal']);
    const recent = await journal('limit=2&event=applied');
    expect(recent.body.map((e) => e.commit)).toEqual(['c'.repeat(40), expect.stringMatching(/^tree-/)]);
    expect(agent.child.exitCode).toBeNull();
  });

  it('the journal was rotated by size when the agent wrote to it; the old history is kept', () => {
    const files = readdirSync(state)
      .filter((f) => /^journal(\.\d+)?\.jsonl$/.test(f))
      .sort();
    expect(files).toEqual(['journal.1.jsonl', 'journal.jsonl']);
    expect(statSync(join(state, 'journal.1.jsonl')).size).toBeGreaterThan(30 * MB);
    expect(statSync(join(state, 'journal.jsonl')).size).toBeLessThan(64 * 1024);
    const fresh = readFileSync(join(state, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.at(-1)).toMatchObject({ event: 'applied' });
  });

  it('gitops agent journal reads it too, skipping what is not an entry', async () => {
    const r = await gitopsAsync(['agent', 'journal', '--limit', '5', '--url', api]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(5);
    expect(r.stdout).toContain('bbbbbbbbbbbb');
    expect(existsSync(join(state, 'journal.jsonl'))).toBe(true);
    expect(agent.child.exitCode).toBeNull();
  });
});

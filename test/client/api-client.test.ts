// The HTTP client of the agent's API (agent/io/api-client.ts) against a real local HTTP server:
// what it sends (token, query, body), and each way a call fails as a GitopsError with its code.

import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitopsError } from '../../agent/core/errors.js';
import { agentApi, completeReleaseName, readTokenFile } from '../../agent/io/api-client.js';
import { gitops } from '../helpers/cli.js';
import { tempDir, writeText } from '../helpers/project.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

describe('agentApi', () => {
  const seen: Seen[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{}' };
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  let url = '';
  const failure = async (call: () => Promise<unknown>): Promise<GitopsError> => {
    const e = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(e).toBeInstanceOf(GitopsError);
    return e as GitopsError;
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the token, the query without empty values, and the body as JSON', async () => {
    const api = agentApi(url, 'dbt_secret');
    answer = { status: 200, body: '[]' };
    await api.journal({ limit: '5', event: '' });
    await api.diff({ from: 'abc1234', to: undefined });
    answer = { status: 200, body: '{"outcome":"rolled-back","commit":"abc","ms":3}' };
    expect(await api.rollback({ to: 'previous', reason: 'crashes' })).toEqual({
      outcome: 'rolled-back',
      commit: 'abc',
      ms: 3,
    });
    expect(seen.slice(-3)).toEqual([
      { method: 'GET', url: '/api/v1/journal?limit=5', authorization: 'Bearer dbt_secret', body: '' },
      { method: 'GET', url: '/api/v1/diff?from=abc1234', authorization: 'Bearer dbt_secret', body: '' },
      {
        method: 'POST',
        url: '/api/v1/rollback',
        authorization: 'Bearer dbt_secret',
        body: '{"to":"previous","reason":"crashes"}',
      },
    ]);
    await agentApi(url, undefined).releases();
    expect(seen.at(-1)?.authorization).toBeUndefined();
  });

  it('leaves out what an older agent answered in the journal that is not an entry', async () => {
    answer = { status: 200, body: JSON.stringify([1, null, 'x', [2], { time: 't', event: 'applied' }]) };
    expect(await agentApi(url, undefined).journal({ limit: '20' })).toEqual([{ time: 't', event: 'applied' }]);
    answer = { status: 200, body: '{"not":"a list"}' };
    expect(await agentApi(url, undefined).journal({ limit: '20' })).toEqual([]);
  });

  it("keeps the agent's code, message, hint and findings when it refuses", async () => {
    answer = {
      status: 409,
      body: JSON.stringify({
        code: 'release-not-good',
        message: 'release abc was never applied successfully here',
        hint: 'roll back to a release marked good',
        diagnostics: [{ severity: 'error', code: 'schema-range', message: 'too fast' }],
      }),
    };
    const e = await failure(() => agentApi(url, undefined).rollback({ to: 'abc1234' }));
    expect(e.code).toBe('release-not-good');
    expect(e.message).toBe('the agent refused: release abc was never applied successfully here');
    expect(e.hint).toBe('roll back to a release marked good');
    expect(e.diagnostics).toEqual([{ severity: 'error', code: 'schema-range', message: 'too fast' }]);
  });

  it('answers agent-error for a code it does not know, agent-answer for what is not JSON', async () => {
    answer = { status: 418, body: '{"code":"from-a-newer-agent","message":"no"}' };
    const unknown = await failure(() => agentApi(url, undefined).status());
    expect([unknown.code, unknown.message, unknown.hint]).toEqual(['agent-error', 'the agent refused: no', '']);
    answer = { status: 500, body: '{}' };
    expect((await failure(() => agentApi(url, undefined).status())).message).toBe('the agent refused: HTTP 500');
    answer = { status: 502, body: '<html>bad gateway</html>' };
    const html = await failure(() => agentApi(url, undefined).status());
    expect(html.code).toBe('agent-answer');
    expect(html.message).toBe(`the agent at ${url} answered HTTP 502 with something that is not JSON`);
    expect(html.cause).toBeInstanceOf(SyntaxError);
  });

  it('says agent-unreachable, with its cause, when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e = await failure(() => agentApi(`http://127.0.0.1:${port}`, undefined).status());
    expect(e.code).toBe('agent-unreachable');
    expect(e.message).toBe(`cannot reach the agent at http://127.0.0.1:${port}: ECONNREFUSED`);
    expect(e.cause).toBeInstanceOf(Error);
    expect(JSON.stringify(e)).not.toContain('fetch failed');
  });

  it('completes a shortened watch-mode id from the releases, and refuses an unknown or ambiguous one', async () => {
    const api = agentApi(url, undefined);
    answer = {
      status: 200,
      body: JSON.stringify([{ commit: 'tree-0123456789abcdef' }, { commit: 'tree-01299' }, { commit: 'abc' }]),
    };
    expect(await completeReleaseName(api, 'tree-0123')).toBe('tree-0123456789abcdef');
    expect((await failure(() => completeReleaseName(api, 'tree-ff'))).code).toBe('release-unknown');
    const several = await failure(() => completeReleaseName(api, 'tree-012'));
    expect([several.code, several.message]).toEqual(['bad-release', '"tree-012" names 2 releases']);
    const asked = seen.length;
    expect(await completeReleaseName(api, 'previous')).toBe('previous');
    expect(await completeReleaseName(api, undefined)).toBeUndefined();
    expect(seen.length).toBe(asked);
  });
});

describe('readTokenFile', () => {
  it('reads the token trimmed, or says usage for a file it cannot read', () => {
    const dir = tempDir();
    writeText(join(dir, 'token'), 'dbt_abc\n');
    expect(readTokenFile(join(dir, 'token'))).toBe('dbt_abc');
    const e = (() => {
      try {
        readTokenFile(join(dir, 'missing'));
      } catch (e) {
        return e as GitopsError;
      }
    })();
    expect(e?.code).toBe('usage');
    expect(e?.message).toBe(`cannot read the token file ${join(dir, 'missing')}: ENOENT`);
  });
});

describe('gitops agent, when a call fails', () => {
  it('says what and how to fix it, exits 2 for usage, and shows the cause only with DOORBELL_DEBUG', () => {
    const missing = join(tempDir(), 'no-token');
    const plain = gitops(['agent', 'status', '--token-file', missing]);
    expect(plain.status).toBe(2);
    expect(plain.stderr).toBe(
      `gitops agent: cannot read the token file ${missing}: ENOENT\n  hint: give --token-file with a file holding an API token\n`,
    );
    const debug = gitops(['agent', 'status', '--token-file', missing], { env: { DOORBELL_DEBUG: '1' } });
    expect(debug.status).toBe(2);
    expect(debug.stderr).toContain(`\n  cause: Error: ENOENT: no such file or directory, open '${missing}'\n    at `);
  });
});

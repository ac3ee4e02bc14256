// The bounded Prometheus query client against a real HTTP server of the test: the token sent, an
// instant vector read, and each failure by its code: an error answer, no JSON, not a vector, an
// answer over the size cap, one too slow, nobody listening.

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusQuery } from '../../agent/io/prometheus-query.js';
import { withCode } from '../helpers/codes.js';

let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
const server = createServer((req, res) => handler(req, res));
let url = '';

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const answer = (status: number, body: string) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
};

describe('prometheusQuery', () => {
  it('asks /api/v1/query with the bearer token and returns the vector', async () => {
    let seen: { url?: string; auth?: string } = {};
    handler = (req, res) => {
      seen = { url: req.url, auth: req.headers.authorization };
      answer(
        200,
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: { wave: 'canary' }, value: [1, '3'] }] },
        }),
      )(req, res);
    };
    const r = await prometheusQuery(`${url}/`, { token: 's3cret' }).query('count(up)');
    expect(r).toEqual([{ metric: { wave: 'canary' }, value: [1, '3'] }]);
    expect(seen).toEqual({ url: `/api/v1/query?query=${encodeURIComponent('count(up)')}`, auth: 'Bearer s3cret' });
  });

  it('an error answer, an answer that is not JSON or not a vector: prometheus-query-failed', async () => {
    const q = prometheusQuery(url);
    handler = answer(400, JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' }));
    await expect(q.query('count(')).rejects.toThrow(withCode('prometheus-query-failed', 'parse error at char 3'));
    handler = answer(502, '<html>bad gateway</html>');
    await expect(q.query('up')).rejects.toThrow(withCode('prometheus-query-failed'));
    handler = answer(200, JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }));
    await expect(q.query('up')).rejects.toThrow(withCode('prometheus-query-failed'));
  });

  it('an answer over the cap, declared or streamed: prometheus-query-too-large', async () => {
    handler = answer(200, 'x'.repeat(5000));
    await expect(prometheusQuery(url, { maxBytes: 1000 }).query('up')).rejects.toThrow(
      withCode('prometheus-query-too-large'),
    );
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length
      res.write('x'.repeat(800));
      res.end('x'.repeat(800));
    };
    await expect(prometheusQuery(url, { maxBytes: 1000 }).query('up')).rejects.toThrow(
      withCode('prometheus-query-too-large'),
    );
  });

  it('no answer in time: prometheus-query-timeout; nobody listening: prometheus-query-failed', async () => {
    handler = () => undefined; // never answers
    await expect(prometheusQuery(url, { timeoutMs: 200 }).query('up')).rejects.toThrow(
      withCode('prometheus-query-timeout'),
    );
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(prometheusQuery(`http://127.0.0.1:${port}`).query('up')).rejects.toThrow(
      withCode('prometheus-query-failed'),
    );
  });
});

// A local HTTP server on 127.0.0.1 answering like the GitHub REST API, for the commands that
// talk to GitHub through @octokit/rest (GITHUB_API_URL points at it). Call inside a describe:
// it starts before the suite's tests and stops after them.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export interface ApiRequest {
  method: string;
  url: string;
  body: string;
  authorized: boolean;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function githubApi(answer: (req: ApiRequest) => ApiAnswer): { readonly url: string } {
  const api = { url: '' };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const a = answer({
        method: req.method ?? 'GET',
        url: req.url ?? '',
        body,
        authorized: Boolean(req.headers.authorization),
      });
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(JSON.stringify(a.body));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  return api;
}

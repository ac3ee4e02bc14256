// A real smart-HTTP git server on 127.0.0.1 (tests and benchmark): node's http server in front of `git http-backend`
// (the CGI that ships with git), serving the bare repositories under a directory. With `direct`, upload-pack is
// run as forges run it (Gitea's serviceRPC: `git upload-pack --stateless-rpc`, one process a request, no CGI).

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface GitServer {
  url: string;
  requests: number;
  /** POSTs to git-upload-pack that ask for a pack (a protocol v2 ls-refs is not one). */
  packRequests: number;
  /** Bytes of the response bodies sent, as a client receives them. */
  bytesSent: number;
  /** Makes the next answers fail (garbage, slow) for bad-remote tests. */
  mode: 'ok' | 'garbage' | 'error';
  /** When set, every request must carry it as the password of HTTP Basic authorization (a private remote). */
  token?: string;
  /** Speaks protocol v1 only, as an older server would (the Git-Protocol header is not passed on). */
  v1Only?: boolean;
  /** Fetches are served by `git upload-pack --stateless-rpc` itself rather than through `git http-backend`. */
  direct?: boolean;
  close(): Promise<void>;
}

export async function startGitServer(root: string): Promise<GitServer> {
  const state: GitServer = {
    url: '',
    requests: 0,
    packRequests: 0,
    bytesSent: 0,
    mode: 'ok',
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    state.requests++;
    if (state.mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
      res.end('this is not a pkt-line stream at all\n');
      return;
    }
    if (
      state.token !== undefined &&
      req.headers.authorization !== `Basic ${Buffer.from(`x-access-token:${state.token}`).toString('base64')}`
    ) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fleet"' });
      res.end('authentication required');
      return;
    }
    if (state.mode === 'error') {
      res.writeHead(503);
      res.end('down for maintenance');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname.endsWith('/git-upload-pack')) {
      req.once('data', (c: Buffer) => {
        if (!c.subarray(0, 64).toString('latin1').includes('command=ls-refs')) state.packRequests++;
      });
    }
    const protocol = req.headers['git-protocol'] && !state.v1Only ? String(req.headers['git-protocol']) : undefined;
    if (state.direct && uploadPack(root, url, req, res, protocol, state)) return;
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
        ...(protocol ? { GIT_PROTOCOL: protocol } : {}),
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        state.bytesSent += chunk.length;
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      state.bytesSent += head.length - end - 4;
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections(); // keep-alive sockets, and answers a client stopped reading
    });
  return state;
}

/**
 * Serves an upload-pack request (its advertisement, or a command) by running `git upload-pack
 * --stateless-rpc` on the repository; false when the request is not one (http-backend answers it).
 */
function uploadPack(
  root: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  protocol: string | undefined,
  state: GitServer,
): boolean {
  const path = decodeURIComponent(url.pathname);
  const advertise =
    req.method === 'GET' && path.endsWith('/info/refs') && url.searchParams.get('service') === 'git-upload-pack';
  const rpc = req.method === 'POST' && path.endsWith('/git-upload-pack');
  if (!advertise && !rpc) return false;
  const repo = resolve(root, '.' + path.slice(0, path.lastIndexOf(advertise ? '/info/refs' : '/git-upload-pack')));
  if (!repo.startsWith(resolve(root) + '/')) return false;
  const git = spawn('git', ['upload-pack', '--stateless-rpc', ...(advertise ? ['--advertise-refs'] : []), repo], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(protocol ? { GIT_PROTOCOL: protocol } : {}) },
  });
  const kind = advertise ? 'advertisement' : 'result';
  res.writeHead(200, { 'content-type': `application/x-git-upload-pack-${kind}`, 'cache-control': 'no-cache' });
  // protocol v0/v1 advertisements start with the service line; v2's capability list does not
  if (advertise && !/version=2/.test(protocol ?? '')) {
    const line = '# service=git-upload-pack\n';
    const head = `${(line.length + 4).toString(16).padStart(4, '0')}${line}0000`;
    state.bytesSent += head.length;
    res.write(head);
  }
  if (rpc) (req.headers['content-encoding'] === 'gzip' ? req.pipe(createGunzip()) : req).pipe(git.stdin);
  else req.resume();
  git.stdout.on('data', (chunk: Buffer) => {
    state.bytesSent += chunk.length;
    res.write(chunk);
  });
  git.stdout.on('end', () => res.end());
  git.on('error', () => res.destroy());
  return true;
}

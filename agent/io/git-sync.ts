// Fetching the configuration repository with isomorphic-git over smart HTTP(S): no git binary
// on the device. Every response is capped in bytes and time (isomorphic-git buffers whole
// packs in memory, so an endless or huge answer must be cut before it is), and a private
// remote is reached with a token read from a file.

import fs from 'node:fs';
import git from 'isomorphic-git';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { GitopsError } from '../core/errors.js';
import { formatSize } from '../core/format-size.js';

export interface SyncOptions {
  url: string;
  branch: string;
  token?: string;
  maxBytes: number;
  timeoutMs: number;
}

const tooLarge = (maxBytes: number): GitopsError => new GitopsError('sync-too-large', `the remote sent more than ${formatSize(maxBytes)}`, 'raise remote.max_fetch_mb only if the repository really is that large');

async function collect(body: AsyncIterableIterator<Uint8Array> | Uint8Array[] | undefined): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const parts: Uint8Array[] = [];
  for await (const p of body as AsyncIterable<Uint8Array>) parts.push(p);
  return Buffer.concat(parts);
}

/** An isomorphic-git HTTP client on fetch, with a byte cap over the whole sync and a deadline. */
export function cappedHttp(maxBytes: number, deadline: number): HttpClient & { exceeded(): boolean } {
  let received = 0;
  let over = false;
  return {
    exceeded: () => over,
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const left = deadline - Date.now();
      if (left <= 0) throw new GitopsError('sync-timeout', 'the remote did not finish answering in time', 'check the network; the agent retries with backoff');
      const body = await collect(req.body as AsyncIterableIterator<Uint8Array> | undefined);
      const res = await fetch(req.url, { method: req.method ?? 'GET', headers: req.headers, ...(body ? { body } : {}), signal: AbortSignal.timeout(left), redirect: 'follow' });
      const reader = res.body?.getReader();
      async function* chunks(): AsyncIterableIterator<Uint8Array> {
        if (!reader) return;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += value.length;
          if (received > maxBytes) {
            over = true;
            await reader.cancel();
            throw tooLarge(maxBytes);
          }
          yield value;
        }
      }
      return { url: res.url, method: req.method ?? 'GET', statusCode: res.status, statusMessage: res.statusText, headers: Object.fromEntries(res.headers), body: chunks() };
    },
  };
}

/** Fetches the branch into a bare repository at `gitdir`; returns the commit the remote offers. */
export async function fetchBranch(gitdir: string, o: SyncOptions): Promise<string> {
  if (!fs.existsSync(`${gitdir}/HEAD`)) {
    await git.init({ fs, gitdir, bare: true, defaultBranch: o.branch });
  }
  await git.addRemote({ fs, gitdir, remote: 'origin', url: o.url, force: true });
  const http = cappedHttp(o.maxBytes, Date.now() + o.timeoutMs);
  try {
    await git.fetch({
      fs,
      http,
      gitdir,
      remote: 'origin',
      ref: o.branch,
      remoteRef: o.branch,
      singleBranch: true,
      tags: false,
      ...(o.token ? { onAuth: () => ({ username: 'x-access-token', password: o.token! }) } : {}),
      onAuthFailure: () => ({ cancel: true }),
    });
  } catch (e) {
    if (e instanceof GitopsError) throw e;
    if (http.exceeded()) throw tooLarge(o.maxBytes);
    const msg = (e as Error).message.split('\n')[0]!;
    throw new GitopsError('sync-failed', `fetching ${o.branch} from ${o.url.replace(/\/\/[^@/]*@/, '//***@')} failed: ${msg}`, 'the agent keeps the running configuration and retries with backoff');
  }
  if (http.exceeded()) throw tooLarge(o.maxBytes);
  const remoteRef = `refs/remotes/origin/${o.branch}`;
  try {
    return await git.resolveRef({ fs, gitdir, ref: remoteRef });
  } catch {
    throw new GitopsError('sync-failed', `the remote has no branch ${o.branch}`, 'check remote.branch in the agent settings');
  }
}

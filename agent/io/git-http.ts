// The HTTP side of a fetch, without the git client: a byte cap over the whole sync and a
// deadline on fetch, the ref advertisement and ls-refs read as bounded streams, upload-pack
// answers checked (checkPack) before isomorphic-git reads them. `branchHead` is a poll's ref
// check alone: the long-lived agent asks it without loading isomorphic-git.

import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { GitopsError } from '../core/errors.js';
import { formatSize } from '../core/format/size.js';
import {
  checkPack,
  DEFAULT_WIRE_LIMITS,
  lsRefsRequest,
  packOfResponse,
  readAdvertisement,
  readLsRefs,
} from './git-wire.js';
import type { WireLimits } from './git-wire.js';

/**
 * A remote that answered protocol v2 once is asked with one POST of ls-refs at the next polls,
 * without fetching its capability advertisement first: a no-change poll is one small request.
 * An answer that is not v2 (the server changed) falls back to the advertisement.
 */
export interface RemoteSession {
  v2?: boolean;
}

/** The remote has no such branch (a wave's ref may not exist yet: the caller decides). */
export const refMissing = (branch: string): GitopsError =>
  new GitopsError('ref-missing', `the remote has no branch ${branch}`, 'check remote.branch in the agent settings');

export const tooLarge = (maxBytes: number): GitopsError =>
  new GitopsError(
    'sync-too-large',
    `the remote sent more than ${formatSize(maxBytes)}`,
    'raise remote.max_fetch_mb only if the repository really is that large',
  );

async function collect(
  body: AsyncIterableIterator<Uint8Array> | Uint8Array[] | undefined,
): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const parts: Uint8Array[] = [];
  for await (const p of body as AsyncIterable<Uint8Array>) parts.push(p);
  return Buffer.concat(parts);
}

async function* single(b: Buffer): AsyncIterableIterator<Uint8Array> {
  yield b;
}

export type CappedHttp = HttpClient & {
  exceeded(): boolean;
  received(): number;
  /**
   * The commit the remote's branch points at, asked with protocol v2 ls-refs (only that ref
   * comes back) or read from a v1 advertisement, bounded; undefined when there is no such branch.
   */
  branchCommit(url: string, branch: string): Promise<string | undefined>;
  /** The commit of the last v1 advertisement isomorphic-git was given. */
  advertised(): string | undefined;
};

/** Credentials in a URL become a Basic authorization header (fetch refuses URLs that carry them). */
function splitAuth(url: string, token: string | undefined): { url: string; authorization?: string } {
  const u = new URL(url);
  let user = decodeURIComponent(u.username);
  let pass = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  if (token) [user, pass] = ['x-access-token', token];
  return {
    url: u.toString().replace(/\/$/, ''),
    ...(user || pass ? { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } : {}),
  };
}

/**
 * An isomorphic-git HTTP client on fetch, with a byte cap over the whole sync and a deadline;
 * upload-pack answers are checked (checkPack) before isomorphic-git reads them.
 */
export function cappedHttp(
  maxBytes: number,
  deadline: number,
  options: { branch: string; token?: string; limits?: Partial<WireLimits>; session?: RemoteSession },
): CappedHttp {
  const limits = { ...DEFAULT_WIRE_LIMITS, ...options.limits };
  let received = 0;
  let over = false;
  let v1: { url: string; body: Buffer; commit: string | undefined } | undefined;
  const infoRefs = (url: string): string => `${splitAuth(url, undefined).url}/info/refs?service=git-upload-pack`;
  const smart = async (res: Response): Promise<void> => {
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP Error: ${res.status} ${res.statusText}`);
    }
    if (res.headers.get('content-type') !== 'application/x-git-upload-pack-advertisement') {
      await res.body?.cancel();
      throw new Error(`not a smart git HTTP server (content-type ${res.headers.get('content-type') ?? 'none'})`);
    }
  };
  const send = async (req: GitHttpRequest): Promise<{ res: Response; chunks: AsyncIterableIterator<Uint8Array> }> => {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new GitopsError(
        'sync-timeout',
        'the remote did not finish answering in time',
        'check the network; the agent retries with backoff',
      );
    const body = await collect(req.body as AsyncIterableIterator<Uint8Array> | undefined);
    const { url, authorization } = splitAuth(req.url, options.token);
    const headers: Record<string, string> = { ...req.headers, ...(authorization ? { authorization } : {}) };
    delete headers.Authorization;
    const res = await fetch(url, {
      method: req.method ?? 'GET',
      headers,
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(left),
      redirect: 'follow',
    });
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
    return { res, chunks: chunks() };
  };
  const response = (req: GitHttpRequest, res: Response, body: AsyncIterableIterator<Uint8Array>): GitHttpResponse => ({
    url: res.url,
    method: req.method ?? 'GET',
    statusCode: res.status,
    statusMessage: res.statusText,
    headers: Object.fromEntries(res.headers),
    body,
  });
  /** A protocol v2 ls-refs for the branch alone: its commit (undefined when the remote has no such branch). */
  const lsRefs = async (url: string, branch: string): Promise<{ commit: string | undefined }> => {
    const ls = await send({
      url: `${splitAuth(url, undefined).url}/git-upload-pack`,
      method: 'POST',
      headers: {
        'user-agent': 'git/isomorphic-git',
        'git-protocol': 'version=2',
        'content-type': 'application/x-git-upload-pack-request',
        accept: 'application/x-git-upload-pack-result',
      },
      body: single(lsRefsRequest(branch)),
    });
    if (ls.res.status !== 200 || ls.res.headers.get('content-type') !== 'application/x-git-upload-pack-result') {
      await ls.res.body?.cancel();
      throw new Error(`HTTP Error: ${ls.res.status} ${ls.res.statusText}`);
    }
    return { commit: await readLsRefs(ls.chunks, branch, limits) };
  };
  return {
    exceeded: () => over,
    received: () => received,
    advertised: () => v1?.commit,
    async branchCommit(url, branch) {
      const session = options.session ?? {};
      if (session.v2) {
        const known = await lsRefs(url, branch).catch(() => undefined);
        if (known) return known.commit;
        session.v2 = false;
      }
      const { res, chunks } = await send({
        url: infoRefs(url),
        method: 'GET',
        headers: { 'user-agent': 'git/isomorphic-git', 'git-protocol': 'version=2' },
      });
      await smart(res);
      const ad = await readAdvertisement(chunks, branch, limits);
      if (ad.version === 1) {
        // a v1 remote: its advertisement answers isomorphic-git's GET of it too
        v1 = { url: infoRefs(url), body: ad.filtered, commit: ad.commit };
        return ad.commit;
      }
      const answer = await lsRefs(url, branch);
      session.v2 = true;
      return answer.commit;
    },
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const method = req.method ?? 'GET';
      if (method === 'GET' && splitAuth(req.url, undefined).url === v1?.url) {
        return {
          url: req.url,
          method,
          statusCode: 200,
          statusMessage: 'OK',
          headers: { 'content-type': 'application/x-git-upload-pack-advertisement' },
          body: single(v1.body),
        };
      }
      const { res, chunks } = await send(req);
      if (method === 'GET' && req.url.endsWith('/info/refs?service=git-upload-pack') && res.status === 200) {
        // isomorphic-git's own advertisement (protocol v1): bounded and filtered before it reads it
        await smart(res);
        const ad = await readAdvertisement(chunks, options.branch, limits);
        if (ad.version !== 1) throw new Error('the remote answered a v1 request with protocol v2');
        v1 = { url: splitAuth(req.url, undefined).url, body: ad.filtered, commit: ad.commit };
        return {
          ...response(req, res, single(ad.filtered)),
          headers: { 'content-type': 'application/x-git-upload-pack-advertisement' },
        };
      }
      if (req.method === 'POST' && req.url.endsWith('/git-upload-pack') && res.status === 200) {
        const whole = (await collect(chunks)) ?? Buffer.alloc(0);
        checkPack(packOfResponse(whole), limits);
        return response(req, res, single(whole));
      }
      return response(req, res, chunks);
    },
  };
}

/** A fetch's failure as the agent reports it: a GitopsError as it is, else `sync-failed` naming the remote (without credentials). */
export function fetchFailure(
  e: unknown,
  o: { url: string; branch: string; maxBytes: number; exceeded: boolean },
): GitopsError {
  if (e instanceof GitopsError) return e;
  if (o.exceeded) return tooLarge(o.maxBytes);
  const msg = (e as Error).message.split('\n')[0]!;
  return new GitopsError(
    'sync-failed',
    `fetching ${o.branch} from ${o.url.replace(/\/\/[^@/]*@/, '//***@')} failed: ${msg}`,
    'the agent keeps the running configuration and retries with backoff',
    { cause: e },
  );
}

/**
 * The commit the remote's branch points at (undefined: no such branch), with one small request
 * where the remote speaks v2; a failure is `fetchFailure`'s.
 */
export async function branchHead(o: {
  url: string;
  branch: string;
  token?: string;
  timeoutMs: number;
  maxBytes: number;
  limits?: Partial<WireLimits>;
  session?: RemoteSession;
}): Promise<string | undefined> {
  const http = cappedHttp(o.maxBytes, Date.now() + o.timeoutMs, {
    branch: o.branch,
    ...(o.token ? { token: o.token } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.session ? { session: o.session } : {}),
  });
  try {
    return await http.branchCommit(o.url, o.branch);
  } catch (e) {
    throw fetchFailure(e, { ...o, exceeded: http.exceeded() });
  }
}

// Fetching the configuration repository with isomorphic-git over smart HTTP(S): no git binary
// on the device. Every response is capped in bytes and time (isomorphic-git buffers whole
// packs in memory, so an endless or huge answer must be cut before it is), the ref
// advertisement is read here as a stream and bounded (only HEAD and the branch reach
// isomorphic-git), a pack is checked from its object headers before anything is inflated, and a
// private remote is reached with a token read from a file.
//
// A poll whose commit the device already has (or knows to be bad) ends once the remote has
// said which commit its branch points at (protocol v2 ls-refs, or the v1 advertisement): no
// pack is asked for. Otherwise the fetch says what the device has (`have`),
// so the remote sends only the new objects.

import fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { GitopsError } from '../core/errors.js';
import { formatSize } from '../core/format/size.js';
import { objectReader } from './git-objects.js';
import {
  checkPack,
  DEFAULT_WIRE_LIMITS,
  lsRefsRequest,
  packOfResponse,
  readAdvertisement,
  readLsRefs,
} from './git-wire.js';
import type { WireLimits } from './git-wire.js';

export interface SyncOptions {
  url: string;
  branch: string;
  token?: string;
  maxBytes: number;
  timeoutMs: number;
  limits?: Partial<WireLimits>;
  /** A commit whose whole history the repository holds: told to the remote so that it sends only what is newer. */
  have?: string | null;
  /** Commits for which no pack is asked even when they are not here (known bad ones). */
  known?: Iterable<string>;
  /** isomorphic-git's cache (pack indexes), kept by the caller across syncs. */
  cache?: object;
  /** What the remote was found to speak, kept by the caller across syncs (see RemoteSession). */
  session?: RemoteSession;
}

/**
 * A remote that answered protocol v2 once is asked with one POST of ls-refs at the next polls,
 * without fetching its capability advertisement first: a no-change poll is one small request.
 * An answer that is not v2 (the server changed) falls back to the advertisement.
 */
export interface RemoteSession {
  v2?: boolean;
}

export interface FetchResult {
  /** The commit the remote's branch points at. */
  commit: string;
  /** The pack this fetch added (objects/pack/pack-*.pack), or null when nothing was fetched. */
  pack: string | null;
  /** Bytes received from the remote (advertisement and pack). */
  bytes: number;
}

const tooLarge = (maxBytes: number): GitopsError =>
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

function packs(gitdir: string): Set<string> {
  try {
    return new Set(fs.readdirSync(join(gitdir, 'objects/pack')).filter((f) => f.endsWith('.pack')));
  } catch {
    return new Set();
  }
}

/**
 * Fetches the branch into a bare repository at `gitdir`: only the branch's commit is asked when
 * it is here already or known, else the objects newer than `have` are fetched.
 */
export async function fetchBranch(gitdir: string, o: SyncOptions): Promise<FetchResult> {
  if (!fs.existsSync(`${gitdir}/HEAD`)) {
    await git.init({ fs, gitdir, bare: true, defaultBranch: o.branch });
  }
  await git.addRemote({ fs, gitdir, remote: 'origin', url: o.url, force: true });
  const http = cappedHttp(o.maxBytes, Date.now() + o.timeoutMs, {
    branch: o.branch,
    ...(o.token ? { token: o.token } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.session ? { session: o.session } : {}),
  });
  const cache = o.cache ?? {};
  const haveRef = `refs/heads/${o.branch}`;
  const fail = (e: unknown): GitopsError => {
    if (e instanceof GitopsError) return e;
    if (http.exceeded()) return tooLarge(o.maxBytes);
    const msg = (e as Error).message.split('\n')[0]!;
    return new GitopsError(
      'sync-failed',
      `fetching ${o.branch} from ${o.url.replace(/\/\/[^@/]*@/, '//***@')} failed: ${msg}`,
      'the agent keeps the running configuration and retries with backoff',
      { cause: e },
    );
  };
  let commit: string | undefined;
  try {
    commit = await http.branchCommit(o.url, o.branch);
  } catch (e) {
    throw fail(e);
  }
  if (!commit)
    throw new GitopsError(
      'ref-missing',
      `the remote has no branch ${o.branch}`,
      'check remote.branch in the agent settings',
    );
  const reader = objectReader(gitdir, cache);
  if (new Set(o.known ?? []).has(commit) || (await reader.read(commit))?.type === 'commit')
    return { commit, pack: null, bytes: http.received() };

  // isomorphic-git tells the remote what the local branch points at: the commit we have
  if (o.have && (await reader.read(o.have))?.type === 'commit')
    await git.writeRef({ fs, gitdir, ref: haveRef, value: o.have, force: true });
  else await git.deleteRef({ fs, gitdir, ref: haveRef }).catch(() => undefined);
  const before = packs(gitdir);
  try {
    await git.fetch({
      fs,
      http,
      gitdir,
      cache,
      remote: 'origin',
      ref: haveRef,
      remoteRef: o.branch,
      singleBranch: true,
      tags: false,
      onAuthFailure: () => ({ cancel: true }),
    });
  } catch (e) {
    throw fail(e);
  }
  if (http.exceeded()) throw tooLarge(o.maxBytes);
  commit = http.advertised() ?? commit; // pushed to between the two questions: what was fetched
  const added = [...packs(gitdir)].find((p) => !before.has(p));
  if ((await objectReader(gitdir, cache).read(commit))?.type !== 'commit')
    throw new GitopsError(
      'sync-failed',
      `the remote did not send ${commit.slice(0, 12)}`,
      'the agent retries with backoff',
    );
  return { commit, pack: added ? `objects/pack/${added}` : null, bytes: http.received() };
}

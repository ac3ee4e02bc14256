// A bounded client of the Prometheus HTTP query API (GET /api/v1/query, an instant vector; and
// /api/v1/query_range, a matrix, for the switchback report's blocks), for the rollout gate:
// Prometheus, Mimir, Thanos or VictoriaMetrics answer the same. Every query has a timeout, the
// answer is read only up to a size cap (an untrusted remote cannot fill memory), and every failure
// is a GitopsError with a code: prometheus-query-failed, -timeout, -too-large.

import { GitopsError } from '../core/errors.js';
import { readRegularFile } from './safe-read.js';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One series of a range query: its values at each evaluation time (Unix seconds). */
export interface RangeSample {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

export interface PrometheusQuery {
  /** The base URL asked, e.g. https://prometheus.example (without /api/v1). */
  url: string;
  /** An instant query: the result vector, evaluated now or at `time` (Unix seconds). */
  query(expr: string, time?: number): Promise<Sample[]>;
  /** A range query (GET /api/v1/query_range): the matrix evaluated at start, start + step, ... up to end (Unix seconds). */
  queryRange?(expr: string, start: number, end: number, stepSeconds: number): Promise<RangeSample[]>;
}

export interface PrometheusQueryOptions {
  /** Sent as `Authorization: Bearer ...` when given. */
  token?: string;
  timeoutMs?: number;
  maxBytes?: number;
}

const HINT = 'check the Prometheus URL (--prometheus) and that it answers /api/v1/query; the gate holds without it';

/** The bearer token in a file (trimmed), read bounded; a missing or unreadable file is a usage error. */
export function readPrometheusToken(file: string): string {
  const r = readRegularFile(file, 64 * 1024, { followLinks: true });
  if (!r.ok)
    throw new GitopsError(
      'usage',
      `cannot read the Prometheus token file ${file}: ${r.code}${r.errno ? ` (${r.errno})` : ''}`,
      'give --prometheus-token-file with a file holding the bearer token',
    );
  return r.bytes.toString('utf8').trim();
}

async function boundedBody(res: Response, maxBytes: number, where: string): Promise<string> {
  const tooLarge = (): GitopsError =>
    new GitopsError(
      'prometheus-query-too-large',
      `${where} answered more than ${maxBytes} bytes`,
      'narrow the query, or check that the URL is a Prometheus query API',
    );
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function prometheusQuery(url: string, options: PrometheusQueryOptions = {}): PrometheusQuery {
  const base = url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  /** GET /api/v1/<path>?<params>: the result of the type asked, bounded in time and size. */
  async function get(path: 'query' | 'query_range', params: Record<string, string>, type: 'vector' | 'matrix') {
    const where = `Prometheus at ${base}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      let res: Response;
      try {
        res = await fetch(
          `${base}/api/v1/${path}?${Object.entries(params)
            .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
            .join('&')}`,
          {
            signal: controller.signal,
            headers: {
              accept: 'application/json',
              ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            },
          },
        );
      } catch (e) {
        if (controller.signal.aborted)
          throw new GitopsError('prometheus-query-timeout', `${where} did not answer in ${timeoutMs} ms`, HINT, {
            cause: e,
          });
        throw new GitopsError(
          'prometheus-query-failed',
          `${where} cannot be reached: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`,
          HINT,
          { cause: e },
        );
      }
      let text: string;
      try {
        text = await boundedBody(res, maxBytes, where);
      } catch (e) {
        if (e instanceof GitopsError) throw e;
        if (controller.signal.aborted)
          throw new GitopsError(
            'prometheus-query-timeout',
            `${where} did not finish its answer in ${timeoutMs} ms`,
            HINT,
          );
        throw new GitopsError(
          'prometheus-query-failed',
          `${where}: the answer broke off: ${(e as Error).message}`,
          HINT,
        );
      }
      let body: { status?: unknown; data?: { resultType?: unknown; result?: unknown }; error?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new GitopsError(
          'prometheus-query-failed',
          `${where} answered HTTP ${res.status} that is not JSON: ${text.slice(0, 120)}`,
          HINT,
        );
      }
      if (body.status !== 'success')
        throw new GitopsError(
          'prometheus-query-failed',
          `${where} refused the query (HTTP ${res.status}): ${String(body.error ?? 'no error given').slice(0, 300)}`,
          res.status === 401 || res.status === 403 ? 'give a token that may query (--prometheus-token-file)' : HINT,
        );
      if (body.data?.resultType !== type || !Array.isArray(body.data.result))
        throw new GitopsError(
          'prometheus-query-failed',
          `${where} answered something that is not ${type === 'vector' ? 'an instant vector' : 'a range matrix'}`,
          HINT,
        );
      return body.data.result as unknown[];
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }
  return {
    url: base,
    async query(expr, time) {
      const params: Record<string, string> = { query: expr, ...(time === undefined ? {} : { time: String(time) }) };
      return (await get('query', params, 'vector')).filter(isSample);
    },
    async queryRange(expr, start, end, stepSeconds) {
      const params = { query: expr, start: String(start), end: String(end), step: String(stepSeconds) };
      return (await get('query_range', params, 'matrix')).filter(isRangeSample);
    },
  };
}

function isRangeSample(v: unknown): v is RangeSample {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as { metric?: unknown; values?: unknown };
  return (
    typeof s.metric === 'object' &&
    s.metric !== null &&
    Array.isArray(s.values) &&
    s.values.every((x) => Array.isArray(x) && x.length === 2 && typeof x[1] === 'string')
  );
}

function isSample(v: unknown): v is Sample {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as { metric?: unknown; value?: unknown };
  return (
    typeof s.metric === 'object' &&
    s.metric !== null &&
    Array.isArray(s.value) &&
    s.value.length === 2 &&
    typeof s.value[1] === 'string'
  );
}

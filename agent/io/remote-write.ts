// Prometheus remote write (protocol 1.0, https://prometheus.io/docs/specs/remote_write_spec/): the
// agent's metrics as a WriteRequest (protobuf, the messages of prometheus/prompb, with protobufjs),
// compressed with snappy's block format (snappyjs), POSTed to a receiver: Prometheus with
// --web.enable-remote-write-receiver, Mimir, Thanos Receive, VictoriaMetrics. A push either
// succeeds, or says whether it is worth retrying (network, 5xx, 429) or not (any other 4xx).

import protobuf from 'protobufjs/light.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { compress, uncompress } from 'snappyjs';
import { GitopsError } from '../core/errors.js';
import { readRegularFile } from './safe-read.js';

/** prompb's Label, Sample, TimeSeries and WriteRequest (types.proto, remote.proto), the fields remote write 1.0 sends. */
const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
      },
    },
  },
});
const WriteRequest = root.lookupType('prometheus.WriteRequest');

export interface Sample {
  value: number;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
}

export interface TimeSeries {
  /** Sorted by name, `__name__` among them. */
  labels: Array<{ name: string; value: string }>;
  samples: Sample[];
}

/** Labels the agent sets on every series itself: a settings label of one of these names is refused. */
export const AGENT_LABELS = ['environment', 'device', 'wave', 'job', 'instance'] as const;
export type AgentLabels = Record<(typeof AGENT_LABELS)[number], string>;

/** The job label of every series an agent pushes. */
export const AGENT_JOB = 'doorbell-agent';

/**
 * The labels put on every pushed series: the operator's `extra` ones (telemetry.remote_write.labels)
 * and the agent's own, which cannot be overridden: a settings label that names one is refused.
 */
export function pushLabels(agent: AgentLabels, extra: Readonly<Record<string, string>>): Record<string, string> {
  const taken = Object.keys(extra).filter((k) => (AGENT_LABELS as readonly string[]).includes(k) || k.startsWith('__'));
  if (taken.length > 0)
    throw new GitopsError(
      'settings-invalid',
      `telemetry.remote_write.labels sets ${taken.join(', ')}, which the agent sets itself (${AGENT_LABELS.join(', ')})`,
      'remove those labels from telemetry.remote_write.labels: the agent sends its environment, device id and wave',
    );
  return { ...extra, ...agent };
}

/**
 * prom-client's metrics (`registry.getMetricsAsJSON()`) as time series of one sample each at
 * `timestamp`: counters and gauges as they are, histograms and summaries as their _bucket{le},
 * _sum and _count (or {quantile}) series. A series' own label wins over a pushed label of the same
 * name (environment and device on the info metrics hold the same values), so no name appears twice.
 */
export function toTimeSeries(
  metrics: ReadonlyArray<MetricObjectWithValues<MetricValue<string>>>,
  labels: Readonly<Record<string, string>>,
  timestamp: number,
): TimeSeries[] {
  const out: TimeSeries[] = [];
  for (const m of metrics)
    for (const v of m.values) {
      const name = (v as { metricName?: string }).metricName ?? m.name;
      const all: Record<string, string> = { ...labels };
      for (const [k, x] of Object.entries(v.labels)) if (x !== undefined) all[k] = String(x);
      all.__name__ = name;
      out.push({
        labels: Object.keys(all)
          .sort()
          .map((k) => ({ name: k, value: all[k]! })),
        samples: [{ value: v.value, timestamp }],
      });
    }
  return out;
}

/** The body of a push: the WriteRequest, protobuf-encoded and snappy-compressed (block format). */
export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  return compress(WriteRequest.encode(WriteRequest.fromObject({ timeseries: series })).finish());
}

/** A push's body read back (tests, a test receiver); `maxBytes` bounds the uncompressed size. */
export function decodeWriteRequest(body: Uint8Array, maxBytes = 64 * 1024 * 1024): TimeSeries[] {
  const message = WriteRequest.decode(uncompress(body, maxBytes));
  const o = WriteRequest.toObject(message, { longs: Number, defaults: true }) as { timeseries: TimeSeries[] };
  return o.timeseries;
}

/** The URL with any user and password taken out, as it may be printed. */
export function shownUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

export type PushResult =
  | { ok: true; status: number }
  /** `retry`: the endpoint may take it later (network, timeout, 5xx, 429); otherwise it never will. */
  | { ok: false; retry: boolean; status?: number; reason: string };

export interface PushOptions {
  url: string;
  body: Uint8Array;
  /** A bearer token is read from it at each push (it may be rotated). */
  tokenFile?: string;
  timeoutMs: number;
  /** Cut short on stop. */
  signal?: AbortSignal;
  /** How much of the answer is read (an error's text); the rest is not. */
  maxResponseBytes?: number;
}

/** A token is a line; a file named by mistake (a FIFO, a disk image) is not read whole. */
const MAX_TOKEN_BYTES = 64 * 1024;
const MAX_RESPONSE_BYTES = 16 * 1024;

/** At most `max` bytes of the body, the rest cancelled unread. */
export async function boundedText(res: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  const reader = res.body?.getReader();
  if (!reader) return { text: '', truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.subarray(0, max - size));
    size += value.length;
    if (size >= max) {
      await reader.cancel();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: size > max };
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

function authorization(url: URL, tokenFile: string | undefined): string | undefined {
  if (tokenFile) {
    const read = readRegularFile(tokenFile, MAX_TOKEN_BYTES, { followLinks: true });
    if (!read.ok)
      throw new GitopsError(
        read.code === 'file-too-large' ? 'file-too-large' : 'file-not-readable',
        `telemetry.remote_write.token_file ${tokenFile} cannot be read (${read.errno ?? read.code})`,
        'point telemetry.remote_write.token_file at the file holding the bearer token',
      );
    return `Bearer ${read.bytes.toString('utf8').trim()}`;
  }
  // https://user:password@host/... (Grafana Cloud, Mimir behind a proxy): basic authentication
  if (url.username || url.password)
    return `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  return undefined;
}

const cause = (e: unknown): string =>
  (e as Error).name === 'TimeoutError'
    ? 'no answer in time'
    : (e as Error).name === 'AbortError'
      ? 'stopped'
      : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);

/** One push of an encoded WriteRequest; never throws. */
export async function pushWriteRequest(o: PushOptions): Promise<PushResult> {
  const target = new URL(o.url);
  let auth: string | undefined;
  try {
    auth = authorization(target, o.tokenFile);
  } catch (e) {
    return { ok: false, retry: true, reason: (e as Error).message };
  }
  target.username = '';
  target.password = '';
  const timeout = AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: {
        'content-encoding': 'snappy',
        'content-type': 'application/x-protobuf',
        'user-agent': 'doorbell-agent',
        'x-prometheus-remote-write-version': '0.1.0',
        ...(auth ? { authorization: auth } : {}),
      },
      body: o.body,
      // a redirect is answered, not followed: the token goes to the configured address only
      redirect: 'manual',
      signal: o.signal ? AbortSignal.any([timeout, o.signal]) : timeout,
    });
  } catch (e) {
    return { ok: false, retry: true, reason: `cannot reach ${shownUrl(o.url)}: ${cause(e)}` };
  }
  let answer: { text: string; truncated: boolean };
  try {
    answer = await boundedText(res, o.maxResponseBytes ?? MAX_RESPONSE_BYTES);
  } catch (e) {
    answer = { text: `(the answer could not be read: ${cause(e)})`, truncated: false };
  }
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  const said = answer.text.trim().replace(/\s+/g, ' ').slice(0, 500);
  const reason = `${shownUrl(o.url)} answered HTTP ${res.status}${said ? `: ${said}` : ''}${answer.truncated ? ' ...' : ''}`;
  if (res.status >= 300 && res.status < 400)
    return {
      ok: false,
      retry: false,
      status: res.status,
      reason: `${reason} (redirected to ${res.headers.get('location') ?? 'nowhere'}; set telemetry.remote_write.url to the final address)`,
    };
  const retry = res.status === 429 || res.status >= 500;
  return { ok: false, retry, status: res.status, reason };
}

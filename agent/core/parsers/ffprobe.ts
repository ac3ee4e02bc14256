// ffprobe: the JSON writer (also wrapped the way Frigate's API returns it) and the default
// [STREAM] writer. Unknowns are null: a 0x0 stream means "not seen yet", "0/0" means "no rate".

import { cleanOutput } from './text.js';

export interface FfprobeStream {
  type: string | null;
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
}

export interface FfprobeFacts {
  format: 'ffprobe-json' | 'ffprobe-default' | 'unrecognised';
  streams: FfprobeStream[];
  raw: string;
}

/** "30000/1001" -> 29.97; "0/0", "" and nonsense -> null. */
export function parseRate(rate: unknown): number | null {
  if (typeof rate === 'number') return rate > 0 ? rate : null;
  if (typeof rate !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?))?\s*$/.exec(rate);
  if (!m) return null;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (!(num > 0) || !(den > 0)) return null;
  const fps = num / den;
  return fps > 1000 ? null : Math.round(fps * 1000) / 1000; // r_frame_rate 90000/1 is a time base, not a rate
}

const dimension = (v: unknown): number | null =>
  typeof v === 'number' && v > 0 ? v : typeof v === 'string' && Number(v) > 0 ? Number(v) : null;

function streamFrom(s: Record<string, unknown>): FfprobeStream {
  const codec = (s.codec_name ?? s.codec_long_name ?? null) as string | null;
  const width = dimension(s.width);
  const height = dimension(s.height);
  const type =
    (s.codec_type as string | undefined) ??
    (width !== null || height !== null
      ? 'video'
      : codec && /audio|aac|opus|pcm|g\.?711|mp3/i.test(codec)
        ? 'audio'
        : null);
  return {
    type,
    codec,
    width: width && height ? width : null,
    height: width && height ? height : null,
    fps: parseRate(s.avg_frame_rate) ?? parseRate(s.r_frame_rate),
  };
}

export function parseFfprobe(raw: string): FfprobeFacts {
  const text = cleanOutput(raw).trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      const outputs = Array.isArray(parsed)
        ? parsed.map((x) => (x && typeof x === 'object' && 'stdout' in x ? (x as { stdout: unknown }).stdout : x))
        : [parsed];
      const streams = outputs
        .flatMap((o) =>
          o && typeof o === 'object' && Array.isArray((o as { streams?: unknown }).streams)
            ? (o as { streams: Array<Record<string, unknown>> }).streams
            : [],
        )
        .map(streamFrom);
      return { format: 'ffprobe-json', streams, raw };
    } catch {
      // not JSON: perhaps the default writer, whose first line is "[STREAM]"
    }
  }
  const blocks = [...text.matchAll(/\[STREAM\]\n([\s\S]*?)\[\/STREAM\]/g)];
  if (blocks.length === 0) return { format: 'unrecognised', streams: [], raw };
  const streams = blocks.map((b) => {
    const fields: Record<string, unknown> = {};
    for (const line of b[1]!.split('\n')) {
      const m = /^([A-Za-z_:]+)=(.*)$/.exec(line.trim());
      if (m) fields[m[1]!] = m[2] === 'N/A' ? undefined : m[2];
    }
    return streamFrom(fields);
  });
  return { format: 'ffprobe-default', streams, raw };
}

/** A URL with its credentials removed, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/i, '$1***@');
}

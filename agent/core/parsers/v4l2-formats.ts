// `v4l2-ctl --list-formats-ext` (also inside `--all` output): pixel formats with their frame
// sizes and rates. Frame rates come from the parenthesised "(30.000 fps)", never 1/interval.
// Accepts the current layout ("[0]: 'YUYV' (YUYV 4:2:2)") and the old one ("Pixel Format: 'YUYV'"
// under "Index : 0"), tabs or spaces, CRLF and colour codes. Never throws.

import type { Camera } from '../config/types.js';
import { cleanOutput } from './text.js';

export interface V4l2Mode {
  width: number;
  height: number;
  fps: number[];
  fpsRange: { min: number; max: number } | null;
}

export interface V4l2Format {
  fourcc: string;
  description: string;
  modes: V4l2Mode[];
  stepwise: {
    minWidth: number;
    maxWidth: number;
    stepWidth: number;
    minHeight: number;
    maxHeight: number;
    stepHeight: number;
  } | null;
}

export interface V4l2Formats {
  format: 'v4l2-formats' | 'unrecognised';
  formats: V4l2Format[];
  raw: string;
}

/** v4l2-ctl prints "%.3f": under a decimal-comma locale that is "30,000". */
const decimal = (text: string): number => Number(text.replace(',', '.'));

export function parseV4l2Formats(raw: string): V4l2Formats {
  const text = cleanOutput(raw);
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /ioctl:\s*VIDIOC_ENUM_FMT/.test(l));
  const formats: V4l2Format[] = [];
  let current: V4l2Format | undefined;
  let mode: V4l2Mode | undefined;
  let pendingIndex = false;
  for (const line of lines.slice(start < 0 ? 0 : start + 1)) {
    const t = line.trim();
    let m: RegExpExecArray | null;
    if ((m = /^\[\d+\]:\s*'(.{1,4})'\s*(?:\((.*)\))?\s*$/.exec(t))) {
      current = { fourcc: m[1]!.trim(), description: m[2]?.trim() ?? '', modes: [], stepwise: null };
      formats.push(current);
      mode = undefined;
    } else if (/^Index\s*:\s*\d+/.test(t)) {
      pendingIndex = true;
    } else if (pendingIndex && (m = /^Pixel Format\s*:\s*'(.{1,4})'/.exec(t))) {
      current = { fourcc: m[1]!.trim(), description: '', modes: [], stepwise: null };
      formats.push(current);
      mode = undefined;
      pendingIndex = false;
    } else if (current && !current.description && (m = /^Name\s*:\s*(.+)$/.exec(t))) {
      current.description = m[1]!.trim();
    } else if (current && (m = /^Size:\s*Discrete\s+(\d+)x(\d+)/.exec(t))) {
      mode = { width: Number(m[1]), height: Number(m[2]), fps: [], fpsRange: null };
      current.modes.push(mode);
    } else if (
      current &&
      (m = /^Size:\s*(?:Stepwise|Continuous)\s+(\d+)x(\d+)\s*-\s*(\d+)x(\d+)(?:\s+with step\s+(\d+)\/(\d+))?/.exec(t))
    ) {
      current.stepwise = {
        minWidth: Number(m[1]),
        minHeight: Number(m[2]),
        maxWidth: Number(m[3]),
        maxHeight: Number(m[4]),
        stepWidth: Number(m[5] ?? 1),
        stepHeight: Number(m[6] ?? 1),
      };
      mode = undefined;
    } else if (mode && (m = /^Interval:\s*Discrete\s+[\d.,]+\s?s\s*\(([\d.,]+)\s*fps\)/.exec(t))) {
      mode.fps.push(decimal(m[1]!));
    } else if (mode && (m = /^Interval:\s*(?:Stepwise|Continuous).*\(([\d.,]+)\s*-\s*([\d.,]+)\s*fps\)/.exec(t))) {
      mode.fpsRange = { min: decimal(m[1]!), max: decimal(m[2]!) };
    } else if (
      /^\S/.test(line) &&
      start >= 0 &&
      formats.length > 0 &&
      !/^(Index|Type|Pixel|Name|Size|Interval)/.test(t)
    ) {
      // a new top-level block after the format list (e.g. more --all output)
      current = undefined;
      mode = undefined;
    }
  }
  return { format: formats.length > 0 ? 'v4l2-formats' : 'unrecognised', formats, raw };
}

/** The camera entry of a hardware profile, from parsed formats. */
export function cameraFromV4l2(
  device: string,
  parsed: V4l2Formats,
  extra: { name?: string; driver?: string; bus?: string } = {},
): Camera & { name?: string; driver?: string; bus?: string } {
  return {
    device,
    ...extra,
    formats: parsed.formats.map((f) => ({
      fourcc: f.fourcc,
      ...(f.description ? { description: f.description } : {}),
      modes: f.modes.map((m) => ({
        width: m.width,
        height: m.height,
        fps: m.fps.length > 0 ? [...m.fps].sort((a, b) => b - a) : m.fpsRange ? [m.fpsRange.max] : [],
      })),
      ...(f.stepwise
        ? {
            stepwise: {
              min_width: f.stepwise.minWidth,
              max_width: f.stepwise.maxWidth,
              step_width: f.stepwise.stepWidth,
              min_height: f.stepwise.minHeight,
              max_height: f.stepwise.maxHeight,
              step_height: f.stepwise.stepHeight,
            },
          }
        : {}),
    })),
  };
}

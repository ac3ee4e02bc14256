// Does a camera offer the mode asked for? When not, name the limit and the nearest modes it
// does have: "camera /dev/video0 supports at most 5 fps at 1920x1080 YUYV; MJPG 1920x1080 gives 30".

import type { Camera, CameraFormat, CameraMode } from '../config/types.js';

export interface ModeRequest {
  pixelFormat: string;
  width: number;
  height: number;
  fps: number;
}

export type ModeVerdict =
  | { ok: true; warning?: string }
  | { ok: false; problem: 'format' | 'size' | 'fps'; message: string; hint: string; suggestion?: string };

const maxFps = (mode: CameraMode): number => (mode.fps.length > 0 ? Math.max(...mode.fps) : 0);
const fmt = (n: number): string => String(Math.round(n * 1000) / 1000);
const size = (m: { width: number; height: number }): string => `${m.width}x${m.height}`;

/** Sizes ordered by closeness to the request: area first, then aspect ratio. */
function nearestSizes(modes: readonly CameraMode[], req: ModeRequest, count: number): CameraMode[] {
  const area = req.width * req.height;
  const aspect = req.width / req.height;
  return [...modes]
    .sort(
      (a, b) =>
        Math.abs(Math.log((a.width * a.height) / area)) +
        Math.abs(Math.log(a.width / a.height / aspect)) -
        (Math.abs(Math.log((b.width * b.height) / area)) + Math.abs(Math.log(b.width / b.height / aspect))),
    )
    .slice(0, count);
}

/** Why a size does not fit a stepwise range, and the nearest sizes that do. */
function fitsStepwise(format: CameraFormat, req: ModeRequest): { problem: string; nearest: string[] } | undefined {
  const s = format.stepwise!;
  const snap = (v: number, min: number, max: number, step: number): number[] => {
    const clamped = Math.min(max, Math.max(min, v));
    const down = min + Math.floor((clamped - min) / step) * step;
    return down === clamped ? [down] : [down, Math.min(max, down + step)];
  };
  const widths = snap(req.width, s.min_width, s.max_width, s.step_width);
  const heights = snap(req.height, s.min_height, s.max_height, s.step_height);
  if (widths.length === 1 && heights.length === 1 && widths[0] === req.width && heights[0] === req.height)
    return undefined;
  const nearest = widths.flatMap((w) => heights.map((h) => `${w}x${h}`));
  return {
    problem: `sizes from ${s.min_width}x${s.min_height} to ${s.max_width}x${s.max_height} in steps of ${s.step_width}/${s.step_height} pixels`,
    nearest,
  };
}

export function checkCameraMode(camera: Camera, req: ModeRequest): ModeVerdict {
  const name = `camera ${camera.device}`;
  const format = camera.formats.find((f) => f.fourcc === req.pixelFormat);
  if (!format) {
    const offered = camera.formats.map((f) => f.fourcc);
    const withSize = camera.formats.filter((f) =>
      f.modes.some((m) => m.width === req.width && m.height === req.height && maxFps(m) >= req.fps),
    );
    return {
      ok: false,
      problem: 'format',
      message: `${name} has no ${req.pixelFormat} format; it offers ${offered.join(', ') || 'no formats'}`,
      hint:
        withSize.length > 0
          ? `${withSize.map((f) => f.fourcc).join(' or ')} gives ${size(req)} at ${fmt(req.fps)} fps`
          : `choose one of ${offered.join(', ')}`,
      ...(withSize[0] ? { suggestion: withSize[0].fourcc } : {}),
    };
  }
  if (format.stepwise && format.modes.length === 0) {
    const misfit = fitsStepwise(format, req);
    if (misfit)
      return {
        ok: false,
        problem: 'size',
        message: `${name} cannot capture ${size(req)} in ${req.pixelFormat}; it takes ${misfit.problem}; nearest: ${misfit.nearest.join(', ')}`,
        hint: 'set frame_capture.width and frame_capture.height to one of the nearest sizes',
        ...(misfit.nearest[0] ? { suggestion: misfit.nearest[0] } : {}),
      };
    return {
      ok: true,
      warning: `${name} does not list frame rates for ${req.pixelFormat}; ${fmt(req.fps)} fps cannot be checked before it runs`,
    };
  }
  const mode = format.modes.find((m) => m.width === req.width && m.height === req.height);
  if (!mode) {
    const near = nearestSizes(format.modes, req, 3);
    return {
      ok: false,
      problem: 'size',
      message: `${name} has no ${size(req)} mode in ${req.pixelFormat}; nearest: ${near.map((m) => `${size(m)} (up to ${fmt(maxFps(m))} fps)`).join(', ')}`,
      hint: `set frame_capture.width and frame_capture.height to a size the camera offers`,
      ...(near[0] ? { suggestion: size(near[0]) } : {}),
    };
  }
  if (mode.fps.length === 0)
    return {
      ok: true,
      warning: `${name} does not list frame rates at ${size(req)} ${req.pixelFormat}; ${fmt(req.fps)} fps cannot be checked before it runs`,
    };
  const top = maxFps(mode);
  if (req.fps <= top + 1e-6) return { ok: true };
  // Alternatives: the same size in another format, else smaller sizes in this format.
  const otherFormats = camera.formats
    .filter((f) => f !== format)
    .map((f) => ({ f, m: f.modes.find((m) => m.width === req.width && m.height === req.height) }))
    .filter((x): x is { f: CameraFormat; m: CameraMode } => !!x.m && maxFps(x.m) >= req.fps)
    .sort((a, b) => maxFps(b.m) - maxFps(a.m));
  const smaller = nearestSizes(
    format.modes.filter((m) => maxFps(m) >= req.fps),
    req,
    1,
  );
  const alternatives = [
    ...otherFormats.slice(0, 2).map((x) => `${x.f.fourcc} ${size(req)} gives ${fmt(maxFps(x.m))}`),
    ...smaller.map((m) => `${req.pixelFormat} ${size(m)} gives ${fmt(maxFps(m))}`),
  ];
  return {
    ok: false,
    problem: 'fps',
    message: `${name} supports at most ${fmt(top)} fps at ${size(req)} ${req.pixelFormat}${alternatives.length > 0 ? `; ${alternatives.join('; ')}` : ''}`,
    hint: otherFormats[0]
      ? `set frame_capture.pixel_format to ${otherFormats[0].f.fourcc}, or lower frame_capture.fps to ${fmt(top)}`
      : `lower frame_capture.fps to ${fmt(top)}${smaller[0] ? `, or capture ${size(smaller[0])}` : ''}`,
    ...(otherFormats[0] ? { suggestion: otherFormats[0].f.fourcc } : {}),
  };
}

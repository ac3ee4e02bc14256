import { describe, expect, it } from 'vitest';
import { parseV4l2Formats } from '../../../agent/core/parsers/v4l2-formats.js';
import { fixture, hasShared } from '../../helpers/shared.js';

const maxFps = (fps: number[]): number => Math.max(...fps);

describe.skipIf(!hasShared)('v4l2-ctl --list-formats-ext, real captures (facts from MANIFEST.md)', () => {
  it('Logitech C920 (--all output): three formats in order, and the current format is not a list entry', () => {
    const r = parseV4l2Formats(fixture('camera/v4l2-ctl_all_list-formats-ext_logitech-c920.txt'));
    expect(r.format).toBe('v4l2-formats');
    expect(r.formats.map((f) => f.fourcc)).toEqual(['YUYV', 'H264', 'MJPG']);
    const yuyv = r.formats[0]!;
    const byS = new Map(yuyv.modes.map((m) => [`${m.width}x${m.height}`, maxFps(m.fps)]));
    expect(byS.get('640x480')).toBe(30);
    expect(byS.get('800x600')).toBe(24);
    expect(byS.get('1280x720')).toBe(10);
    expect(byS.get('1600x896')).toBe(7.5);
    expect(byS.get('1920x1080')).toBe(5);
    expect(byS.get('2304x1536')).toBe(2);
    for (const f of r.formats.slice(1)) {
      expect(f.modes.every((m) => maxFps(m.fps) === 30)).toBe(true);
      expect(f.modes.some((m) => m.width === 2304)).toBe(false);
    }
    expect(r.formats[2]!.description).toBe('Motion-JPEG, compressed');
  });

  it('3D USB stereo camera: fps from the parentheses (120, not 1/0.008 = 125)', () => {
    const r = parseV4l2Formats(fixture('camera/v4l2-ctl_list-formats-ext_3d-usb-stereo-camera_rpi5.txt'));
    const mjpg = r.formats.find((f) => f.fourcc === 'MJPG')!;
    expect(mjpg.modes.map((m) => [m.width, m.height, maxFps(m.fps)])).toEqual([
      [3200, 1200, 60],
      [2560, 720, 60],
      [1600, 600, 120],
      [1280, 480, 120],
      [640, 240, 120],
    ]);
    const yuyv = r.formats.find((f) => f.fourcc === 'YUYV')!;
    expect(yuyv.modes.map((m) => maxFps(m.fps))).toEqual([2, 2, 10, 15, 60]);
  });

  it('Raspberry Pi Camera v2 (bcm2835-v4l2): 14 stepwise formats without intervals', () => {
    const r = parseV4l2Formats(fixture('camera/v4l2-ctl_list-formats-ext_rpi-camera-v2_bcm2835-v4l2_stepwise.txt'));
    expect(r.formats).toHaveLength(14);
    expect(r.formats.map((f) => f.fourcc)).toEqual([
      'YU12',
      'YUYV',
      'RGB3',
      'JPEG',
      'H264',
      'MJPG',
      'YVYU',
      'VYUY',
      'UYVY',
      'NV12',
      'BGR3',
      'YV12',
      'NV21',
      'RX24',
    ]);
    for (const f of r.formats) {
      expect(f.modes).toEqual([]);
      expect(f.stepwise).toEqual({
        minWidth: 32,
        maxWidth: 3280,
        stepWidth: 2,
        minHeight: 32,
        maxHeight: 2464,
        stepHeight: 2,
      });
    }
  });
});

describe('v4l2-ctl output the captures do not cover', () => {
  it('the old layout (Index / Pixel Format / Name), CRLF and colour codes', () => {
    const text =
      "ioctl: VIDIOC_ENUM_FMT\r\n\tIndex       : 0\r\n\tType        : Video Capture\r\n\tPixel Format: 'YUYV'\r\n\tName        : YUYV 4:2:2\r\n\t\tSize: Discrete 640x480\r\n\t\t\tInterval: Discrete 0.033s (30.000 fps)\r\n\x1b[0m";
    const r = parseV4l2Formats(text);
    expect(r.formats).toEqual([
      {
        fourcc: 'YUYV',
        description: 'YUYV 4:2:2',
        modes: [{ width: 640, height: 480, fps: [30], fpsRange: null }],
        stepwise: null,
      },
    ]);
  });

  it('a stepwise frame interval becomes an fps range', () => {
    const r = parseV4l2Formats(
      "\t[0]: 'MJPG' (Motion-JPEG, compressed)\n\t\tSize: Discrete 1280x720\n\t\t\tInterval: Stepwise 0.033s - 1.000s with step 0.000s (1.000-30.000 fps)\n",
    );
    expect(r.formats[0]!.modes[0]!.fpsRange).toEqual({ min: 1, max: 30 });
  });

  it('empty output and garbage are "unrecognised", never a throw', () => {
    expect(parseV4l2Formats('').format).toBe('unrecognised');
    expect(parseV4l2Formats('\u0000\u0001binary\uffff').format).toBe('unrecognised');
  });
});

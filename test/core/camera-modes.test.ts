import { describe, expect, it } from 'vitest';
import { checkCameraMode } from '../../agent/core/hardware/camera-modes.js';
import type { Camera } from '../../agent/core/config/types.js';
import { cameraFromV4l2, parseV4l2Formats } from '../../agent/core/parsers/v4l2-formats.js';
import { fixture, hasShared } from '../helpers/shared.js';

describe.skipIf(!hasShared)('camera modes from the real Logitech C920 capture', () => {
  const c920 = (): Camera =>
    cameraFromV4l2('/dev/video0', parseV4l2Formats(fixture('camera/v4l2-ctl_all_list-formats-ext_logitech-c920.txt')));

  it('YUYV 1920x1080@30 is refused, naming the 5 fps limit and the formats that give 30', () => {
    const v = checkCameraMode(c920(), { pixelFormat: 'YUYV', width: 1920, height: 1080, fps: 30 });
    expect(v).toMatchObject({ ok: false, problem: 'fps', suggestion: 'H264' });
    if (v.ok) return;
    expect(v.message).toBe(
      'camera /dev/video0 supports at most 5 fps at 1920x1080 YUYV; H264 1920x1080 gives 30; MJPG 1920x1080 gives 30; YUYV 800x448 gives 30',
    );
  });

  it('MJPG 1920x1080@30 is fine; YUYV 1280x720@15 is not (max 10)', () => {
    expect(checkCameraMode(c920(), { pixelFormat: 'MJPG', width: 1920, height: 1080, fps: 30 })).toEqual({ ok: true });
    const v = checkCameraMode(c920(), { pixelFormat: 'YUYV', width: 1280, height: 720, fps: 15 });
    expect(v.ok ? '' : v.message).toMatch(/^camera \/dev\/video0 supports at most 10 fps at 1280x720 YUYV; /);
  });

  it('a size the camera lacks names the nearest sizes with their rates', () => {
    const v = checkCameraMode(c920(), { pixelFormat: 'MJPG', width: 1920, height: 1200, fps: 30 });
    expect(v.ok ? '' : v.message).toBe(
      'camera /dev/video0 has no 1920x1200 mode in MJPG; nearest: 1920x1080 (up to 30 fps), 1600x896 (up to 30 fps), 1280x720 (up to 30 fps)',
    );
  });

  it('a format the camera lacks lists those it offers', () => {
    const v = checkCameraMode(c920(), { pixelFormat: 'NV12', width: 1280, height: 720, fps: 30 });
    expect(v).toMatchObject({
      ok: false,
      problem: 'format',
      message: 'camera /dev/video0 has no NV12 format; it offers YUYV, H264, MJPG',
      hint: 'H264 or MJPG gives 1280x720 at 30 fps',
    });
  });
});

describe.skipIf(!hasShared)('camera modes from the real Raspberry Pi Camera v2 capture (stepwise)', () => {
  const pi = (): Camera =>
    cameraFromV4l2(
      '/dev/video0',
      parseV4l2Formats(fixture('camera/v4l2-ctl_list-formats-ext_rpi-camera-v2_bcm2835-v4l2_stepwise.txt')),
    );

  it('MJPG 1920x1080 fits; the frame rate cannot be checked and says so', () => {
    const v = checkCameraMode(pi(), { pixelFormat: 'MJPG', width: 1920, height: 1080, fps: 30 });
    expect(v).toEqual({
      ok: true,
      warning: 'camera /dev/video0 does not list frame rates for MJPG; 30 fps cannot be checked before it runs',
    });
  });

  it('an odd width or a size beyond the sensor is refused with the nearest valid sizes', () => {
    const odd = checkCameraMode(pi(), { pixelFormat: 'MJPG', width: 1921, height: 1080, fps: 30 });
    expect(odd.ok ? '' : odd.message).toMatch(/nearest: 1920x1080, 1922x1080$/);
    const wide = checkCameraMode(pi(), { pixelFormat: 'MJPG', width: 3296, height: 2464, fps: 30 });
    expect(wide.ok ? '' : wide.message).toMatch(/nearest: 3280x2464$/);
  });
});

describe('camera modes without captures', () => {
  const cam: Camera = {
    device: '/dev/video2',
    formats: [{ fourcc: 'MJPG', modes: [{ width: 640, height: 480, fps: [] }] }],
  };
  it('a discrete size without listed rates is a warning, not a failure', () => {
    expect(checkCameraMode(cam, { pixelFormat: 'MJPG', width: 640, height: 480, fps: 15 })).toMatchObject({
      ok: true,
      warning: expect.stringMatching(/cannot be checked/),
    });
  });
  it('a camera with no formats says so', () => {
    expect(
      checkCameraMode(
        { device: '/dev/video9', formats: [] },
        { pixelFormat: 'MJPG', width: 640, height: 480, fps: 15 },
      ),
    ).toMatchObject({ ok: false, message: 'camera /dev/video9 has no MJPG format; it offers no formats' });
  });
});

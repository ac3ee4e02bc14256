// What real machines print besides the captures: CRLF, colour codes, tabs or spaces, decimal
// commas, N/A, empty output, binary garbage and 50 MB of output. Never a throw.

import { describe, expect, it } from 'vitest';
import { PARSERS } from '../../../agent/core/parsers/index.js';
import { parseFfprobe, parseRate, redactUrl } from '../../../agent/core/parsers/ffprobe.js';
import { parseNvidiaSmiCsv, parseNvidiaSmiTable } from '../../../agent/core/parsers/nvidia-smi.js';
import { parseNumber } from '../../../agent/core/parsers/text.js';
import { parseV4l2Formats } from '../../../agent/core/parsers/v4l2-formats.js';

describe('every parser on hostile input', () => {
  const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1');
  const huge = 'x'.repeat(50 * 1024 * 1024);
  it.each(Object.keys(PARSERS))('%s: empty, binary and 50 MB are "unrecognised", with the raw text kept', (kind) => {
    for (const input of ['', garbage, huge]) {
      const r = PARSERS[kind]!.parse(input, {});
      expect(r.format).toBe('unrecognised');
      expect(r.raw).toBe(input);
    }
  });
});

describe('synthetic variants (labelled synthetic: no capture exists)', () => {
  it('nvidia-smi table with CRLF and colour codes', () => {
    const table =
      '\x1b[1m| NVIDIA-SMI 535.54.03   Driver Version: 535.54.03   CUDA Version: 12.2     |\x1b[0m\r\n|   0  NVIDIA GeForce ...  Off  | 00000000:01:00.0 Off |                  N/A |\r\n| 30%   -256C    P8    [N/A] /  N/A |    1MiB /  4096MiB |      [Not Supported]      Default |\r\n';
    const r = parseNvidiaSmiTable(table);
    expect(r).toMatchObject({ driverVersion: '535.54.03', cudaVersion: '12.2' });
    expect(r.gpus[0]).toMatchObject({
      name: 'NVIDIA GeForce ...',
      temperatureC: null,
      powerDrawW: null,
      memoryTotalMiB: 4096,
      utilizationPercent: null,
    });
  });

  it('a query CSV whose line does not have the fields asked for is unrecognised, not misread', () => {
    expect(parseNvidiaSmiCsv('0, Tesla, 123\n', ['index', 'name']).format).toBe('unrecognised');
  });

  it('numbers: decimal comma, units, N/A forms', () => {
    expect(parseNumber('79,87 W')).toBe(79.87);
    expect(parseNumber('[Not Supported]')).toBeNull();
    expect(parseNumber('N/A')).toBeNull();
    expect(parseNumber('81559 MiB')).toBe(81559);
  });

  it('v4l2 fps with a decimal comma in a German locale', () => {
    const r = parseV4l2Formats(
      "\t[0]: 'YUYV' (YUYV 4:2:2)\n\t\tSize: Discrete 640x480\n\t\t\tInterval: Discrete 0,033s (30,000 fps)\n",
    );
    expect(r.formats[0]!.modes[0]!.fps).toEqual([30]);
  });

  it('ffprobe default writer, 0x0 as not seen, fraction rates', () => {
    const r = parseFfprobe(
      '[STREAM]\ncodec_name=h264\ncodec_type=video\nwidth=0\nheight=0\navg_frame_rate=0/0\nr_frame_rate=25/2\n[/STREAM]\n',
    );
    expect(r).toMatchObject({
      format: 'ffprobe-default',
      streams: [{ type: 'video', codec: 'h264', width: null, height: null, fps: 12.5 }],
    });
    expect(parseRate('30000/1001')).toBe(29.97);
    expect(parseRate('90000/1')).toBeNull();
    expect(parseRate('0/0')).toBeNull();
  });

  it('camera credentials are removed from URLs', () => {
    expect(redactUrl('rtsp://admin:s3cret@192.0.2.10:554/h264Preview_01_main')).toBe(
      'rtsp://***@192.0.2.10:554/h264Preview_01_main',
    );
    expect(redactUrl('rtsp://192.0.2.10/live')).toBe('rtsp://192.0.2.10/live');
  });
});

// Every parser by the KIND that `gitops hardware parse KIND FILE` takes.

import { parseFfprobe } from './ffprobe.js';
import { parseMeminfo } from './meminfo.js';
import { parseNvidiaGpuInformation, parseNvidiaProcVersion } from './nvidia-proc.js';
import { parseNvidiaSmiCsv, parseNvidiaSmiQuery, parseNvidiaSmiTable, parseNvidiaSmiXml } from './nvidia-smi.js';
import { parseTegraRelease, parseTegrastats } from './tegra.js';
import { parseHailoDmesg, parseLsusb, parseVainfo } from './usb-accel.js';
import { parseV4l2Devices } from './v4l2-devices.js';
import { parseV4l2Formats } from './v4l2-formats.js';

export interface ParseOptions {
  /** Field order of a `--query-gpu` CSV printed without a header. */
  fields?: readonly string[];
}

export const PARSERS: Record<
  string,
  { describe: string; parse: (raw: string, options: ParseOptions) => { format: string; raw: string } }
> = {
  'nvidia-smi': { describe: 'nvidia-smi (the table)', parse: (raw) => parseNvidiaSmiTable(raw) },
  'nvidia-smi-csv': {
    describe: 'nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]',
    parse: (raw, o) => parseNvidiaSmiCsv(raw, o.fields),
  },
  'nvidia-smi-q': { describe: 'nvidia-smi -q', parse: (raw) => parseNvidiaSmiQuery(raw) },
  'nvidia-smi-xml': { describe: 'nvidia-smi -q -x', parse: (raw) => parseNvidiaSmiXml(raw) },
  'nvidia-proc-version': { describe: '/proc/driver/nvidia/version', parse: (raw) => parseNvidiaProcVersion(raw) },
  'nvidia-gpu-information': {
    describe: '/proc/driver/nvidia/gpus/<pci>/information',
    parse: (raw) => parseNvidiaGpuInformation(raw),
  },
  'tegra-release': { describe: '/etc/nv_tegra_release', parse: (raw) => parseTegraRelease(raw) },
  tegrastats: { describe: 'one line of tegrastats', parse: (raw) => parseTegrastats(raw) },
  'v4l2-formats': { describe: 'v4l2-ctl --list-formats-ext', parse: (raw) => parseV4l2Formats(raw) },
  'v4l2-devices': { describe: 'v4l2-ctl --list-devices', parse: (raw) => parseV4l2Devices(raw) },
  ffprobe: { describe: 'ffprobe -of json, or its default [STREAM] output', parse: (raw) => parseFfprobe(raw) },
  lsusb: { describe: 'lsusb', parse: (raw) => parseLsusb(raw) },
  vainfo: { describe: 'vainfo', parse: (raw) => parseVainfo(raw) },
  meminfo: { describe: '/proc/meminfo', parse: (raw) => parseMeminfo(raw) },
  'hailo-dmesg': { describe: 'dmesg | grep hailo', parse: (raw) => parseHailoDmesg(raw) },
};

// `v4l2-ctl --list-devices`: device nodes grouped by card, with the groups that are not
// cameras (codecs, ISPs on a Raspberry Pi) marked.

import { cleanOutput } from './text.js';

const NOT_CAMERAS = /^(bcm2835-codec|bcm2835-isp|pispbe|rpivid|rpi-hevc-dec)/;

export interface V4l2DeviceGroup {
  card: string;
  bus: string | null;
  nodes: string[];
  camera: boolean;
}

export interface V4l2Devices {
  format: 'v4l2-devices' | 'unrecognised';
  groups: V4l2DeviceGroup[];
  raw: string;
}

export function parseV4l2Devices(raw: string): V4l2Devices {
  const groups: V4l2DeviceGroup[] = [];
  let current: V4l2DeviceGroup | undefined;
  for (const line of cleanOutput(raw).split('\n')) {
    if (line.trim() === '') continue;
    if (/^\S/.test(line)) {
      const m = /^(.*?)\s*(?:\(([^()]*)\))?:\s*$/.exec(line);
      if (!m) continue;
      current = { card: m[1]!, bus: m[2] ?? null, nodes: [], camera: !NOT_CAMERAS.test(m[1]!) };
      groups.push(current);
    } else if (current && /^\s+\/dev\//.test(line)) {
      current.nodes.push(line.trim());
    }
  }
  return { format: groups.length > 0 ? 'v4l2-devices' : 'unrecognised', groups, raw };
}

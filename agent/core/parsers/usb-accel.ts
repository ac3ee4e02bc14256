// lsusb, vainfo and the hailo driver's dmesg lines: accelerators a doorbell may carry.

import { cleanOutput } from './text.js';

/** Coral USB, by id in both of its states: before its runtime loads firmware, and after. */
export const CORAL_USB_IDS: Record<string, string> = {
  '1a6e:089a': 'uninitialised (firmware not loaded yet)',
  '18d1:9302': 'initialised',
};

export interface UsbDevice {
  vendorId: string;
  productId: string;
  name: string | null;
}

export interface LsusbFacts {
  format: 'lsusb' | 'unrecognised';
  devices: UsbDevice[];
  accelerators: Array<{ type: 'coral-usb'; id: string; state: string }>;
  raw: string;
}

export function parseLsusb(raw: string): LsusbFacts {
  const devices: UsbDevice[] = [];
  for (const line of cleanOutput(raw).split('\n')) {
    const m = /^Bus \d+ Device \d+: ID ([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\s*(.*)$/.exec(line.trim());
    if (m) devices.push({ vendorId: m[1]!.toLowerCase(), productId: m[2]!.toLowerCase(), name: m[3]!.trim() || null });
  }
  const accelerators = devices
    .map((d) => `${d.vendorId}:${d.productId}`)
    .filter((id) => id in CORAL_USB_IDS)
    .map((id) => ({ type: 'coral-usb' as const, id, state: CORAL_USB_IDS[id]! }));
  return { format: devices.length > 0 ? 'lsusb' : 'unrecognised', devices, accelerators, raw };
}

export interface VainfoFacts {
  format: 'vainfo' | 'unrecognised';
  driver: string | null;
  profiles: Array<{ profile: string; entrypoint: string }>;
  /** Codecs with a hardware decode entrypoint (VAEntrypointVLD). */
  decode: string[];
  raw: string;
}

export function parseVainfo(raw: string): VainfoFacts {
  const text = cleanOutput(raw);
  const driver = /Driver version:\s*(.+?)\s*$/m.exec(text)?.[1]?.replace(/\s*\(\)$/, '') ?? null;
  const profiles: Array<{ profile: string; entrypoint: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(VAProfile\w+)\s*:\s*(VAEntrypoint\w+)\s*$/.exec(line);
    if (m) profiles.push({ profile: m[1]!, entrypoint: m[2]! });
  }
  const decode = [
    ...new Set(
      profiles
        .filter((p) => p.entrypoint === 'VAEntrypointVLD')
        .map((p) =>
          /H264/.test(p.profile)
            ? 'h264'
            : /HEVC/.test(p.profile)
              ? 'h265'
              : p.profile.replace(/^VAProfile/, '').toLowerCase(),
        ),
    ),
  ];
  return { format: driver || profiles.length > 0 ? 'vainfo' : 'unrecognised', driver, profiles, decode, raw };
}

export interface HailoFacts {
  format: 'hailo-dmesg' | 'unrecognised';
  driverVersion: string | null;
  devices: Array<{ pci: string; id: string | null; firmwareLoaded: boolean }>;
  raw: string;
}

export function parseHailoDmesg(raw: string): HailoFacts {
  const text = cleanOutput(raw);
  const driverVersion = /hailo: Init module\. driver version ([\d.]+)/.exec(text)?.[1] ?? null;
  const byPci = new Map<string, { pci: string; id: string | null; firmwareLoaded: boolean }>();
  for (const m of text.matchAll(/hailo ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.\d): (.*)/g)) {
    const d = byPci.get(m[1]!) ?? { pci: m[1]!, id: null, firmwareLoaded: false };
    const id = /Probing on: ([0-9a-f]{4}:[0-9a-f]{4})/.exec(m[2]!)?.[1];
    if (id) d.id = id;
    if (/Firmware was loaded successfully/.test(m[2]!)) d.firmwareLoaded = true;
    byPci.set(m[1]!, d);
  }
  return {
    format: driverVersion || byPci.size > 0 ? 'hailo-dmesg' : 'unrecognised',
    driverVersion,
    devices: [...byPci.values()],
    raw,
  };
}

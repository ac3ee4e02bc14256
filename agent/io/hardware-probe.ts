// Probing this machine: files first (/proc, /sys, /dev, /etc), then the vendor tools with
// timeouts, concurrently. Probes never change a device's settings (no --set-fmt-video, no
// --set-parm), never print camera credentials, and never block longer than their timeouts.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, statfs } from 'node:fs/promises';
import { arch, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProbeFacts } from '../core/hardware/profile.js';
import { redactUrl, parseFfprobe } from '../core/parsers/ffprobe.js';
import { parseMeminfo } from '../core/parsers/meminfo.js';
import { parseNvidiaProcVersion } from '../core/parsers/nvidia-proc.js';
import { parseNvidiaSmiCsv, parseNvidiaSmiTable, QUERY_FIELDS } from '../core/parsers/nvidia-smi.js';
import type { NvidiaFacts } from '../core/parsers/nvidia-smi.js';
import { parseTegraRelease } from '../core/parsers/tegra.js';
import { parseLsusb, parseVainfo } from '../core/parsers/usb-accel.js';
import { cameraFromV4l2, parseV4l2Formats } from '../core/parsers/v4l2-formats.js';
import { firstLine, runTool } from './tool-runner.js';
import type { RunOptions, RunResult, ToolRunner } from './tool-runner.js';

export interface ProbeOptions {
  model?: string;
  /** File-system root the probe reads /proc, /sys, /dev and /etc under (tests use a fake tree). */
  root?: string;
  /** PATH for the tools. */
  path?: string;
  /** Where clips are stored: the disk measured. */
  storagePath?: string;
  /** Model files the configuration names, checked for presence and sha256. */
  modelFiles?: string[];
  /** RTSP sources the configuration names (with credentials; never printed). */
  streams?: string[];
  timeoutMs?: number;
  runner?: ToolRunner;
}

const PACKAGES: Record<string, string> = {
  'nvidia-smi': 'the NVIDIA driver utilities',
  'v4l2-ctl': 'v4l-utils',
  ffprobe: 'ffmpeg',
  lsusb: 'usbutils',
  vainfo: 'vainfo',
  tegrastats: 'the L4T tools',
};

/** Why a tool gave no facts, for the profile's `unknown` map. */
export function explainRun(cmd: string, r: RunResult): string {
  switch (r.kind) {
    case 'missing':
      return `${cmd} is not installed (install ${PACKAGES[cmd] ?? cmd})`;
    case 'denied':
      return `${cmd} may not be run by this user`;
    case 'timeout':
      return `${cmd} did not answer within its timeout`;
    case 'too-much-output':
      return `${cmd} printed more output than a probe accepts`;
    case 'exit':
      return `${cmd} exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n')[0]?.slice(0, 200) ?? ''}`;
    default:
      return `${cmd} gave output that could not be read`;
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function probeFacts(
  options: ProbeOptions = {},
): Promise<{ facts: ProbeFacts; steps: Record<string, number> }> {
  const root = options.root ?? '/';
  const at = (p: string): string => join(root, p);
  const run: ToolRunner = options.runner ?? runTool;
  const runOpts: RunOptions = { timeoutMs: options.timeoutMs ?? 5000, ...(options.path ? { path: options.path } : {}) };
  const unknown: Record<string, string> = {};
  const steps: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      steps[name] = performance.now() - t0;
    }
  };

  const memory = timed('memory', async () => {
    const m = parseMeminfo((await readText(at('proc/meminfo'))) ?? '');
    if (m.totalMb === null) {
      unknown.memory = '/proc/meminfo could not be read';
      return null;
    }
    return { totalMb: m.totalMb, availableMb: m.availableMb };
  });

  const disk = timed('disk', async () => {
    let path = options.storagePath ?? '/';
    for (let i = 0; i < 64; i++) {
      try {
        await stat(at(path));
        break;
      } catch {
        path = dirname(path); // measure the nearest existing parent of a storage path not made yet
      }
    }
    try {
      const s = await statfs(at(path));
      return {
        path,
        totalMb: Math.floor((s.blocks * s.bsize) / 2 ** 20),
        freeMb: Math.floor((s.bavail * s.bsize) / 2 ** 20),
      };
    } catch (e) {
      unknown.disk = `cannot measure the disk at ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
      return null;
    }
  });

  const board = timed(
    'board',
    async () => (await readText(at('proc/device-tree/model')))?.replace(/\0/g, '').trim() || null,
  );

  const nvidiaProc = timed('nvidia-proc', async () => {
    const text = await readText(at('proc/driver/nvidia/version'));
    return text === null ? null : parseNvidiaProcVersion(text);
  });

  const tegra = timed('tegra', async () => {
    const text = await readText(at('etc/nv_tegra_release'));
    return text === null ? null : parseTegraRelease(text);
  });

  const nvidia = timed('nvidia-smi', async (): Promise<NvidiaFacts | null> => {
    let q = await run(
      'nvidia-smi',
      [`--query-gpu=${QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'],
      runOpts,
    );
    let fields: readonly string[] = QUERY_FIELDS;
    if (q.kind === 'exit' && q.code === 2) {
      fields = ['index', 'name', 'driver_version', 'memory.total', 'memory.used'];
      q = await run('nvidia-smi', [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'], runOpts);
    }
    if (q.kind === 'missing') {
      const devs = (await list(at('dev'))).filter((d) => /^nvidia\d+$/.test(d));
      if (devs.length > 0)
        unknown.gpu = `/dev/${devs[0]} exists but nvidia-smi is not installed (install the NVIDIA driver utilities)`;
      return null;
    }
    if (q.kind !== 'ok') {
      const text = q.kind === 'exit' || q.kind === 'timeout' ? `${q.stdout}\n${q.stderr}` : '';
      const parsed = parseNvidiaSmiCsv(text, fields);
      if (parsed.error) return parsed;
      unknown.gpu = explainRun('nvidia-smi', q);
      return null;
    }
    const facts = parseNvidiaSmiCsv(q.stdout, fields);
    if (facts.gpus.length === 0) return facts;
    // The CUDA version the driver supports is only in the table header.
    const table = await run('nvidia-smi', [], runOpts);
    if (table.kind === 'ok') facts.cudaVersion = parseNvidiaSmiTable(table.stdout).cudaVersion;
    return facts;
  });

  const accelerators = timed('accelerators', async () => {
    const found: ProbeFacts['accelerators'] = [];
    const dev = await list(at('dev'));
    if (dev.includes('apex_0')) found.push({ type: 'coral-pcie', device: '/dev/apex_0' });
    for (const d of dev.filter((x) => /^hailo\d+$/.test(x))) found.push({ type: 'hailo', device: `/dev/${d}` });
    const usb = await run('lsusb', [], runOpts);
    if (usb.kind === 'ok')
      for (const a of parseLsusb(usb.stdout).accelerators)
        found.push({ type: 'coral-usb', device: a.id, detail: a.state });
    else if (usb.kind === 'missing') unknown.usb = explainRun('lsusb', usb);
    const render = (await list(at('dev/dri'))).filter((d) => /^renderD\d+$/.test(d)).sort();
    if (render[0]) {
      const va = await run('vainfo', ['--display', 'drm', '--device', `/dev/dri/${render[0]}`], runOpts);
      const facts = va.kind === 'ok' || va.kind === 'exit' ? parseVainfo(`${va.stdout}\n${va.stderr}`) : undefined;
      if (facts?.driver && /intel/i.test(facts.driver))
        found.push({ type: 'intel-vaapi', device: `/dev/dri/${render[0]}`, detail: facts.driver });
      else if (va.kind !== 'ok' && va.kind !== 'exit') unknown.vaapi = explainRun('vainfo', va);
    }
    return found;
  });

  const cameras = timed('cameras', async () => {
    const nodes = (await list(at('dev')))
      .filter((d) => /^video\d+$/.test(d))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    const out: ProbeFacts['cameras'] = [];
    await Promise.all(
      nodes.map(async (node) => {
        const device = `/dev/${node}`;
        const r = await run('v4l2-ctl', ['-d', device, '--list-formats-ext'], runOpts);
        if (r.kind === 'missing') {
          unknown.cameras = `${nodes.length} video device(s) present but v4l2-ctl is not installed (install v4l-utils)`;
          return;
        }
        if (r.kind !== 'ok') {
          unknown[`camera ${device}`] = explainRun('v4l2-ctl', r); // e.g. unplugged between listing and probing
          return;
        }
        const parsed = parseV4l2Formats(r.stdout);
        if (parsed.formats.length === 0) return; // metadata, codec or ISP node: not a capture node
        const name = (await readText(at(`sys/class/video4linux/${node}/name`)))?.trim();
        out.push(cameraFromV4l2(device, parsed, name ? { name } : {}));
      }),
    );
    return out.sort((a, b) => a.device.localeCompare(b.device, undefined, { numeric: true }));
  });

  const streams = timed('streams', async () =>
    Promise.all(
      (options.streams ?? []).map(async (url) => {
        const shown = redactUrl(url);
        const r = await run(
          'ffprobe',
          [
            '-v',
            'error',
            '-rtsp_transport',
            'tcp',
            '-timeout',
            '5000000',
            '-select_streams',
            'v:0',
            '-show_entries',
            'stream=codec_name,width,height,avg_frame_rate,r_frame_rate',
            '-of',
            'json',
            url,
          ],
          { ...runOpts, timeoutMs: Math.max(runOpts.timeoutMs ?? 0, 15000) },
        );
        if (r.kind !== 'ok')
          return {
            url: shown,
            codec: null,
            width: null,
            height: null,
            fps: null,
            error: explainRun('ffprobe', r).split(url).join(shown),
          };
        const v = parseFfprobe(r.stdout).streams.find((s) => s.type === 'video');
        return {
          url: shown,
          codec: v?.codec ?? null,
          width: v?.width ?? null,
          height: v?.height ?? null,
          fps: v?.fps ?? null,
        };
      }),
    ),
  );

  const modelFiles = timed('model-files', async () =>
    Promise.all(
      (options.modelFiles ?? []).map(async (path) => {
        try {
          const s = await stat(at(path));
          if (!s.isFile()) return { path, present: false, sha256: null, size: null };
          return { path, present: true, sha256: await sha256(at(path)), size: s.size };
        } catch {
          return { path, present: false, sha256: null, size: null };
        }
      }),
    ),
  );

  const [mem, dsk, brd, proc, teg, nv, acc, cams, strm, models] = await Promise.all([
    memory,
    disk,
    board,
    nvidiaProc,
    tegra,
    nvidia,
    accelerators,
    cameras,
    streams,
    modelFiles,
  ]);
  if (teg?.l4tVersion) {
    // On a Jetson, tegrastats confirms the integrated GPU; sampled once and killed.
    const t0 = performance.now();
    const ts = await firstLine('tegrastats', ['--interval', '500'], {
      timeoutMs: 3000,
      ...(options.path ? { path: options.path } : {}),
    });
    steps.tegrastats = performance.now() - t0;
    if (ts.kind !== 'ok') unknown.tegrastats = explainRun('tegrastats', ts);
  }
  return {
    facts: {
      model: options.model ?? 'this-device',
      cpu: { arch: arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch(), cores: cpus().length },
      board: brd,
      memory: mem,
      disk: dsk,
      nvidia: nv,
      nvidiaProc: proc,
      tegra: teg?.format === 'tegra-release' ? teg : null,
      accelerators: acc,
      cameras: cams,
      streams: strm,
      modelFiles: models,
      unknown,
    },
    steps,
  };
}

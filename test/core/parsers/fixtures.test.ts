// Every file in ../shared/fixtures/hardware parses to the facts its MANIFEST.md lists.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFfprobe } from '../../../agent/core/parsers/ffprobe.js';
import { parseMeminfo } from '../../../agent/core/parsers/meminfo.js';
import { parseNvidiaGpuInformation, parseNvidiaProcVersion } from '../../../agent/core/parsers/nvidia-proc.js';
import {
  parseNvidiaSmiCsv,
  parseNvidiaSmiQuery,
  parseNvidiaSmiTable,
  parseNvidiaSmiXml,
} from '../../../agent/core/parsers/nvidia-smi.js';
import { cudaForL4t, parseTegraRelease, parseTegrastats } from '../../../agent/core/parsers/tegra.js';
import { parseHailoDmesg, parseLsusb, parseVainfo } from '../../../agent/core/parsers/usb-accel.js';
import { parseV4l2Devices } from '../../../agent/core/parsers/v4l2-devices.js';
import { section } from '../../helpers/fake-tools.js';
import { fixture, HARDWARE_FIXTURES, hasShared } from '../../helpers/shared.js';

describe.skipIf(!hasShared)('nvidia/', () => {
  it('Tesla P4 narrow table (timestamp line skipped)', () => {
    const r = parseNvidiaSmiTable(fixture('nvidia/nvidia-smi_table_tesla-p4_525.60.13.txt'));
    expect(r).toMatchObject({ format: 'nvidia-smi-table', driverVersion: '525.60.13', cudaVersion: '12.0' });
    expect(r.gpus).toEqual([
      {
        index: 0,
        name: 'Tesla P4',
        busId: '00000000:81:00.0',
        memoryTotalMiB: 7680,
        memoryUsedMiB: 3285,
        temperatureC: 40,
        powerDrawW: 24,
        utilizationPercent: 3,
      },
    ]);
    expect(r.raw).toContain('Tesla P4');
  });

  it('Quadro P400: power N/A is null, not 0', () => {
    const r = parseNvidiaSmiTable(fixture('nvidia/nvidia-smi_table_quadro-p400_460.91.03.txt'));
    expect(r).toMatchObject({ driverVersion: '460.91.03', cudaVersion: '11.2' });
    expect(r.gpus[0]).toMatchObject({
      name: 'Quadro P400',
      temperatureC: 54,
      powerDrawW: null,
      memoryUsedMiB: 135,
      memoryTotalMiB: 2000,
      utilizationPercent: 0,
    });
  });

  it('2 x Tesla V100 wide R580 table: one entry per GPU', () => {
    const r = parseNvidiaSmiTable(fixture('nvidia/nvidia-smi_table_2x-tesla-v100_580.126.09.txt'));
    expect(r).toMatchObject({ driverVersion: '580.126.09', cudaVersion: '13.0' });
    expect(r.gpus.map((g) => [g.busId, g.memoryUsedMiB, g.memoryTotalMiB, g.powerDrawW, g.temperatureC])).toEqual([
      ['00000000:03:00.0', 5, 16384, 41, 40],
      ['00000000:06:00.0', 5, 16384, 40, 41],
    ]);
  });

  it('RTX 2080 query CSV without header or units, N/A as null', () => {
    const fields =
      'power.limit,power.min_limit,power.max_limit,memory.total,vbios_version,driver_version,name,gpu_uuid,power.draw,temperature.gpu,temperature.memory,clocks.current.graphics,clocks.sm,clocks.mem,utilization.gpu,utilization.memory,fan.speed,pcie.link.width.current,pstate'.split(
        ',',
      );
    const r = parseNvidiaSmiCsv(fixture('nvidia/nvidia-smi_query-gpu_rtx-2080_noheader-nounits.csv'), fields);
    expect(r).toMatchObject({ format: 'nvidia-smi-csv', driverVersion: '440.64' });
    expect(r.gpus[0]).toMatchObject({
      name: 'GeForce RTX 2080',
      memoryTotalMiB: 7979,
      powerDrawW: 176.98,
      temperatureC: 45,
      utilizationPercent: 86,
    });
  });

  it('the two failure messages are classified', () => {
    expect(parseNvidiaSmiTable(fixture('nvidia/nvidia-smi_error_no-driver.txt'))).toMatchObject({
      format: 'error',
      error: 'driver-not-loaded',
      gpus: [],
    });
    expect(parseNvidiaSmiTable(fixture('nvidia/nvidia-smi_error_driver-library-mismatch.txt'))).toMatchObject({
      format: 'error',
      error: 'driver-library-mismatch',
      detail: 'NVML library version 580.178',
    });
  });

  it('/proc/driver/nvidia/version in its three layouts', () => {
    expect(parseNvidiaProcVersion(fixture('nvidia/proc_driver_nvidia_version_580.173.02.txt'))).toMatchObject({
      version: '580.173.02',
      flavour: 'proprietary',
      arch: 'x86_64',
      platform: 'desktop',
    });
    expect(parseNvidiaProcVersion(fixture('nvidia/proc_driver_nvidia_version_384.98.txt'))).toMatchObject({
      version: '384.98',
      flavour: 'proprietary',
    });
    expect(parseNvidiaProcVersion(fixture('nvidia/proc_driver_nvidia_version_open_565.57.01.txt'))).toMatchObject({
      version: '565.57.01',
      flavour: 'open',
      arch: 'x86_64',
    });
  });
});

describe.skipIf(!hasShared)('h100-ubuntu2404/', () => {
  const h100 = { name: 'NVIDIA H100 80GB HBM3', busId: '00000000:00:06.0', memoryTotalMiB: 81559, memoryUsedMiB: 0 };
  it('the table (wide R580)', () => {
    const r = parseNvidiaSmiTable(fixture('h100-ubuntu2404/nvidia-smi.txt'));
    expect(r).toMatchObject({ driverVersion: '580.159.04', cudaVersion: '13.0' });
    expect(r.gpus).toEqual([{ index: 0, ...h100, temperatureC: 38, powerDrawW: 89, utilizationPercent: 0 }]);
  });
  it('the query CSV with header and units, and without', () => {
    const bundle = fixture('h100-ubuntu2404/nvidia-smi-query.txt');
    const withHeader = parseNvidiaSmiCsv(section(bundle, ''));
    expect(withHeader.driverVersion).toBe('580.159.04');
    expect(withHeader.gpus).toEqual([
      { index: 0, ...h100, temperatureC: 38, powerDrawW: 83.01, utilizationPercent: 0 },
    ]);
    const bare = parseNvidiaSmiCsv(section(bundle, 'noheader,nounits'), [
      'name',
      'driver_version',
      'memory.total',
      'compute_cap',
    ]);
    expect(bare.gpus[0]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559 });
    expect(parseNvidiaSmiCsv(section(bundle, 'bad field'))).toMatchObject({
      format: 'error',
      error: 'invalid-field',
      detail: 'not_a_field',
    });
  });
  it('-q text and -q -x XML agree with the table', () => {
    const q = parseNvidiaSmiQuery(fixture('h100-ubuntu2404/nvidia-smi-q.txt'));
    const x = parseNvidiaSmiXml(fixture('h100-ubuntu2404/nvidia-smi-q.xml'));
    for (const r of [q, x]) {
      expect(r).toMatchObject({ driverVersion: '580.159.04', cudaVersion: '13.0' });
      expect(r.gpus).toHaveLength(1);
      expect(r.gpus[0]).toMatchObject(h100);
    }
  });
  it('system.txt: /proc/meminfo', () => {
    expect(parseMeminfo(section(fixture('h100-ubuntu2404/system.txt'), 'meminfo'))).toMatchObject({
      format: 'meminfo',
      totalMb: 128887,
      availableMb: 128412,
    });
  });
  it('/proc/driver/nvidia (open module without a date) and gpus/<pci>/information', () => {
    const bundle = fixture('h100-ubuntu2404/driver.txt');
    expect(parseNvidiaProcVersion(section(bundle, '/proc/driver/nvidia/version'))).toMatchObject({
      version: '580.159.04',
      flavour: 'open',
      arch: 'x86_64',
      platform: 'desktop',
    });
    expect(parseNvidiaGpuInformation(section(bundle, '/proc/driver/nvidia/gpus'))).toMatchObject({
      model: 'NVIDIA H100 80GB HBM3',
      uuid: 'GPU-6e294ee8-93a7-5917-9182-5a138ab23459',
      busLocation: '0000:00:06.0',
    });
  });
});

describe.skipIf(!hasShared)('jetson/', () => {
  it('nv_tegra_release: L4T version, board, and the CUDA it ships', () => {
    expect(parseTegraRelease(fixture('jetson/nv_tegra_release_R32.7.6_t210ref_nano.txt'))).toMatchObject({
      l4tVersion: '32.7.6',
      board: 't210ref',
      arch: 'aarch64',
    });
    expect(parseTegraRelease(fixture('jetson/nv_tegra_release_R32.5.1_t186ref_tx2.txt'))).toMatchObject({
      l4tVersion: '32.5.1',
      board: 't186ref',
    });
    expect(cudaForL4t('32.7.6')).toBe('10.2');
  });
  it('tegrastats (AGX Orin): RAM, swap, GPU load, -256C as null', () => {
    const r = parseTegrastats(fixture('jetson/tegrastats_agx-orin-64gb.txt'));
    expect(r).toMatchObject({
      ramUsedMB: 4321,
      ramTotalMB: 62801,
      swapUsedMB: 19,
      swapTotalMB: 31400,
      gpuUtilPercent: 0,
    });
    expect(r.temperaturesC).toMatchObject({ CV0: null, CV1: null, CV2: null, GPU: null, tj: 44.343, CPU: 44.562 });
  });
});

describe.skipIf(!hasShared)('accel/', () => {
  it('Coral USB by id in both states, never by name', () => {
    expect(parseLsusb(fixture('accel/lsusb_coral-usb_uninitialized.txt')).accelerators).toEqual([
      { type: 'coral-usb', id: '1a6e:089a', state: 'uninitialised (firmware not loaded yet)' },
    ]);
    expect(parseLsusb(fixture('accel/lsusb_coral-usb_initialized.txt')).accelerators).toEqual([
      { type: 'coral-usb', id: '18d1:9302', state: 'initialised' },
    ]);
    expect(parseLsusb('Bus 001 Device 002: ID 1234:5678 Coral Google Edge TPU\n').accelerators).toEqual([]);
  });
  it('vainfo (iHD): the driver and H.264/H.265 decode', () => {
    const r = parseVainfo(fixture('accel/vainfo_intel-ihd_22.3.1_partial.txt'));
    expect(r.driver).toBe('Intel iHD driver for Intel(R) Gen Graphics - 22.3.1');
    expect(r.profiles).toContainEqual({ profile: 'VAProfileHEVCMain', entrypoint: 'VAEntrypointVLD' });
    expect(r.decode).toEqual(expect.arrayContaining(['h264', 'h265']));
  });
  it('hailo dmesg: driver version, PCI id, firmware loaded', () => {
    expect(parseHailoDmesg(fixture('accel/dmesg_hailo8_probe_partial.txt'))).toMatchObject({
      driverVersion: '4.17.0',
      devices: [{ pci: '0000:05:00.0', id: '1e60:2864', firmwareLoaded: true }],
    });
  });
});

describe.skipIf(!hasShared)('camera/ --list-devices', () => {
  it('RPi 4: codec and ISP groups are not cameras; unicam is', () => {
    const r = parseV4l2Devices(fixture('camera/v4l2-ctl_list-devices_rpi4_unicam.txt'));
    expect(r.groups.map((g) => [g.card, g.camera])).toEqual([
      ['bcm2835-codec-decode', false],
      ['bcm2835-isp', false],
      ['unicam', true],
    ]);
    expect(r.groups[2]).toMatchObject({
      bus: 'platform:fe801000.csi',
      nodes: ['/dev/video0', '/dev/video1', '/dev/media3'],
    });
  });
  it('RPi 5 with a USB camera (space-indented)', () => {
    const r = parseV4l2Devices(fixture('camera/v4l2-ctl_list-devices_rpi5_3d-usb-camera.txt'));
    expect(r.groups.map((g) => [g.card, g.camera, g.nodes.length])).toEqual([
      ['pispbe', false, 20],
      ['rpivid', false, 2],
      ['3D USB Camera: 3D USB Camera', true, 3],
    ]);
  });
});

describe.skipIf(!hasShared)('ffprobe/', () => {
  it('Reolink RLC-410-5MP and RLC-520A: sizes, unknown fps (0/0), the audio stream', () => {
    const a = parseFfprobe(fixture('ffprobe/frigate-api-ffprobe_reolink-rlc-410-5mp.json'));
    expect(a.streams.filter((s) => s.type === 'video').map((s) => [s.width, s.height, s.fps])).toEqual([
      [2560, 1920, null],
      [896, 672, null],
    ]);
    const b = parseFfprobe(fixture('ffprobe/frigate-api-ffprobe_reolink-rlc-520a.json'));
    expect(b.streams).toContainEqual({
      type: 'audio',
      codec: 'AAC(AdvancedAudioCoding)',
      width: null,
      height: null,
      fps: null,
    });
  });
});

describe.skipIf(!hasShared)('coverage of the fixture directory', () => {
  it('every captured file is asserted by this suite or the v4l2 suite', () => {
    const files = readdirSync(HARDWARE_FIXTURES, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== 'MANIFEST.md')
      .map((e) => e.name);
    const suites = [import.meta.filename, join(import.meta.dirname, 'v4l2-formats.test.ts')]
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    expect(files.filter((name) => !suites.includes(name))).toEqual([]);
  });
});

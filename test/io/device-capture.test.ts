// The probe's exact commands as a real H100 answered them (captured on the lent GPU machine,
// test/fixtures/device-h100/README.md), replayed through the real parsers and the real probe.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileFromFacts } from '../../agent/core/hardware/profile.js';
import {
  parseNvidiaSmiCsv,
  parseNvidiaSmiQuery,
  parseNvidiaSmiTable,
  QUERY_FIELDS,
} from '../../agent/core/parsers/nvidia-smi.js';
import { parseNvidiaProcVersion } from '../../agent/core/parsers/nvidia-proc.js';
import { probeFacts } from '../../agent/io/hardware-probe.js';
import { fakeRoot, fakeTools, section, shellQuote } from '../helpers/fake-tools.js';
import { PROJECT, readText } from '../helpers/project.js';

const bundle = readText(join(PROJECT, 'test/fixtures/device-h100/probe-commands.txt'));
const h100 = {
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  busId: '00000000:00:06.0',
  memoryTotalMiB: 81559,
  memoryUsedMiB: 0,
};

describe('live H100 output of the commands the probe runs', () => {
  it('query mode with the probe fields, headerless and with header, agree', () => {
    const bare = parseNvidiaSmiCsv(section(bundle, 'query'), QUERY_FIELDS);
    expect(bare).toMatchObject({ format: 'nvidia-smi-csv', driverVersion: '580.159.04' });
    expect(bare.gpus).toEqual([{ ...h100, temperatureC: 30, powerDrawW: 70.77, utilizationPercent: 0 }]);
    const headed = parseNvidiaSmiCsv(section(bundle, 'query-header'));
    expect(headed.gpus[0]).toMatchObject(h100);
  });

  it('the table gives the CUDA version; -q agrees; a bad field is classified', () => {
    expect(parseNvidiaSmiTable(section(bundle, 'table'))).toMatchObject({
      driverVersion: '580.159.04',
      cudaVersion: '13.0',
      gpus: [h100],
    });
    expect(parseNvidiaSmiQuery(section(bundle, 'q'))).toMatchObject({
      driverVersion: '580.159.04',
      cudaVersion: '13.0',
      gpus: [h100],
    });
    expect(parseNvidiaSmiCsv(section(bundle, 'bad-field'))).toMatchObject({
      format: 'error',
      error: 'invalid-field',
      detail: 'not_a_field',
    });
    expect(parseNvidiaProcVersion(section(bundle, 'proc-version'))).toMatchObject({
      version: '580.159.04',
      flavour: 'open',
    });
  });

  it('the real probe, replaying them, builds the profile', async () => {
    const tools = fakeTools({
      'nvidia-smi': `case "$1" in --query-gpu=*) printf '%s' ${shellQuote(section(bundle, 'query'))};; *) printf '%s' ${shellQuote(section(bundle, 'table'))};; esac`,
    });
    const root = fakeRoot({
      'proc/meminfo': section(bundle, 'meminfo'),
      'proc/driver/nvidia/version': section(bundle, 'proc-version'),
      'dev/nvidia0': '',
    });
    const profile = profileFromFacts((await probeFacts({ root, path: `${tools}:/usr/bin:/bin` })).facts, 'now');
    expect(profile.gpu).toEqual({
      name: 'NVIDIA H100 80GB HBM3',
      platform: 'desktop',
      memory_mib: 81559,
      driver_version: '580.159.04',
      cuda_version: '13.0',
    });
    expect(profile.memory_mb).toBeGreaterThan(120_000);
  });
});

// The five stores sops has, picked from the file name as sops picks them.

import { GitopsError } from '../errors.js';
import { readDotenv, readIni, writeDotenv, writeIni } from './store-flat.js';
import { readJson, writeJson } from './store-json.js';
import { readYaml, writeYaml } from './store-yaml.js';
import type { MapEntry, MapNode, Node } from './tree.js';

export type StoreFormat = 'yaml' | 'json' | 'dotenv' | 'ini' | 'binary';

export function formatForPath(path: string): StoreFormat {
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  if (/\.json$/i.test(path)) return 'json';
  if (/\.env$/i.test(path)) return 'dotenv';
  if (/\.ini$/i.test(path)) return 'ini';
  return 'binary';
}

export interface StoreContent {
  branches: MapNode[];
  metadata: Node | undefined;
}

function textOf(bytes: Uint8Array, file: string): string {
  const text = Buffer.from(bytes).toString('utf8');
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(Buffer.from(bytes)))
    throw new GitopsError(
      'sops-bad-file',
      `${file} is not UTF-8 text`,
      'binary content belongs in a file with another extension (the binary store)',
    );
  return text;
}

export function readStore(format: StoreFormat, bytes: Uint8Array, file: string, encrypted: boolean): StoreContent {
  switch (format) {
    case 'yaml':
      return readYaml(textOf(bytes, file), file);
    case 'json':
      return readJson(textOf(bytes, file), file);
    case 'dotenv':
      return readDotenv(textOf(bytes, file), file);
    case 'ini':
      return readIni(textOf(bytes, file), file);
    case 'binary': {
      if (!encrypted)
        return {
          branches: [
            {
              kind: 'map',
              items: [
                {
                  kind: 'entry',
                  key: 'data',
                  value: {
                    kind: 'scalar',
                    type: 'str',
                    text: Buffer.from(bytes).toString('latin1'),
                    bytes: Buffer.from(bytes),
                  },
                },
              ],
            },
          ],
          metadata: undefined,
        };
      return readJson(textOf(bytes, file), file);
    }
  }
}

export function writeStore(format: StoreFormat, branches: readonly MapNode[], metadata: MapNode | undefined): Buffer {
  switch (format) {
    case 'yaml':
      return Buffer.from(writeYaml(branches, metadata), 'utf8');
    case 'json':
      return Buffer.from(writeJson(branches, metadata), 'utf8');
    case 'dotenv':
      return Buffer.from(writeDotenv(branches, metadata), 'utf8');
    case 'ini':
      return Buffer.from(writeIni(branches, metadata), 'utf8');
    case 'binary': {
      if (metadata) return Buffer.from(writeJson(branches, metadata), 'utf8');
      const data = branches[0]!.items.find((i): i is MapEntry => i.kind === 'entry' && i.key === 'data')?.value;
      if (data?.kind !== 'scalar')
        throw new GitopsError('sops-bad-file', 'the binary envelope has no data value', 'restore the file from git');
      return data.bytes ? Buffer.from(data.bytes) : Buffer.from(data.text, 'utf8');
    }
  }
}

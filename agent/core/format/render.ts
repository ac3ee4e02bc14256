// Printing a rendered configuration: YAML or JSON, optionally with the origin of every value
// (file:line and layer) as a trailing comment or an `origins` map.

import { Document, isMap, isPair, isScalar, isSeq, visit } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { provenanceChain } from '../config/merge.js';
import type { ProvenanceEntry, Provenance } from '../config/merge.js';
import { pointerToDotted, toPointer } from '../json/pointer.js';
import { compareText } from '../json/value.js';
import type { JsonObject } from '../json/value.js';
import { originFor } from '../config/render.js';

export function describeOrigin(e: Omit<ProvenanceEntry, 'overrode'>): string {
  if (e.layer === 'default') return `${e.file} (schema default)`;
  if (e.layer === 'env') return `${e.file.replace(/^env:/, '$')} (environment variable)`;
  const at = e.line !== undefined ? `${e.file}:${e.line}${e.column !== undefined ? `:${e.column}` : ''}` : e.file;
  return `${at} (${e.layer})`;
}

export function renderYaml(config: JsonObject, provenance?: Provenance): string {
  const doc = new Document(config);
  if (provenance) {
    visit(doc, {
      Pair(_key, pair, path) {
        const segments = [
          ...path.filter(isPair).map((p) => String(isScalar(p.key) ? p.key.value : p.key)),
          String(isScalar(pair.key) ? pair.key.value : pair.key),
        ];
        const value = pair.value as YamlNode | null;
        if (!value || (isMap(value) && value.items.length > 0)) return;
        const entry = originFor(provenance, toPointer(segments));
        if (!entry) return;
        if (isSeq(value)) value.flow = true;
        value.comment = ` ${describeOrigin(entry)}`;
      },
    });
  }
  return doc.toString({ lineWidth: 0 });
}

export function renderJson(config: JsonObject, provenance?: Provenance): string {
  if (!provenance) return JSON.stringify(config, null, 2);
  const origins: Record<string, unknown> = {};
  for (const [pointer, entry] of [...provenance].sort(([a], [b]) => compareText(a, b))) {
    origins[pointerToDotted(pointer)] = provenanceChain(entry).map(({ value: _v, ...o }) => o);
  }
  return JSON.stringify({ config, origins }, null, 2);
}

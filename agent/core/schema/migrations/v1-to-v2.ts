// Format version 1 -> 2: `frame_capture.resolution: "1920x1080"` becomes `width` and `height`.

import { isMap, isScalar } from 'yaml';
import type { Document, Scalar, YAMLMap } from 'yaml';
import type { MigrationStep } from '../migrate.js';

export const v1ToV2: MigrationStep = {
  from: 1,
  to: 2,
  description: 'frame_capture.resolution "WIDTHxHEIGHT" is split into frame_capture.width and frame_capture.height',
  apply(doc: Document, file: string) {
    const notes: Array<{ message: string; path: string }> = [];
    const capture = doc.get('frame_capture', true);
    if (!isMap(capture)) return notes;
    const map = capture as YAMLMap;
    const index = map.items.findIndex((p) => isScalar(p.key) && p.key.value === 'resolution');
    if (index < 0) return notes;
    const pair = map.items[index]!;
    const value = pair.value;
    const text = isScalar(value) ? String(value.value) : '';
    const m = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(text);
    if (!m) {
      notes.push({
        path: 'frame_capture.resolution',
        message: `${file}: frame_capture.resolution "${text}" is not WIDTHxHEIGHT; set frame_capture.width and frame_capture.height by hand`,
      });
      return notes;
    }
    const width = doc.createPair('width', Number(m[1]));
    const height = doc.createPair('height', Number(m[2]));
    // Keep the comments and the source position of the old entry on the new ones.
    const oldKey = pair.key as Scalar;
    const oldValue = value as Scalar;
    const widthKey = width.key as Scalar;
    const heightValue = height.value as Scalar;
    widthKey.commentBefore = oldKey.commentBefore;
    widthKey.spaceBefore = oldKey.spaceBefore;
    heightValue.comment = oldValue.comment;
    for (const node of [width.key, width.value, height.key, height.value] as Scalar[]) {
      if (oldValue.range) node.range = oldValue.range;
    }
    map.items.splice(index, 1, width, height);
    return notes;
  },
};

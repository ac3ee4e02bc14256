// Property tests (fast-check) of the parts that read untrusted text: the YAML source reader,
// the layered merge and render, and every hardware parser. Whatever the input, they return
// (diagnostics, facts, or "unrecognised") and never throw anything but a GitopsError; every
// diagnostic about a file says where in it.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadDocument } from '../../agent/core/repo/documents.js';
import { GitopsError } from '../../agent/core/errors.js';
import { mergeLayer } from '../../agent/core/config/merge.js';
import { PARSERS } from '../../agent/core/parsers/index.js';
import type { JsonObject } from '../../agent/core/json/value.js';
import { render } from '../../agent/core/config/render.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { parseSource, toJson } from '../../agent/core/repo/yaml-source.js';
import { exampleFiles, withFiles } from '../helpers/project.js';
import { fixture, HARDWARE_FIXTURES, hasShared } from '../helpers/shared.js';

/** Runs `fn`; anything thrown must be a GitopsError (a user's mistake is never an internal error). */
function onlyGitopsErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(GitopsError);
    return undefined;
  }
}

/** Text that looks like YAML, broken in the ways people and attackers break it. */
const yamlish = fc
  .tuple(
    fc.jsonValue({ maxDepth: 4 }).map((v) => stringify({ motion: v })),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom(
          ':',
          '- ',
          '\t',
          '[',
          ']',
          '{',
          '}',
          '&a ',
          '*a',
          '<<: *a',
          '\n',
          '"',
          "'",
          '#',
          '!!binary ',
          '? ',
          '|',
          '>',
          '%YAML 1.1\n',
          '---\n',
          '__proto__: 1\n',
          '\u0000',
          '\ufeff',
          'é',
        ),
        fc.boolean(),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([text, edits]) => {
    let out = `version: 2\n${text}`;
    for (const [at, piece, replace] of edits) {
      const i = at % (out.length + 1);
      out = out.slice(0, i) + piece + out.slice(replace ? i + 1 : i);
    }
    return out;
  });

const located = (d: { file?: string; line?: number; column?: number }, file: string): boolean =>
  d.file !== file || (Number.isInteger(d.line) && d.line! >= 1 && Number.isInteger(d.column) && d.column! >= 1);

describe('the YAML source reader, on any text', () => {
  it('returns diagnostics with a line and column, never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(yamlish, fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 200 })),
        (text) => {
          const source = onlyGitopsErrors(() => parseSource('config/motion.yaml', text));
          if (!source) return;
          for (const d of source.diagnostics) expect(located(d, 'config/motion.yaml'), JSON.stringify(d)).toBe(true);
          onlyGitopsErrors(() => toJson(source));
          const doc = onlyGitopsErrors(() => loadDocument('config/motion.yaml', text));
          for (const d of doc?.diagnostics ?? [])
            expect(located(d, 'config/motion.yaml'), JSON.stringify(d)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('merge, render and validation, on any layer', () => {
  const base = exampleFiles();
  it('a mutated section file or override is valid or refused with located diagnostics; nothing throws', () => {
    fc.assert(
      fc.property(
        yamlish,
        fc.constantFrom(
          'config/motion.yaml',
          'environments/development/overrides.yaml',
          'environments/development/devices/dev-bench-01.yaml',
        ),
        (text, file) => {
          const files = withFiles({ [file]: text }, base);
          const result = onlyGitopsErrors(() =>
            render(openRepository(files), { environment: 'development', device: 'dev-bench-01' }),
          );
          const report = onlyGitopsErrors(() =>
            validateRepository(files, { environments: ['development'], devices: ['dev-bench-01'] }),
          );
          for (const d of [...(result?.diagnostics ?? []), ...(report?.diagnostics ?? [])]) {
            expect(located(d, file), JSON.stringify(d)).toBe(true);
            if (d.severity === 'error') expect(d.file, JSON.stringify(d)).toBeDefined();
          }
          // a document that does not parse is an error for the target that reads it
          if (loadDocument(file, text).diagnostics.some((d) => d.severity === 'error'))
            expect(report?.valid).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('merging any two JSON objects never throws and never reaches a prototype', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString'),
    );
    const object = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }) as fc.Arbitrary<JsonObject>;
    fc.assert(
      fc.property(object, object, (a, b) => {
        const once = onlyGitopsErrors(() =>
          mergeLayer({ value: {}, provenance: new Map() }, a, () => ({ layer: 'base', file: 'a.yaml' })),
        );
        if (once) onlyGitopsErrors(() => mergeLayer(once, b, () => ({ layer: 'environment', file: 'b.yaml' })));
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.getPrototypeOf({})).toBe(Object.prototype);
      }),
      { numRuns: 300 },
    );
  });
});

describe.runIf(hasShared)('every hardware parser, on mutations of the real captures and on any text', () => {
  const captures = ['accel', 'camera', 'ffprobe', 'h100-ubuntu2404', 'jetson', 'nvidia'].flatMap((d) =>
    readdirSync(join(HARDWARE_FIXTURES, d)).map((f) => fixture(join(d, f))),
  );
  const mutated = fc
    .tuple(
      fc.constantFrom(...captures),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.string({ maxLength: 8 })), { maxLength: 5 }),
    )
    .map(([text, cuts]) => {
      let out = text;
      for (const [at, len, piece] of cuts) {
        const i = at % (out.length + 1);
        out = out.slice(0, i) + piece + out.slice(i + len);
      }
      return out;
    });
  it.each(Object.keys(PARSERS))('%s returns facts or "unrecognised", with the raw text kept', (kind) => {
    const known = new Set(['unrecognised']);
    for (const c of captures) known.add(PARSERS[kind]!.parse(c, {}).format);
    fc.assert(
      fc.property(
        fc.oneof(mutated, fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 200 })),
        (text) => {
          const r = PARSERS[kind]!.parse(text, {});
          expect(r.raw).toBe(text);
          expect(typeof r.format).toBe('string');
          // no number in the facts is NaN or infinite: a fact is a value or null
          JSON.stringify(r, (_k, v: unknown) => {
            if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
            return v;
          });
          if (!known.has(r.format)) expect(r.format).toMatch(/^[a-z0-9-]+$/);
        },
      ),
      { numRuns: 150 },
    );
  });
});

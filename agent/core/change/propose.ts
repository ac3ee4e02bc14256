// A proposed change: PATH=VALUE settings written into the file a person would edit (the
// device's file, or the environment's overrides), comments and layout kept, values typed by
// the schema; refused before anything is written when it would not validate.

import { isMap, parseDocument } from 'yaml';
import { coerce } from '../config/env-overrides.js';
import { GitopsError } from '../errors.js';
import { parseDotted } from '../json/pointer.js';
import { deviceFile, overridesFile } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import { matchesSegments } from '../schema/schema-set.js';
import { closest } from '../format/suggest.js';

export interface Setting {
  path: string[];
  text: string;
}

export function parseSetting(arg: string): Setting {
  const eq = arg.indexOf('=');
  const path = eq > 0 ? parseDotted(arg.slice(0, eq)) : undefined;
  if (!path) throw new GitopsError('usage', `"${arg}" is not PATH=VALUE`, 'e.g. --set frame_capture.fps=12');
  return { path, text: arg.slice(eq + 1) };
}

/** The repository files with the settings applied to the right document. */
export function applySettings(
  repo: Repository,
  env: string,
  device: string | undefined,
  settings: readonly Setting[],
): { files: Map<string, string>; file: string } {
  const schemas = repo.schemas;
  if (!schemas)
    throw new GitopsError('schemas-invalid', 'the repository schemas do not compile', 'run gitops validate');
  const file = device ? deviceFile(env, device) : overridesFile(env);
  const text = repo.files.get(file) ?? '# yaml-language-server: $schema=../../schemas/config.schema.json\nversion: 2\n';
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents)))
    throw new GitopsError(
      'bad-document',
      `${file} does not parse; fix it before proposing changes to it`,
      'run gitops validate',
    );
  for (const s of settings) {
    const node = schemas.nodeAt(s.path);
    if (!node) {
      const parent = s.path.length > 1 ? schemas.nodeAt(s.path.slice(0, -1)) : undefined;
      const names =
        parent?.properties && typeof parent.properties === 'object'
          ? Object.keys(parent.properties)
          : schemas.sections();
      const guess = closest(s.path[s.path.length - 1]!, names);
      throw new GitopsError(
        'unknown-path',
        `${s.path.join('.')} is not a configuration path${guess ? `. Did you mean "${[...s.path.slice(0, -1), guess].join('.')}"?` : ''}`,
        'gitops explain PATH shows the schema of a path',
      );
    }
    if (schemas.annotated('x-secret').some((a) => matchesSegments(a.segments, s.path)))
      throw new GitopsError(
        'secret-path',
        `${s.path.join('.')} is a secret: it is not proposed in plaintext`,
        `use gitops secrets set environments/${env}/secrets.sops.yaml ${s.path.join('.')} -`,
      );
    const value = coerce(s.text, node);
    if (value === undefined)
      throw new GitopsError(
        'bad-value',
        `"${s.text}" is not a valid ${Array.isArray(node.enum) ? `value (one of ${node.enum.join(', ')})` : String(node.type)} for ${s.path.join('.')}`,
        'give a value of the type the schema asks for',
      );
    doc.setIn(s.path, value);
  }
  const files = new Map(repo.files as Map<string, string>);
  files.set(file, doc.toString({ lineWidth: 0 }));
  return { files, file };
}

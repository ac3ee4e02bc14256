// gitops secrets decrypt | encrypt | edit | set | unset | rotate | updatekeys | verify
// A SOPS-compatible implementation over age (and OpenPGP for decryption); no sops binary needed.

import { basename, resolve } from 'node:path';
import { GitopsError } from '../agent/core/errors.js';
import {
  readEncrypted,
  decryptFile,
  encryptFile,
  plaintextBytes,
  reencrypt,
  rotate,
  updateKeys,
} from '../agent/core/sops/sops-file.js';
import type { DecryptedFile } from '../agent/core/sops/sops-file.js';
import type { CreationRule } from '../agent/core/sops/sops-config.js';
import { parseSecretPath, secretChanges, setPath, unsetPath } from '../agent/core/sops/edit.js';
import { recipientChange, rotationGroups, verifyProblems } from '../agent/core/sops/recipients.js';
import { readStore } from '../agent/core/sops/stores.js';
import { fromPlain, toPlain } from '../agent/core/sops/tree.js';
import type { MapNode } from '../agent/core/sops/tree.js';
import { DEFAULT_RULE } from '../agent/core/sops/walk.js';
import { editInPrivateFile } from '../agent/io/editor.js';
import { fileAtRevision } from '../agent/io/git-show.js';
import { writeFileAtomic } from '../agent/io/repo-files.js';
import { registerValues } from '../agent/io/redactor.js';
import { readStdinText } from '../agent/io/local-files.js';
import { creationRuleFor, loadIdentities, readSecretsFile as readFile } from '../agent/io/sops-keys.js';
import { secretsProblems } from './secrets-validate.js';
import { EXIT_INVALID, EXIT_OK, err, list, out, parse, redactor } from './cli.js';

const USAGE = [
  'gitops secrets decrypt FILE [--identity F]... [--ignore-mac]',
  'gitops secrets encrypt FILE [--in-place] [--age R1,R2]',
  'gitops secrets edit FILE [--identity F]...',
  'gitops secrets set FILE PATH VALUE|- [--identity F]...',
  'gitops secrets unset FILE PATH [--identity F]...',
  'gitops secrets rotate FILE [--add-age R] [--rm-age R] [--identity F]...',
  'gitops secrets updatekeys FILE [--identity F]...',
  'gitops secrets verify FILE [--identity F]...',
  'gitops secrets changes FILE [--base REV]   (which keys changed since REV, without any key)',
].join('\n       ');

// The instance scripts/cli.ts's err() redacts with: every decrypted value is registered with it
// before anything can print it.

/** Registers every decrypted value with the redactor before anything can print it. */
function registerAll(d: DecryptedFile): void {
  for (const b of d.branches) registerValues(redactor, toPlain(b));
}

function rulesFor(file: string): { groups: string[][]; threshold: number; rule: CreationRule } {
  const picked = creationRuleFor(file, process.cwd());
  if (!picked)
    throw new GitopsError(
      'sops-no-config',
      'no .sops.yaml was found from the current directory upwards',
      'create one with creation_rules, or pass --age RECIPIENT',
    );
  return { groups: picked.rule.groups, threshold: picked.rule.shamirThreshold, rule: picked.rule };
}

export async function secretsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'secrets',
    args,
    {
      identity: { type: 'string', multiple: true, short: 'i' },
      'ignore-mac': { type: 'boolean' },
      'in-place': { type: 'boolean' },
      age: { type: 'string' },
      'add-age': { type: 'string', multiple: true },
      'rm-age': { type: 'string', multiple: true },
      base: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const [verb, file, ...rest] = positionals;
  if (!verb || !file) throw new GitopsError('usage', 'secrets needs a subcommand and a FILE', `usage: ${USAGE}`);
  const identities = (): ReturnType<typeof loadIdentities> => loadIdentities(list(values.identity));
  const now = new Date();
  const decrypt = async (): Promise<DecryptedFile> => {
    const d = await decryptFile(readFile(file), file, await identities(), { ignoreMac: values['ignore-mac'] === true });
    registerAll(d);
    return d;
  };
  const write = (bytes: Buffer): void => writeFileAtomic(file, bytes, 0o644);

  switch (verb) {
    case 'decrypt': {
      const d = await decrypt();
      process.stdout.write(plaintextBytes(d)); // only after the MAC is verified: never partial plaintext
      return EXIT_OK;
    }
    case 'encrypt': {
      const plain = readFile(file);
      const options = values.age
        ? {
            groups: [
              values.age
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            ],
            threshold: 0,
            rule: null,
          }
        : (() => {
            const r = rulesFor(file);
            return { groups: r.groups, threshold: r.threshold, rule: r.rule };
          })();
      const bytes = await encryptFile(
        plain,
        file,
        {
          groups: options.groups,
          shamirThreshold: options.threshold,
          rule: options.rule?.rule ?? DEFAULT_RULE,
          macOnlyEncrypted: options.rule?.macOnlyEncrypted ?? false,
        },
        now,
      );
      if (values['in-place']) write(bytes);
      else process.stdout.write(bytes);
      return EXIT_OK;
    }
    case 'edit': {
      const d = await decrypt();
      const editor = process.env.VISUAL ?? process.env.EDITOR ?? 'vi';
      const before = plaintextBytes(d);
      const after = await editInPrivateFile(before, basename(file).replace(/\.sops(?=\.)/, ''), editor);
      if (after.equals(before)) {
        err(`${file}: no changes`);
        return EXIT_OK;
      }
      const edited = readStore(d.format, after, file, false);
      return saveChanged(file, d, edited.branches, now, write);
    }
    case 'set': {
      const [path, raw] = rest;
      if (!path || raw === undefined || rest.length > 2)
        throw new GitopsError(
          'usage',
          'secrets set takes FILE PATH VALUE (or - to read the value from stdin)',
          `usage: ${USAGE}`,
        );
      const text = raw === '-' ? readStdinText().replace(/\r?\n$/, '') : raw;
      let value: unknown = text;
      if (raw !== '-') {
        try {
          value = JSON.parse(text);
        } catch {
          value = text;
        }
      }
      if (typeof value === 'string') redactor.register(value);
      const d = await decrypt();
      const branches = [setPath(d.branches[0]!, parseSecretPath(path), fromPlain(value)), ...d.branches.slice(1)];
      return saveChanged(file, d, branches, now, write);
    }
    case 'unset': {
      const [path] = rest;
      if (!path) throw new GitopsError('usage', 'secrets unset takes FILE PATH', `usage: ${USAGE}`);
      const d = await decrypt();
      const r = unsetPath(d.branches[0]!, parseSecretPath(path));
      if (!r.removed) throw new GitopsError('sops-path-missing', `${file} has no ${path}`, 'nothing was changed');
      return saveChanged(file, d, [r.tree, ...d.branches.slice(1)], now, write);
    }
    case 'rotate': {
      const d = await decrypt();
      const groups = rotationGroups(file, d.metadata, {
        add: list(values['add-age']),
        remove: list(values['rm-age']),
      });
      write(await rotate(d, groups, d.metadata.shamirThreshold, now));
      err(`${file}: new data key, every value re-encrypted, wrapped to ${groups.flat().length} recipient(s)`);
      return EXIT_OK;
    }
    case 'updatekeys': {
      const { groups, threshold } = rulesFor(file);
      const current = readEncrypted(readFile(file), file).metadata;
      const { added, removed, same } = recipientChange(current, groups);
      if (same) {
        err(`${file}: recipients already match .sops.yaml`);
        return EXIT_OK;
      }
      write(await updateKeys(readFile(file), file, await identities(), groups, threshold));
      err(
        `${file}: data key re-wrapped; added ${added.length ? added.join(', ') : 'none'}; ` +
          `removed ${removed.length ? removed.join(', ') : 'none'}; values untouched`,
      );
      return EXIT_OK;
    }
    case 'verify': {
      const bytes = readFile(file);
      const enc = readEncrypted(bytes, file);
      const picked = creationRuleFor(file, process.cwd());
      const problems = verifyProblems(
        file,
        enc,
        picked && { configFile: picked.configFile, groups: picked.rule.groups },
      );
      let macNote = 'MAC not checked: no key for it on this machine';
      const ids = await identities();
      if (ids.sources.length > 0) {
        const d = await decryptFile(bytes, file, ids);
        registerAll(d);
        macNote = 'MAC verified';
      }
      for (const p of problems) err(`${file}: ${p}`);
      out(
        `${file}: ${problems.length === 0 ? 'ok' : `${problems.length} problem(s)`}; ` +
          `${enc.metadata.keyGroups.flatMap((g) => g.age).length} age recipient(s); ${macNote}`,
      );
      return problems.length === 0 ? EXIT_OK : EXIT_INVALID;
    }
    case 'changes': {
      // From the ciphertexts alone: unchanged values keep their ciphertext, so no key is needed.
      const base = values.base ?? 'HEAD';
      const old = await fileAtRevision(resolve(file), base);
      const changes = secretChanges(
        old ? readEncrypted(old, file).branches : undefined,
        readEncrypted(readFile(file), file).branches,
      );
      if (changes.length === 0) out(`${file}: no secret changed since ${base}`);
      for (const c of changes) out(`${c.path} ${c.change}`);
      return EXIT_OK;
    }
    default:
      throw new GitopsError('usage', `unknown secrets subcommand "${verb}"`, `usage: ${USAGE}`);
  }
}

/** Validates changed plaintext against the schemas of the repository it lives in, then writes it. */
async function saveChanged(
  file: string,
  d: DecryptedFile,
  branches: MapNode[],
  now: Date,
  write: (b: Buffer) => void,
): Promise<number> {
  const problems = secretsProblems(resolve(file), branches);
  if (problems.length > 0) {
    for (const p of problems) err(`${file}: ${p}`);
    err(`${file} was not changed`);
    return EXIT_INVALID;
  }
  write(await reencrypt(d, branches, now));
  err(`${file}: saved`);
  return EXIT_OK;
}

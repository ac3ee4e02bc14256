// Cutting the signed payload and the signature out of raw git object bytes exactly as git does
// (commit.c parse_buffer_signed_by_header, gpg-interface.c parse_signed_buffer), byte for byte:
// CRLF, non-UTF-8 bytes, mergetag headers and a missing final newline are all preserved.
// Stricter than git where git is unsafe: duplicate signature headers and bytes after a tag
// signature's END line are reported.

export type SignatureKind = 'openpgp' | 'ssh' | 'x509' | 'unknown';

export interface Person {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
  tz: string;
}

export interface SplitObject {
  payload: Buffer;
  /** The signature text (armored), or null when the object carries none. */
  signature: string | null;
  signatureKind: SignatureKind | null;
  /** Why the object cannot be trusted as written, when it is malformed. */
  problem?: string;
}

export interface CommitHeaders {
  tree: string;
  parents: string[];
  author: Person;
  committer: Person;
}

export interface TagHeaders {
  object: string;
  type: string;
  tag: string;
  tagger: Person | null;
}

const ARMOR: Array<[string, SignatureKind]> = [
  ['-----BEGIN PGP SIGNATURE-----', 'openpgp'],
  ['-----BEGIN PGP MESSAGE-----', 'openpgp'],
  ['-----BEGIN SSH SIGNATURE-----', 'ssh'],
  ['-----BEGIN SIGNED MESSAGE-----', 'x509'],
];

export function signatureKind(signature: string): SignatureKind {
  return ARMOR.find(([head]) => signature.startsWith(head))?.[1] ?? 'unknown';
}

/** Lines of a latin1 string, each keeping its "\n" (the last one may lack it). */
function lines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** The header lines of an object with their offsets, up to the first empty line, which starts the body at `body` (or the end). */
function headerSpans(text: string): { spans: Array<{ line: string; at: number; next: number }>; body: number } {
  const spans: Array<{ line: string; at: number; next: number }> = [];
  let at = 0;
  for (const line of lines(text)) {
    if (line.startsWith('\n')) return { spans, body: at };
    spans.push({ line, at, next: at + line.length });
    at += line.length;
  }
  return { spans, body: text.length };
}

/**
 * Splits a commit as git's parse_buffer_signed_by_header does, line by line on raw bytes: a
 * `gpgsig ` header (SHA-1 repositories) and its continuation lines are the signature; any other
 * line that starts with "gpgsig" (`gpgsig-sha256`, and whatever else) is dropped from the
 * payload with its continuation lines; the first empty line ends the headers and everything
 * from it on is payload, byte for byte.
 */
export function splitCommit(raw: Uint8Array, header = 'gpgsig'): SplitObject {
  const text = Buffer.from(raw).toString('latin1');
  const { spans, body } = headerSpans(text);
  let payload = '';
  let signature = '';
  let blocks = 0;
  let inSignature = false;
  let other = false;
  for (const { line } of spans) {
    if (inSignature && line.startsWith(' ')) signature += line.slice(1);
    else if (line.startsWith(header + ' ')) {
      signature += line.slice(header.length + 1);
      inSignature = true;
      other = false;
      blocks++;
    } else {
      if (line.startsWith('gpgsig')) other = true;
      else if (other && !line.startsWith(' ')) other = false;
      if (!other) payload += line;
      inSignature = false;
    }
  }
  payload += text.slice(body);
  const out: SplitObject = {
    payload: Buffer.from(payload, 'latin1'),
    signature: blocks > 0 ? signature : null,
    signatureKind: blocks > 0 ? signatureKind(signature) : null,
  };
  if (blocks > 1) out.problem = `the commit carries ${blocks} ${header} headers; a signed commit has exactly one`;
  return out;
}

/** Removes interop signature headers from a tag payload as git's remove_signature does (at most two blocks). */
function removeSignatureHeaders(text: string): string {
  const slots: Array<{ start: number; end: number }> = [];
  let slot = 0;
  let inSignature = false;
  for (const { line, at, next } of headerSpans(text).spans) {
    if (inSignature && line.startsWith(' ')) slots[slot]!.end = next;
    else if (line.startsWith('gpgsig')) {
      if (/^gpgsig(-sha256)? /.test(line) && slot < 2) {
        slots[slot] = { start: at, end: next };
        inSignature = true;
      }
    } else {
      if (inSignature && slot < 2) slot++;
      inSignature = false;
    }
  }
  let out = text;
  for (const s of [...slots].reverse()) if (s) out = out.slice(0, s.start) + out.slice(s.end);
  return out;
}

/** Splits a tag at the last line that starts a known armor, as git does. */
export function splitTag(raw: Uint8Array): SplitObject {
  const text = Buffer.from(raw).toString('latin1');
  const all = lines(text);
  let at = -1;
  let offset = 0;
  let sigStart = -1;
  all.forEach((line, i) => {
    if (ARMOR.some(([head]) => line.startsWith(head))) {
      at = i;
      sigStart = offset;
    }
    offset += line.length;
  });
  if (at < 0) return { payload: Buffer.from(raw), signature: null, signatureKind: null };
  const signature = text.slice(sigStart);
  const out: SplitObject = {
    payload: Buffer.from(removeSignatureHeaders(text.slice(0, sigStart)), 'latin1'),
    signature,
    signatureKind: signatureKind(signature),
  };
  const end = /\n-----END [A-Z0-9 ]+-----\n?/.exec(signature);
  if (!end) out.problem = 'the tag signature has no END line';
  else if (signature.slice(end.index + end[0].length).length > 0)
    out.problem = "the tag has bytes after its signature's END line";
  return out;
}

function parsePerson(value: string): Person | undefined {
  const m = /^(.*) <([^<>]*)> (\d+) ([+-]\d{4})$/.exec(value);
  if (!m) return undefined;
  return { name: m[1]!, email: m[2]!, time: Number(m[3]), tz: m[4]! };
}

/**
 * The tree and the parents exactly as git's parse_commit_buffer reads them from the raw object:
 * the object starts with `tree HEX\n`; `parent HEX\n` lines count only directly after it (a
 * `parent` line anywhere later is just another header, not a parent); hex digits in either
 * case. What git refuses to parse ("bogus commit", "bad tree pointer", "bad parents") is a
 * problem here too.
 */
export function commitLinks(raw: Uint8Array): { tree: string; parents: string[]; end: number } | { problem: string } {
  const text = Buffer.from(raw).toString('latin1');
  const HEX = /^[0-9a-fA-F]{40}$/;
  if (text.length <= 46 || !text.startsWith('tree ') || text[45] !== '\n')
    return { problem: 'the commit does not start with a tree line (git: bogus commit object)' };
  if (!HEX.test(text.slice(5, 45))) return { problem: 'the commit has a bad tree pointer' };
  const parents: string[] = [];
  let at = 46;
  while (at + 47 < text.length && text.startsWith('parent ', at)) {
    if (text.length <= at + 48 || !HEX.test(text.slice(at + 7, at + 47)) || text[at + 47] !== '\n')
      return { problem: 'the commit has a bad parent line (git: bad parents)' };
    parents.push(text.slice(at + 7, at + 47).toLowerCase());
    at += 48;
  }
  return { tree: text.slice(5, 45).toLowerCase(), parents, end: at };
}

/** The header lines of an object (continuations folded in), up to the first empty line; a problem when CR or NUL bytes appear in them. */
function headerLines(raw: Uint8Array): { lines: Array<{ name: string; value: string }>; problem?: string } {
  const text = Buffer.from(raw).toString('latin1');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text.replace(/\n$/, '') : text.slice(0, end);
  const out: Array<{ name: string; value: string }> = [];
  if (/[\r\0]/.test(head)) return { lines: out, problem: 'the object headers contain CR or NUL bytes' };
  for (const line of head.split('\n')) {
    if (line.startsWith(' ')) {
      const last = out[out.length - 1];
      if (!last) return { lines: out, problem: 'the object starts with a continuation line' };
      last.value += '\n' + line.slice(1);
      continue;
    }
    const sp = line.indexOf(' ');
    if (sp <= 0) return { lines: out, problem: `the object has a malformed header line "${line.slice(0, 40)}"` };
    out.push({ name: line.slice(0, sp), value: line.slice(sp + 1) });
  }
  return { lines: out };
}

/**
 * The headers of a commit object (raw bytes, or a payload cut from them). Tree and parents are
 * read as git reads them (commitLinks); beyond that the object must be what git fsck accepts and
 * unambiguous to every reader: `tree`, the parents, then exactly one `author` and one
 * `committer`, in that order, and no second `tree`, `author` or `committer` header anywhere.
 */
export function commitHeaders(raw: Uint8Array): { headers?: CommitHeaders; problem?: string } {
  const links = commitLinks(raw);
  if ('problem' in links) return { problem: links.problem };
  const { lines, problem } = headerLines(raw);
  if (problem) return { problem };
  const n = links.parents.length;
  if (lines[n + 1]?.name !== 'author' || lines[n + 2]?.name !== 'committer')
    return { problem: 'the commit headers are not tree, parents, author, committer in that order' };
  if (lines.slice(n + 3).some((l) => l.name === 'tree' || l.name === 'author' || l.name === 'committer'))
    return { problem: 'the commit has a second tree, author or committer header' };
  const author = parsePerson(lines[n + 1]!.value);
  const committer = parsePerson(lines[n + 2]!.value);
  if (!author || !committer) return { problem: 'the commit does not have a well-formed author and committer' };
  return { headers: { tree: links.tree, parents: links.parents, author, committer } };
}

export function tagHeaders(payload: Buffer): { headers?: TagHeaders; problem?: string } {
  const { lines, problem } = headerLines(payload);
  if (problem) return { problem };
  const one = (name: string): string | undefined => {
    const found = lines.filter((l) => l.name === name);
    return found.length === 1 ? found[0]!.value : undefined;
  };
  const object = one('object');
  const type = one('type');
  const tag = one('tag');
  if (!object || !/^[0-9a-f]{40}$/.test(object) || !type || !tag)
    return { problem: 'the tag does not have exactly one object, type and tag header' };
  const taggerText = one('tagger');
  return { headers: { object, type, tag, tagger: taggerText ? (parsePerson(taggerText) ?? null) : null } };
}

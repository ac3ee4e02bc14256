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

/** Splits a commit: `gpgsig` (SHA-1 repositories) is the signature; `gpgsig-sha256` is dropped as git does. */
export function splitCommit(raw: Uint8Array, header = 'gpgsig'): SplitObject {
  const text = Buffer.from(raw).toString('latin1');
  const payload: string[] = [];
  let signature = '';
  let blocks = 0;
  let inSignature: 'own' | 'other' | null = null;
  let inHeaders = true;
  for (const line of lines(text)) {
    if (!inHeaders) {
      payload.push(line);
      continue;
    }
    if (line === '\n') {
      inHeaders = false;
      inSignature = null;
      payload.push(line);
      continue;
    }
    if (line.startsWith(' ') && inSignature) {
      if (inSignature === 'own') signature += line.slice(1);
      continue;
    }
    if (line.startsWith(header + ' ')) {
      blocks++;
      inSignature = 'own';
      signature += line.slice(header.length + 1);
      continue;
    }
    if (/^gpgsig(-[a-z0-9]+)? /.test(line)) {
      inSignature = 'other';
      continue;
    }
    inSignature = null;
    payload.push(line);
  }
  const out: SplitObject = { payload: Buffer.from(payload.join(''), 'latin1'), signature: blocks > 0 ? signature : null, signatureKind: blocks > 0 ? signatureKind(signature) : null };
  if (blocks > 1) out.problem = `the commit carries ${blocks} ${header} headers; a signed commit has exactly one`;
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
  // Drop interop signature headers from the payload, as git does.
  const payloadLines: string[] = [];
  let skipping = false;
  let inHeaders = true;
  for (const line of lines(text.slice(0, sigStart))) {
    if (inHeaders && line === '\n') inHeaders = false;
    if (inHeaders && /^gpgsig(-[a-z0-9]+)? /.test(line)) {
      skipping = true;
      continue;
    }
    if (inHeaders && skipping && line.startsWith(' ')) continue;
    skipping = false;
    payloadLines.push(line);
  }
  const out: SplitObject = { payload: Buffer.from(payloadLines.join(''), 'latin1'), signature, signatureKind: signatureKind(signature) };
  const end = /\n-----END [A-Z0-9 ]+-----\n?/.exec(signature);
  if (!end) out.problem = 'the tag signature has no END line';
  else if (signature.slice(end.index + end[0].length).length > 0) out.problem = 'the tag has bytes after its signature\'s END line';
  return out;
}

function parsePerson(value: string): Person | undefined {
  const m = /^(.*) <([^<>]*)> (\d+) ([+-]\d{4})$/.exec(value);
  if (!m) return undefined;
  return { name: m[1]!, email: m[2]!, time: Number(m[3]), tz: m[4]! };
}

/** The header block of a payload as name -> values; malformed when CR or NUL bytes appear in it. */
function headerFields(payload: Buffer): { fields: Map<string, string[]>; problem?: string } {
  const text = payload.toString('latin1');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const fields = new Map<string, string[]>();
  if (/[\r\0]/.test(head)) return { fields, problem: 'the object headers contain CR or NUL bytes' };
  let last: string | undefined;
  for (const line of head.split('\n')) {
    if (line.startsWith(' ')) continue; // continuation (mergetag and the like)
    const sp = line.indexOf(' ');
    if (sp <= 0) return { fields, problem: `the object has a malformed header line "${line.slice(0, 40)}"` };
    last = line.slice(0, sp);
    fields.set(last, [...(fields.get(last) ?? []), line.slice(sp + 1)]);
  }
  return { fields };
}

export function commitHeaders(payload: Buffer): { headers?: CommitHeaders; problem?: string } {
  const { fields, problem } = headerFields(payload);
  if (problem) return { problem };
  const one = (name: string): string | undefined => (fields.get(name)?.length === 1 ? fields.get(name)![0] : undefined);
  const tree = one('tree');
  const author = parsePerson(one('author') ?? '');
  const committer = parsePerson(one('committer') ?? '');
  const parents = fields.get('parent') ?? [];
  if (!tree || !/^[0-9a-f]{40}$/.test(tree)) return { problem: 'the commit does not have exactly one valid tree header' };
  if (!parents.every((p) => /^[0-9a-f]{40}$/.test(p))) return { problem: 'the commit has a malformed parent header' };
  if (!author || !committer) return { problem: 'the commit does not have exactly one well-formed author and committer' };
  return { headers: { tree, parents, author, committer } };
}

export function tagHeaders(payload: Buffer): { headers?: TagHeaders; problem?: string } {
  const { fields, problem } = headerFields(payload);
  if (problem) return { problem };
  const one = (name: string): string | undefined => (fields.get(name)?.length === 1 ? fields.get(name)![0] : undefined);
  const object = one('object');
  const type = one('type');
  const tag = one('tag');
  if (!object || !/^[0-9a-f]{40}$/.test(object) || !type || !tag) return { problem: 'the tag does not have exactly one object, type and tag header' };
  const taggerText = one('tagger');
  return { headers: { object, type, tag, tagger: taggerText ? (parsePerson(taggerText) ?? null) : null } };
}

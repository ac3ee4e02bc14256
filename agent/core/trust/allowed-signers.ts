// OpenSSH allowed_signers (ssh-keygen(1) ALLOWED SIGNERS): principals, options
// (namespaces=, valid-after=, valid-before=, cert-authority) and the key, one entry per line.
// Problems are reported with their line number; a bad line never widens trust.

import { WireReader } from './ssh-wire.js';

export interface AllowedSigner {
  principals: string;
  namespaces: string | null;
  validAfter: number | null;
  validBefore: number | null;
  certAuthority: boolean;
  keyType: string;
  publicKey: Buffer;
  file: string;
  line: number;
}

export interface SignersProblem {
  file: string;
  line: number;
  message: string;
}

/** Splits on spaces outside double quotes. */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === ' ' || ch === '\t')) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

const KEY_TYPE =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+|[a-z0-9-]+-cert-v01@openssh\.com|ssh-dss)$/;

/** "YYYYMMDD[Z]" or "YYYYMMDDHHMM[SS][Z]"; without Z the verifier's local time, as ssh-keygen. */
export function parseSignerTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = m[7] ? Date.UTC(y, mo - 1, d, h, mi, s) : new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

export function parseAllowedSigners(
  text: string,
  file: string,
): { signers: AllowedSigner[]; problems: SignersProblem[] } {
  const signers: AllowedSigner[] = [];
  const problems: SignersProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const problem = (message: string): void => void problems.push({ file, line: i + 1, message });
    const f = fields(line);
    if (f.length < 3) return problem('expected "principals [options] key-type base64-key"');
    const principals = f[0]!;
    let idx = 1;
    let options = '';
    // "principals options key-type key": the options field is there when the third field is the key type.
    if (!KEY_TYPE.test(f[1]!) && f.length >= 4 && KEY_TYPE.test(f[2]!)) {
      options = f[1]!;
      idx = 2;
    }
    const keyType = f[idx];
    const b64 = f[idx + 1];
    if (!keyType || !KEY_TYPE.test(keyType)) return problem(`unknown key type "${keyType ?? ''}"`);
    if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return problem('the key is not valid base64');
    const publicKey = Buffer.from(b64, 'base64');
    try {
      if (new WireReader(publicKey).text() !== keyType) return problem(`the key data is not a ${keyType} key`);
    } catch {
      return problem('the key data is truncated');
    }
    const entry: AllowedSigner = {
      principals,
      namespaces: null,
      validAfter: null,
      validBefore: null,
      certAuthority: false,
      keyType,
      publicKey,
      file,
      line: i + 1,
    };
    for (const opt of options ? options.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/) : []) {
      const m = /^([A-Za-z-]+)(?:="([^"]*)")?$/.exec(opt);
      const name = m?.[1]?.toLowerCase();
      if (!m || !name) return problem(`cannot read option "${opt}"`);
      if (name === 'cert-authority') entry.certAuthority = true;
      else if (name === 'namespaces' && m[2] !== undefined) entry.namespaces = m[2];
      else if ((name === 'valid-after' || name === 'valid-before') && m[2] !== undefined) {
        const t = parseSignerTime(m[2]);
        if (t === undefined) return problem(`${name}="${m[2]}" is not YYYYMMDD[HHMM[SS]][Z]`);
        if (name === 'valid-after') entry.validAfter = t;
        else entry.validBefore = t;
      } else return problem(`unknown option "${opt}"`);
    }
    signers.push(entry);
  });
  return { signers, problems };
}

/** OpenSSH pattern-list matching: comma-separated, * and ? wildcards, ! negates. */
export function matchPatternList(value: string, list: string): boolean {
  let matched = false;
  for (const raw of list.split(',')) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    const re = new RegExp(
      '^' +
        pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.') +
        '$',
    );
    if (re.test(value)) {
      if (negate) return false;
      matched = true;
    }
  }
  return matched;
}

// The one error class of the project: a stable kebab-case code from ERROR_CODES, a message that
// says what and where, and a hint that says how to fix it. Findings about a user's configuration
// are not errors: they are returned as diagnostics (see validate/diagnostics.ts); a refusal that
// rests on them carries them.
//
// ERROR_CODES is the only list of codes: each says what it means, the exit status of a `gitops`
// command that ends with it, and the HTTP status of an API answer that carries it. The codes are
// a contract (tests, the journal, metrics labels and the API's error bodies name them): add
// codes, never rename one. The API answers 500 for a code it does not raise on purpose: if such
// an error reaches a client, it is the agent's failure, not the caller's.

import type { Verdict, VerdictCode } from './trust/verdict.js';
import type { Diagnostic } from './validate/diagnostics.js';

/** Exit statuses of the `gitops` commands (DESIGN.md section 8). */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/** The HTTP statuses an error answer of the agent's API may have. */
export type HttpErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 421 | 422 | 429 | 500 | 503;

export interface ErrorCodeInfo {
  /** Exit status of a `gitops` command that ends with this error. */
  exit: typeof EXIT_INVALID | typeof EXIT_USAGE;
  /** HTTP status of an API answer that carries this error. */
  http: HttpErrorStatus;
  /** What the code means, in one line. */
  meaning: string;
}

export const ERROR_CODES = {
  // the command line and unexpected failures
  usage: { exit: 2, http: 500, meaning: 'the command line (or a value given on it) is wrong' },
  internal: { exit: 1, http: 500, meaning: 'an unexpected failure (a bug): the log has the details' },

  // the working tree and files
  'not-a-config-repo': { exit: 1, http: 500, meaning: 'the directory is not a configuration repository' },
  'file-not-found': { exit: 1, http: 500, meaning: 'a file named on the command line does not exist' },
  'file-not-readable': { exit: 1, http: 500, meaning: 'a file cannot be read (permissions, not a file)' },
  'file-too-large': { exit: 1, http: 500, meaning: 'a file is larger than the limit for its kind' },
  'write-failed': { exit: 1, http: 500, meaning: 'a file could not be written (disk space, permissions)' },
  'bad-hardware-profile': { exit: 1, http: 500, meaning: 'a hardware profile file is not valid YAML or JSON' },

  // the configuration: targets, paths, proposals, devices
  'unknown-environment': { exit: 1, http: 500, meaning: 'no environment has that name' },
  'unknown-device': { exit: 1, http: 500, meaning: 'the environment has no device with that id' },
  'unknown-path': { exit: 1, http: 500, meaning: 'not a configuration path of the schemas' },
  'unknown-model': { exit: 1, http: 500, meaning: 'no hardware profile exists for that device model' },
  'unknown-template': { exit: 1, http: 500, meaning: 'no device template has that name' },
  'unknown-experiment': { exit: 1, http: 500, meaning: 'no experiments/<name>.yaml has that name' },
  'unknown-variant': { exit: 1, http: 500, meaning: 'the experiment has no variant with that name' },
  'experiment-no-verdict': {
    exit: 1,
    http: 500,
    meaning: "the experiment report's verdict is not to ship that variant (conclude --allow-without-verdict)",
  },
  'unknown-tuning': { exit: 1, http: 500, meaning: 'no tuning/<name>.yaml has that name' },
  'tuning-unknown-model': {
    exit: 1,
    http: 500,
    meaning: 'the tuning run does not target that hardware model, or no device of it is in its environments',
  },
  'tuning-no-best': {
    exit: 1,
    http: 500,
    meaning: 'the pooled trials name no best candidate for that model yet (tune propose --candidate)',
  },
  'tuning-bad-candidate': { exit: 1, http: 500, meaning: "a candidate is not one of the tuning run's space" },
  'bad-template': { exit: 1, http: 500, meaning: 'a device template is not one (no device mapping)' },
  'device-exists': { exit: 1, http: 500, meaning: 'the device file to create exists already' },
  'bad-document': { exit: 1, http: 500, meaning: 'a configuration document does not parse' },
  'bad-value': { exit: 1, http: 500, meaning: 'a proposed value does not fit the schema' },
  'secret-path': { exit: 1, http: 500, meaning: 'a secret path cannot be proposed in plaintext' },
  'schemas-invalid': { exit: 1, http: 500, meaning: "the repository's schemas do not compile" },
  'component-cycle': { exit: 1, http: 500, meaning: "the components' depends_on form a cycle" },
  'dirty-file': { exit: 1, http: 500, meaning: 'a file to change has uncommitted changes' },
  'unsigned-proposal': {
    exit: 1,
    http: 500,
    meaning:
      'a proposal for an environment that requires signed commits would not be signed (gitops propose --allow-unsigned)',
  },

  // git: the local repository and its objects
  'not-a-repository': { exit: 1, http: 500, meaning: 'the directory is not a git repository' },
  'unknown-revision': { exit: 1, http: 500, meaning: 'a revision names no commit of the repository' },
  'unknown-object': { exit: 1, http: 500, meaning: 'not an object id, branch or tag of the repository' },
  'object-missing': { exit: 1, http: 500, meaning: 'a ref points at an object the repository lacks' },
  'commit-unreadable': { exit: 1, http: 500, meaning: "a commit's tree (or one of its objects) cannot be read" },
  'git-failed': { exit: 1, http: 500, meaning: 'a git command (commit, push) failed' },
  'no-history': { exit: 1, http: 500, meaning: 'there is no git history to export' },
  'bundle-invalid': { exit: 1, http: 500, meaning: 'a file is not a readable v2 git bundle' },
  'bundle-failed': { exit: 1, http: 500, meaning: 'a git bundle could not be made' },

  // GitHub
  'github-unauthorized': { exit: 1, http: 500, meaning: 'GitHub refused the token (HTTP 401)' },
  'github-forbidden': { exit: 1, http: 500, meaning: 'the token may not write there (HTTP 403)' },
  'github-not-found': { exit: 1, http: 500, meaning: 'the repository or pull request was not found (HTTP 404)' },
  'github-rate-limited': { exit: 1, http: 500, meaning: "GitHub's rate limit was hit" },
  'github-failed': { exit: 1, http: 500, meaning: 'another GitHub API failure' },

  // SOPS secrets
  'sops-no-config': { exit: 1, http: 500, meaning: 'no .sops.yaml was found' },
  'sops-bad-config': { exit: 1, http: 500, meaning: '.sops.yaml is not valid' },
  'sops-no-rule': { exit: 1, http: 500, meaning: 'no creation rule of .sops.yaml matches the file' },
  'sops-bad-file': { exit: 1, http: 500, meaning: 'a secrets file does not parse in its format' },
  'sops-bad-metadata': { exit: 1, http: 500, meaning: "a secrets file's sops block is malformed" },
  'sops-bad-value': { exit: 1, http: 500, meaning: 'a value decrypts to something that is not of its type' },
  'sops-bad-identity': { exit: 1, http: 500, meaning: 'an identity (age or OpenPGP key) cannot be used' },
  'sops-identity-unreadable': { exit: 1, http: 500, meaning: 'an identity file cannot be read' },
  'sops-bad-recipient': { exit: 1, http: 500, meaning: 'not an age recipient' },
  'sops-bad-threshold': { exit: 1, http: 500, meaning: 'the Shamir threshold does not fit the key groups' },
  'sops-no-recipients': { exit: 1, http: 500, meaning: 'a key group has no recipient' },
  'sops-no-key': { exit: 1, http: 500, meaning: 'none of the available keys can decrypt the file' },
  'sops-decrypt-failed': { exit: 1, http: 500, meaning: 'a value cannot be decrypted (altered file or wrong key)' },
  'sops-mac-mismatch': { exit: 1, http: 500, meaning: "the file's MAC does not match: it was altered" },
  'sops-not-encrypted': { exit: 1, http: 500, meaning: 'a value that should be encrypted is in the clear' },
  'sops-already-encrypted': { exit: 1, http: 500, meaning: 'the file has sops metadata already' },
  'sops-cannot-rewrap': { exit: 1, http: 500, meaning: 'the file is also encrypted to keys this tool cannot wrap for' },
  'sops-file-too-large': { exit: 1, http: 500, meaning: 'a secrets file is larger than the limit' },
  'sops-path-missing': { exit: 1, http: 500, meaning: 'the secrets file has no such path' },
  'editor-failed': { exit: 1, http: 500, meaning: 'the editor exited with a failure; nothing was written' },

  // trust: the verdicts other than trusted, and the finer codes under them (core/trust/verdict.ts)
  unsigned: { exit: 1, http: 500, meaning: 'a commit or tag is not signed' },
  'untrusted-key': { exit: 1, http: 500, meaning: 'signed with a key the trust root does not hold' },
  'bad-signature': { exit: 1, http: 500, meaning: 'the signature does not verify' },
  'key-not-valid': { exit: 1, http: 500, meaning: 'the signing key was not valid at the time of signing' },
  malformed: { exit: 1, http: 500, meaning: 'the object or its signature cannot be parsed' },
  policy: { exit: 1, http: 500, meaning: 'the trust or environment policy does not allow it' },
  'future-dated': { exit: 1, http: 500, meaning: "dated after the device's clock: refused for now (policy)" },
  'trust-dir-unreadable': { exit: 1, http: 500, meaning: 'the trust directory cannot be read' },
  'trust-empty': { exit: 1, http: 500, meaning: 'the trust directory holds no usable key' },

  // the agent's settings, tokens and backups
  'settings-unreadable': { exit: 1, http: 500, meaning: 'the agent settings file cannot be read' },
  'settings-invalid': { exit: 1, http: 500, meaning: 'the agent settings are not valid' },
  'tokens-unreadable': { exit: 1, http: 500, meaning: 'the API tokens file cannot be read' },
  'tokens-invalid': { exit: 1, http: 500, meaning: 'the API tokens file is not valid' },
  'token-exists': { exit: 1, http: 500, meaning: 'a token of that name exists already' },
  'token-unknown': { exit: 1, http: 500, meaning: 'no token has that name' },
  'nothing-to-export': { exit: 1, http: 500, meaning: 'the state directory has no applied release to export' },
  'backup-invalid': { exit: 1, http: 500, meaning: 'a file is not a backup written by gitops agent export' },
  'backup-other-device': { exit: 1, http: 500, meaning: 'the backup is of another device' },
  'backup-write-failed': { exit: 1, http: 500, meaning: 'the backup file could not be written' },
  'state-not-empty': { exit: 1, http: 500, meaning: 'the state directory already runs a release' },

  // the agent's sync from its remote
  'sync-failed': { exit: 1, http: 500, meaning: 'fetching from the remote failed' },
  'sync-timeout': { exit: 1, http: 500, meaning: 'the remote did not finish answering in time' },
  'ref-missing': {
    exit: 1,
    http: 500,
    meaning: 'the remote has no such ref (a branch, or a wave the rollout has not reached)',
  },
  'sync-too-large': { exit: 1, http: 500, meaning: 'the remote sent more than remote.max_fetch_mb' },
  'sync-too-many-refs': { exit: 1, http: 500, meaning: 'the remote advertised too many refs' },
  'sync-refs-too-large': { exit: 1, http: 500, meaning: 'the remote advertised too many bytes of refs' },
  'sync-pack-invalid': { exit: 1, http: 500, meaning: 'the remote sent a pack that cannot be read' },
  'sync-pack-too-large': { exit: 1, http: 500, meaning: 'the remote sent a pack of too many objects' },
  'sync-object-too-large': { exit: 1, http: 500, meaning: 'the remote sent an object larger than the limit' },

  // the agent refusing a candidate, or rolling it back (the journal's and metrics' codes)
  invalid: { exit: 1, http: 500, meaning: 'the configuration is not valid for the device' },
  hardware: { exit: 1, http: 500, meaning: "the configuration does not fit the device's hardware" },
  secrets: { exit: 1, http: 500, meaning: "the environment's secrets cannot be decrypted on the device" },
  veto: { exit: 1, http: 500, meaning: 'a component refused the proposed configuration' },
  'component-unavailable': { exit: 1, http: 500, meaning: 'a component did not judge the proposal: tried again later' },
  health: { exit: 1, http: 500, meaning: 'a component was not healthy during the bake: rolled back' },
  'crash-loop': { exit: 1, http: 500, meaning: 'the agent died each time it applied the candidate' },
  'cycle-limit': {
    exit: 1,
    http: 500,
    meaning: "the candidate's cycle ran out of the memory its worker may use (or the worker stopped)",
  },

  // the agent's releases
  'bad-release-id': { exit: 1, http: 500, meaning: 'not a release id (a commit id)' },
  'release-missing': { exit: 1, http: 500, meaning: 'a release on disk is not complete' },
  'release-write-failed': { exit: 1, http: 500, meaning: 'a release could not be written' },

  // the agent's API: what a caller asked for
  'bad-request': { exit: 1, http: 400, meaning: 'the request (body or query) is not what the endpoint takes' },
  'bad-path': { exit: 1, http: 400, meaning: 'not a dotted configuration path' },
  'bad-release': { exit: 1, http: 400, meaning: 'not a release name, or a prefix of several' },
  'release-unknown': { exit: 1, http: 404, meaning: 'no release of that name on the device' },
  'no-such-path': { exit: 1, http: 404, meaning: 'the path is not set in the release' },
  'not-found': { exit: 1, http: 404, meaning: 'no such endpoint' },
  'method-not-allowed': { exit: 1, http: 405, meaning: 'the endpoint does not take that method' },
  'no-release': { exit: 1, http: 409, meaning: 'no good release to return to' },
  'release-not-good': { exit: 1, http: 409, meaning: 'the release was never applied successfully' },
  'already-running': { exit: 1, http: 409, meaning: 'the release runs already' },
  'release-unverified': { exit: 1, http: 409, meaning: 'the release no longer verifies against the trust root' },
  'rollback-failed': { exit: 1, http: 500, meaning: 'the release rolled back to did not become healthy' },
  'body-too-large': { exit: 1, http: 413, meaning: 'the request body is larger than the limit' },

  // runtime leases (DESIGN.md section 9): a lease refused before anything is delivered
  'not-tunable': {
    exit: 1,
    http: 422,
    meaning: 'the path takes no runtime lease (no x-tunable, or not in this configuration)',
  },
  'lease-owner-not-allowed': { exit: 1, http: 403, meaning: 'this owner may not hold a lease on the path here' },
  'lease-out-of-bounds': { exit: 1, http: 422, meaning: 'the value is outside the signed bounds of the path' },
  'lease-off-grid': { exit: 1, http: 422, meaning: 'the value is not on the step grid of the path' },
  'lease-wrong-type': { exit: 1, http: 422, meaning: 'the value has the wrong type for the path' },
  'lease-ttl-too-long': {
    exit: 1,
    http: 422,
    meaning: 'the time to live is longer than the path or the policy allows',
  },
  'lease-bad-time': { exit: 1, http: 422, meaning: 'the time to live is not a positive duration' },
  'lease-budget': { exit: 1, http: 429, meaning: "the path's change budget for this hour is spent" },
  'lease-policy': { exit: 1, http: 403, meaning: "the environment's policy forbids operator leases" },
  'lease-not-found': { exit: 1, http: 404, meaning: 'no lease of that owner on the path' },
  'lease-invalid': { exit: 1, http: 422, meaning: 'the configuration with the lease does not validate' },
  'lease-vetoed': { exit: 1, http: 409, meaning: 'a component refused the configuration with the lease' },
  'lease-rolled-back': { exit: 1, http: 409, meaning: 'the lease made a component unhealthy and was rolled back' },
  'no-release-yet': { exit: 1, http: 409, meaning: 'nothing runs yet: a lease needs an applied release' },

  // a component's report of its own figures (agent/client report(), DESIGN.md section 9)
  'bad-metrics': { exit: 1, http: 400, meaning: "a component's report is not a set of named finite numbers" },

  // the agent's API: access and capacity
  'no-token': { exit: 1, http: 401, meaning: 'the request needs a bearer token' },
  'bad-token': { exit: 1, http: 401, meaning: 'the bearer token is not valid' },
  forbidden: { exit: 1, http: 403, meaning: "the token's role may not do this" },
  'bad-host': { exit: 1, http: 421, meaning: 'the Host header names no address of this device (DNS rebinding)' },
  'rate-limited': { exit: 1, http: 429, meaning: 'too many mutating requests from one caller' },
  'too-many-connections': { exit: 1, http: 503, meaning: 'the agent holds as many connections as it takes' },
  'too-many-streams': { exit: 1, http: 503, meaning: 'the agent serves as many event streams as it takes' },
  'api-listen': { exit: 1, http: 500, meaning: 'the API cannot listen on its address' },

  // gitops agent ..., the client of the API
  'agent-unreachable': { exit: 1, http: 500, meaning: 'the agent cannot be reached' },
  'agent-answer': { exit: 1, http: 500, meaning: 'the agent answered something that is not JSON' },
  'agent-error': { exit: 1, http: 500, meaning: 'the agent refused with a code this client does not know' },

  // staged rollouts: gitops rollout advance | status | halt | resume (agent/core/rollout/gate.ts)
  'rollout-none': { exit: 1, http: 500, meaning: 'the environment declares no rollout (no waves to promote)' },
  'rollout-halted': { exit: 1, http: 500, meaning: 'the rollout is halted: nothing is promoted until it is resumed' },
  'rollout-gate-failed': { exit: 1, http: 500, meaning: "a wave's gate failed: the rollout was halted" },
  'rollout-not-fast-forward': {
    exit: 1,
    http: 500,
    meaning: "a promotion would not be a fast-forward of the wave's ref (devices refuse it)",
  },
  'rollout-push-refused': { exit: 1, http: 500, meaning: 'the remote refused the push of the rollout refs' },
  'rollout-state-invalid': { exit: 1, http: 500, meaning: "the rollout state branch's state.json is not valid" },
  'rollout-remote-failed': { exit: 1, http: 500, meaning: 'the rollout refs could not be read from the remote' },
  'prometheus-query-failed': { exit: 1, http: 500, meaning: 'Prometheus could not be asked or answered an error' },
  'prometheus-query-timeout': { exit: 1, http: 500, meaning: 'Prometheus did not answer a query in time' },
  'prometheus-query-too-large': { exit: 1, http: 500, meaning: "Prometheus's answer is larger than the limit" },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The exit status of a command that ends with `e`: the code's, or 1 for anything but a GitopsError. */
export function exitStatusOf(e: unknown): number {
  return e instanceof GitopsError ? ERROR_CODES[e.code].exit : EXIT_INVALID;
}

/** The HTTP status of an API answer that carries the code. */
export function httpStatusOf(code: ErrorCode): HttpErrorStatus {
  return ERROR_CODES[code].http;
}

/** A verdict other than trusted, as the code of a refusal: the finer code where there is one. */
export function verdictErrorCode(verdict: Exclude<Verdict, 'trusted'>, code: VerdictCode | null): ErrorCode {
  return code ?? verdict;
}

export interface GitopsErrorOptions {
  /** What caused it (ES2022 `cause`): kept for the log, never serialised unless a GitopsError. */
  cause?: unknown;
  /** The findings a refusal rests on. */
  diagnostics?: readonly Diagnostic[];
  /** True when the same attempt may succeed later (a clock that catches up, a component that answers). */
  retryable?: boolean;
}

/** What an error says to a client: never the stack, never the message of a cause that is not a GitopsError. */
export interface GitopsErrorJson {
  code: ErrorCode;
  message: string;
  hint?: string;
  diagnostics?: readonly Diagnostic[];
  cause?: GitopsErrorJson;
}

export class GitopsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly diagnostics: readonly Diagnostic[] | undefined;
  readonly retryable: boolean | undefined;

  constructor(code: ErrorCode, message: string, hint?: string, options: GitopsErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'GitopsError';
    this.code = code;
    this.hint = hint;
    this.diagnostics = options.diagnostics;
    this.retryable = options.retryable;
  }

  toJSON(): GitopsErrorJson {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint !== undefined ? { hint: this.hint } : {}),
      ...(this.diagnostics !== undefined ? { diagnostics: this.diagnostics } : {}),
      ...(this.cause instanceof GitopsError ? { cause: this.cause.toJSON() } : {}),
    };
  }
}

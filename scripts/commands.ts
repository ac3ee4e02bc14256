// The commands of `gitops`, their subcommands and flags, as data: one table that drives the help
// (`gitops help X`, `gitops X --help`), the "Did you mean" of a mistyped command or flag, and the
// shell completion scripts (`gitops completion bash|zsh|fish`). Each command still parses its own
// arguments with node:util parseArgs (scripts/cli.ts parse); test/scripts/cli-help.test.ts checks
// that every flag a command accepts is described here, and every flag described here is accepted.
// Pure data: the dispatcher loads it on every run, so it imports nothing.

export interface FlagSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** The value's placeholder in the help, e.g. DIR. */
  arg?: string;
  /** The values it takes, when they are a fixed set (the completion offers them). */
  choices?: readonly string[];
  help: string;
  /** What it is when not given, in words (not parsed: commands keep their own defaults). */
  default?: string;
}

export interface CommandSpec {
  /** Its words after `gitops`, e.g. "rollout plan". */
  name: string;
  summary: string;
  description?: string;
  /** Synopsis lines, without "usage: ". */
  usage: readonly string[];
  flags: readonly FlagSpec[];
  examples: readonly string[];
  subcommands?: readonly CommandSpec[];
}

const ROOT: FlagSpec = {
  name: 'root',
  short: 'C',
  type: 'string',
  arg: 'DIR',
  help: 'the configuration repository',
  default: 'found by walking up from the current directory to one with environments/ and schemas/',
};
const env = (multiple: boolean, help = 'the environment'): FlagSpec => ({
  name: 'env',
  short: 'e',
  type: 'string',
  arg: 'E',
  help: multiple ? `${help} (repeatable)` : help,
  ...(multiple ? { multiple, default: 'every environment' } : {}),
});
const device = (multiple: boolean, help = 'the device'): FlagSpec => ({
  name: 'device',
  short: 'd',
  type: 'string',
  arg: 'D',
  help: multiple ? `${help} (repeatable)` : help,
  ...(multiple ? { multiple, default: 'every device' } : { default: 'the environment itself' }),
});
const IDENTITY: FlagSpec = {
  name: 'identity',
  short: 'i',
  type: 'string',
  arg: 'F',
  multiple: true,
  help: 'an age identity file to decrypt with (repeatable)',
  default: '$SOPS_AGE_KEY_FILE, $SOPS_AGE_KEY, ~/.config/sops/age/keys.txt',
};
/** --output, with --format and --json as its aliases. */
const output = (choices: readonly string[], fallback = choices[0]!): FlagSpec[] => [
  { name: 'output', short: 'o', type: 'string', arg: 'FORMAT', choices, help: 'what to print', default: fallback },
  { name: 'format', short: 'f', type: 'string', arg: 'FORMAT', choices, help: 'the same as --output (an alias)' },
  { name: 'json', type: 'boolean', help: 'the same as --output json' },
];
const PROMETHEUS: FlagSpec[] = [
  { name: 'prometheus', type: 'string', arg: 'URL', help: 'the Prometheus the devices report to (empty: none)' },
  {
    name: 'prometheus-token-file',
    type: 'string',
    arg: 'F',
    help: 'a file holding its bearer token',
    default: 'no token',
  },
];
const PULL_REQUEST: FlagSpec[] = [
  { name: 'remote', type: 'string', arg: 'NAME|URL', help: 'the git remote to push the branch to', default: 'origin' },
  {
    name: 'base',
    type: 'string',
    arg: 'BRANCH',
    help: 'the branch the pull request targets',
    default: "the remote's default",
  },
  {
    name: 'repo',
    type: 'string',
    arg: 'OWNER/NAME',
    help: 'the GitHub repository',
    default: "$GITHUB_REPOSITORY, else the remote's URL",
  },
  { name: 'title', type: 'string', arg: 'T', help: "the pull request's title", default: 'one naming the change' },
  { name: 'draft', type: 'boolean', help: 'open it as a draft' },
  { name: 'dry-run', type: 'boolean', help: 'print the change and its validation; touch nothing' },
];
const AGENT_API: FlagSpec[] = [
  {
    name: 'url',
    type: 'string',
    arg: 'URL',
    help: "the agent's API",
    default: '$DOORBELL_AGENT_URL or http://127.0.0.1:8420',
  },
  {
    name: 'token-file',
    type: 'string',
    arg: 'F',
    help: 'a file holding an API token',
    default: '$DOORBELL_AGENT_TOKEN_FILE, else $DOORBELL_AGENT_TOKEN',
  },
];
const AGENT_CLIENT_FLAGS: FlagSpec[] = [
  ...AGENT_API,
  ...output(['text', 'json', 'yaml']),
  { name: 'limit', type: 'string', arg: 'N', help: 'journal: at most N entries', default: 'the agent’s page' },
  { name: 'event', type: 'string', arg: 'E', help: 'journal: only entries of this event' },
  { name: 'from', type: 'string', arg: 'R', help: 'diff: the release to compare from', default: 'the previous one' },
  {
    name: 'to',
    type: 'string',
    arg: 'R',
    help: 'diff: the release to compare to; rollback: where to go (previous, last_good, COMMIT)',
  },
  { name: 'reason', type: 'string', arg: 'TEXT', help: 'rollback: why, for the journal' },
];
const TOKENS_FILE: FlagSpec = {
  name: 'tokens-file',
  type: 'string',
  arg: 'F',
  help: 'the API tokens file (hashes only)',
  default: '$DOORBELL_AGENT_TOKENS_FILE or /etc/doorbell-agent/tokens.yaml',
};
const TOKEN_FLAGS: FlagSpec[] = [
  TOKENS_FILE,
  { name: 'name', type: 'string', arg: 'N', help: "the token's name" },
  {
    name: 'role',
    type: 'string',
    arg: 'ROLE',
    choices: ['viewer', 'operator'],
    help: 'what it may do',
    default: 'viewer',
  },
];
const SECRETS_FLAGS: FlagSpec[] = [
  IDENTITY,
  { name: 'ignore-mac', type: 'boolean', help: 'decrypt even when the MAC does not match (recovery only)' },
  { name: 'in-place', type: 'boolean', help: 'encrypt: write the encrypted file over FILE', default: 'print it' },
  {
    name: 'age',
    type: 'string',
    arg: 'R1,R2',
    help: 'encrypt: the age recipients',
    default: 'the .sops.yaml creation rule',
  },
  { name: 'add-age', type: 'string', arg: 'R', multiple: true, help: 'rotate: a recipient to add (repeatable)' },
  { name: 'rm-age', type: 'string', arg: 'R', multiple: true, help: 'rotate: a recipient to remove (repeatable)' },
  { name: 'base', type: 'string', arg: 'REV', help: 'changes: the revision to compare with', default: 'HEAD' },
];
const HARDWARE_FLAGS: FlagSpec[] = [
  ROOT,
  {
    name: 'model',
    short: 'm',
    type: 'string',
    arg: 'NAME',
    help: 'the hardware model',
    default: 'this-device (probe)',
  },
  env(false, 'probe what this environment configures'),
  device(false, 'and this device'),
  { name: 'storage', type: 'string', arg: 'PATH', help: 'the storage path to measure', default: 'the configured one' },
  { name: 'sysroot', type: 'string', arg: 'DIR', help: 'read /proc and /sys under DIR', default: '/' },
  { name: 'fields', type: 'string', arg: 'F1,F2', help: 'parse: only these fields' },
  { name: 'raw', type: 'boolean', help: 'parse: the raw facts, not the profile' },
];
const ROLLOUT_REMOTE: FlagSpec[] = [
  {
    name: 'remote',
    type: 'string',
    arg: 'NAME|URL',
    help: 'the git remote holding the rollout refs',
    default: 'origin',
  },
  { name: 'branch', type: 'string', arg: 'B', help: 'the branch the waves follow', default: 'main' },
];
const ROLLOUT_OUTPUT = output(['text', 'json', 'yaml']);
const EXPERIMENT_REPORT_FLAGS: FlagSpec[] = [
  ROOT,
  ...PROMETHEUS,
  { name: 'at', type: 'string', arg: 'ISO', help: 'read the telemetry as of this time', default: 'now' },
];
const TUNE_SOURCE: FlagSpec[] = [
  ROOT,
  ...PROMETHEUS,
  { name: 'window', type: 'string', arg: 'D', help: 'how far back to pool the trials', default: "the run's window" },
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'validate',
    summary: 'validate every environment and device (schema, rules, policy, hardware)',
    description:
      'Renders every environment and device of the working tree and checks it as a device would: the schemas, ' +
      'the rules, the environment policy and, with --hardware-profile, what the hardware can run. ' +
      'Exit 0 when everything is valid, 1 when something is not.',
    usage: [
      'gitops validate [--env E]... [--device D]... [--hardware-profile FILE] [--output text|json|yaml|github] [--summary] [--jobs N] [--root DIR]',
    ],
    flags: [
      ROOT,
      env(true, 'validate only this environment'),
      device(true, 'validate only this device'),
      { name: 'hardware-profile', type: 'string', arg: 'FILE', help: 'also check against this hardware profile' },
      ...output(['text', 'json', 'yaml', 'github']),
      { name: 'summary', type: 'boolean', help: 'also print what each target runs, its rollout waves and experiments' },
      {
        name: 'jobs',
        type: 'string',
        arg: 'N',
        default: 'one per core',
        help: 'worker threads for 200 targets or more (1: validate in this thread; --summary always does)',
      },
    ],
    examples: [
      'gitops validate',
      'gitops validate --env production --summary',
      'gitops validate --summary --output json',
      'gitops validate --output github   # annotations in a GitHub Actions job',
    ],
  },
  {
    name: 'render',
    summary: 'print the rendered configuration of an environment or device',
    description: 'The configuration a device would run, merged from every layer; secrets are redacted unless revealed.',
    usage: [
      'gitops render --env E [--device D] [--output yaml|json] [--show-origin] [--reveal-secrets --identity F]... [--root DIR]',
    ],
    flags: [
      ROOT,
      env(false),
      device(false),
      ...output(['yaml', 'json']),
      { name: 'show-origin', type: 'boolean', help: 'say which file set each value' },
      { name: 'reveal-secrets', type: 'boolean', help: 'decrypt and show the secrets (needs --identity)' },
      IDENTITY,
    ],
    examples: [
      'gitops render --env production --device prod-berlin-001',
      'gitops render --env staging --output json --show-origin',
    ],
  },
  {
    name: 'explain',
    summary: 'show a value, its schema and where it came from',
    description:
      'The value of one configuration path, its schema (type, range, default), whether it is tunable at runtime, ' +
      'and the chain of files that set it. With --agent, also the runtime layers on a running agent.',
    usage: [
      'gitops explain PATH --env E [--device D] [--output text|json|yaml] [--root DIR] [--agent URL [--token-file F]]',
    ],
    flags: [
      ROOT,
      env(false),
      device(false),
      ...output(['text', 'json', 'yaml']),
      {
        name: 'agent',
        type: 'string',
        arg: 'URL',
        help: 'also ask this running agent (its environment and device by default)',
      },
      {
        name: 'token-file',
        type: 'string',
        arg: 'F',
        help: "the agent's API token",
        default: '$DOORBELL_AGENT_TOKEN_FILE',
      },
    ],
    examples: [
      'gitops explain frame_capture.fps --env production --device prod-berlin-001',
      'gitops explain detectors.person.runtime --env staging --output json',
    ],
  },
  {
    name: 'migrate',
    summary: 'rewrite documents in an old format version (comments kept)',
    usage: ['gitops migrate [--check] [--output text|json|yaml] [--root DIR]'],
    flags: [
      ROOT,
      { name: 'check', type: 'boolean', help: 'change nothing; exit 1 when something would be migrated' },
      ...output(['text', 'json', 'yaml']),
    ],
    examples: ['gitops migrate --check', 'gitops migrate'],
  },
  {
    name: 'diff',
    summary: 'what each device runs differently between two revisions, or HEAD and the work tree',
    description:
      'Renders both states and compares what each device runs, path by path, with the risk of the change. ' +
      'With no revision it compares HEAD with the work tree (staged and unstaged edits, like git diff); ' +
      'a revision is anything git accepts (HEAD~1, a tag, a short id). It says which two states it compares.',
    usage: [
      'gitops diff [--base REV] [--head REV] [--env E]... [--device D]... [--output text|markdown|json|yaml] [--exit-code] [--root DIR]',
    ],
    flags: [
      ROOT,
      { name: 'base', type: 'string', arg: 'REV', help: 'the state to compare from', default: 'HEAD' },
      {
        name: 'head',
        type: 'string',
        arg: 'REV',
        help: 'the state to compare to',
        default: 'the work tree (staged and unstaged); with --head alone, --base is its parent',
      },
      env(true, 'only this environment'),
      device(true, 'only this device'),
      ...output(['text', 'markdown', 'json', 'yaml']),
      { name: 'exit-code', type: 'boolean', help: 'exit 1 when something differs, as git diff --exit-code' },
    ],
    examples: ['gitops diff', 'gitops diff --base HEAD~1 --head HEAD', 'gitops diff --base v1.4.0 --output markdown'],
  },
  {
    name: 'audit',
    summary: 'git log as the audit trail: who changed what a device runs, signed by whom, through which PR',
    usage: [
      'gitops audit [--env E]... [--device D]... [--path P] [--since DATE] [--trust DIR] [--repo OWNER/NAME] [--max N] [--output text|json|yaml] [--root DIR]',
    ],
    flags: [
      ROOT,
      env(true, 'only changes to this environment'),
      device(true, 'only changes to this device'),
      { name: 'path', short: 'p', type: 'string', arg: 'P', help: 'only changes to this configuration path' },
      {
        name: 'since',
        type: 'string',
        arg: 'DATE',
        help: 'only commits since DATE',
        default: 'all history (up to --max)',
      },
      {
        name: 'trust',
        type: 'string',
        arg: 'DIR',
        help: 'verify signatures against this trust directory',
        default: 'not checked',
      },
      {
        name: 'repo',
        type: 'string',
        arg: 'OWNER/NAME',
        help: 'the GitHub repository for pull request lookups',
        default: '$GITHUB_REPOSITORY',
      },
      { name: 'max', type: 'string', arg: 'N', help: 'read at most N commits', default: '200' },
      ...output(['text', 'json', 'yaml']),
    ],
    examples: [
      'gitops audit --env production --since 2026-01-01',
      'gitops audit --path frame_capture.fps --trust trust/ --output json',
    ],
  },
  {
    name: 'propose',
    summary: 'propose a change as a pull request: --env E [--device D] --set PATH=VALUE',
    description:
      'Validates the change, edits the right file keeping its comments, commits it on a new branch with your git ' +
      '(and so your signing), pushes it and opens the pull request with the diff as its body. A change to an ' +
      'environment that requires signed commits is refused when the commit would not be signed, unless --allow-unsigned.',
    usage: [
      'gitops propose --env E [--device D] --set PATH=VALUE... [--title T] [--draft] [--dry-run] [--allow-unsigned] ' +
        '[--base BRANCH] [--repo OWNER/NAME] [--root DIR]',
    ],
    flags: [
      ROOT,
      env(false),
      device(false),
      { name: 'set', type: 'string', arg: 'PATH=VALUE', multiple: true, help: 'a change to make (repeatable)' },
      ...PULL_REQUEST.filter((f) => f.name !== 'remote'),
      {
        name: 'allow-unsigned',
        type: 'boolean',
        help: 'propose an unsigned commit to an environment that requires signed commits (its devices will refuse it)',
      },
    ],
    examples: [
      'gitops propose --env production --device prod-berlin-001 --set frame_capture.fps=10',
      'gitops propose --env staging --set motion.enabled=false --dry-run',
    ],
  },
  {
    name: 'ci',
    summary: 'ci pr: validate, verify, diff and keep one pull request comment up to date',
    usage: ['gitops ci pr [--trust DIR] [--root DIR]   (in a GitHub Actions pull_request job)'],
    flags: [],
    examples: ['gitops ci pr --trust trust/'],
    subcommands: [
      {
        name: 'ci pr',
        summary: 'what the pull-request workflow runs (reads GITHUB_* from the environment)',
        usage: ['gitops ci pr [--trust DIR] [--root DIR]'],
        flags: [
          ROOT,
          { name: 'trust', type: 'string', arg: 'DIR', help: 'verify the commits against this trust directory' },
        ],
        examples: ['gitops ci pr --trust trust/'],
      },
    ],
  },
  {
    name: 'agent',
    summary: 'run the on-device agent (--config agent.yaml), or watch a working tree (--watch DIR)',
    description:
      'Without a subcommand, runs the agent: following a remote (--config) or applying the edits of a working tree (--watch). ' +
      'The subcommands talk to a running agent through its API, or manage its tokens and backups.',
    usage: [
      'gitops agent --config agent.yaml',
      'gitops agent --watch DIR --env E --device D [--state DIR] [--identity F]... ' +
        '[--hardware-profile FILE|recorded] [--listen HOST:PORT] [--tokens-file F] [--no-loopback-reads] [--bake SECONDS] [--with-example-pipeline]',
    ],
    flags: [
      { name: 'config', short: 'c', type: 'string', arg: 'FILE', help: 'the agent settings (follow a remote)' },
      { name: 'watch', type: 'string', arg: 'DIR', help: 'watch mode: apply the edits of this working tree' },
      env(false, 'watch mode: the environment'),
      { ...device(false, 'watch mode: the device'), default: 'none' },
      {
        name: 'state',
        type: 'string',
        arg: 'DIR',
        help: 'watch mode: where the agent keeps its state',
        default: 'DIR/.agent-state',
      },
      IDENTITY,
      {
        name: 'hardware-profile',
        type: 'string',
        arg: 'FILE|recorded',
        help: 'watch mode: the hardware to assume',
        default: 'probe this machine',
      },
      {
        name: 'listen',
        type: 'string',
        arg: 'HOST:PORT',
        help: 'where the API and status page listen',
        default: '127.0.0.1:8420',
      },
      TOKENS_FILE,
      { name: 'no-loopback-reads', type: 'boolean', help: 'require a token for reads from this machine too' },
      {
        name: 'bake',
        type: 'string',
        arg: 'SECONDS',
        help: 'how long a release bakes before it counts as good',
        default: "the settings'",
      },
      { name: 'with-example-pipeline', type: 'boolean', help: 'run the example doorbell pipeline' },
    ],
    examples: [
      'gitops agent --config /etc/doorbell-agent/agent.yaml',
      'gitops agent --watch . --env development --device dev-bench-01 --hardware-profile recorded',
    ],
    subcommands: [
      ...(
        [
          ['status', 'the running agent: release, health, components', 'gitops agent status'],
          ['journal', 'its journal: applies, refusals, rollbacks', 'gitops agent journal --limit 20'],
          ['releases', 'the releases it holds', 'gitops agent releases'],
          ['diff', 'what differs between two of its releases', 'gitops agent diff --from previous'],
          ['sync', 'fetch and apply now', 'gitops agent sync'],
          [
            'rollback',
            'go back to an earlier release',
            'gitops agent rollback --to last_good --reason "camera stalls"',
          ],
        ] as const
      ).map(([verb, summary, example]) => ({
        name: `agent ${verb}`,
        summary,
        usage: [`gitops agent ${verb} [--url URL] [--token-file F] [--output text|json|yaml]`],
        flags: AGENT_CLIENT_FLAGS,
        examples: [example, `gitops agent ${verb} --url http://doorbell.local:8420 --token-file token --output json`],
      })),
      {
        name: 'agent tune',
        summary: 'operator leases on a running agent: list | set PATH=VALUE | clear PATH',
        usage: [
          'gitops agent tune list | set PATH=VALUE [--ttl D] --reason TEXT | clear PATH   [--url URL] [--token-file F] [--output text|json|yaml]',
        ],
        flags: [
          ...AGENT_API,
          ...output(['text', 'json', 'yaml']),
          { name: 'ttl', type: 'string', arg: 'D', help: 'set: how long the lease lasts', default: "the field's" },
          { name: 'reason', type: 'string', arg: 'TEXT', help: 'set: why, for the journal' },
        ],
        examples: [
          'gitops agent tune list',
          'gitops agent tune set frame_capture.fps=10 --ttl 30m --reason "hot afternoon"',
          'gitops agent tune clear frame_capture.fps',
        ],
      },
      {
        name: 'agent token',
        summary: 'API tokens of the agent: add | list | revoke',
        usage: ['gitops agent token add --name N --role viewer|operator | list | revoke --name N   [--tokens-file F]'],
        flags: TOKEN_FLAGS,
        examples: [
          'gitops agent token add --name ci --role viewer',
          'gitops agent token list',
          'gitops agent token revoke --name ci',
        ],
      },
      {
        name: 'agent export',
        summary: "a backup of the agent's state",
        usage: ['gitops agent export --config agent.yaml --out FILE'],
        flags: [
          { name: 'config', short: 'c', type: 'string', arg: 'FILE', help: 'the agent settings' },
          { name: 'out', short: 'o', type: 'string', arg: 'FILE', help: 'where to write the backup' },
        ],
        examples: ['gitops agent export --config /etc/doorbell-agent/agent.yaml --out backup.tar'],
      },
      {
        name: 'agent import',
        summary: "restore the agent's state from a backup",
        usage: ['gitops agent import FILE --config agent.yaml'],
        flags: [{ name: 'config', short: 'c', type: 'string', arg: 'FILE', help: 'the agent settings' }],
        examples: ['gitops agent import backup.tar --config /etc/doorbell-agent/agent.yaml'],
      },
    ],
  },
  {
    name: 'secrets',
    summary: 'SOPS files: decrypt | encrypt | edit | set | unset | rotate | updatekeys | verify | changes',
    usage: ['gitops secrets VERB FILE ...'],
    flags: [],
    examples: ['gitops secrets decrypt environments/production/secrets.sops.yaml'],
    subcommands: (
      [
        ['decrypt', 'print the decrypted file', 'FILE [--identity F]... [--ignore-mac]'],
        ['encrypt', 'encrypt a plain file', 'FILE [--in-place] [--age R1,R2]'],
        ['edit', 'edit it decrypted in $EDITOR, then encrypt it again', 'FILE [--identity F]...'],
        ['set', 'set one value (- reads it from standard input)', 'FILE PATH VALUE|- [--identity F]...'],
        ['unset', 'remove one value', 'FILE PATH [--identity F]...'],
        ['rotate', 'a new data key; add or remove recipients', 'FILE [--add-age R] [--rm-age R] [--identity F]...'],
        ['updatekeys', 'wrap the data key for the recipients .sops.yaml names now', 'FILE [--identity F]...'],
        ['verify', 'check the MAC and that every recipient can decrypt', 'FILE [--identity F]...'],
        ['changes', 'which keys changed since REV, without any key', 'FILE [--base REV]'],
      ] as const
    ).map(([verb, summary, rest]) => ({
      name: `secrets ${verb}`,
      summary,
      usage: [`gitops secrets ${verb} ${rest}`],
      flags: SECRETS_FLAGS,
      examples: [`gitops secrets ${verb} environments/production/secrets.sops.yaml`],
    })),
  },
  {
    name: 'verify',
    summary: 'verify signed commits and tags, or a whole APPLIED..CANDIDATE range',
    description:
      'Checks signatures against a trust directory as a device would. OBJECT and the ends of --range are any ' +
      'revision git accepts (HEAD~1, a tag, a short id). Inside a checkout, gitops verify HEAD needs no --repo, ' +
      'and no --trust where the checkout has .github/trust/. Prints JSON by default; exit 0 only when everything is trusted.',
    usage: [
      'gitops verify [--repo GITDIR] [--trust DIR] [--output json|text|yaml] [--now TIME] [--skew SECONDS] OBJECT...',
      'gitops verify [--repo GITDIR] [--trust DIR] --range APPLIED..CANDIDATE [--mode all|first-parent] [--output json|text|yaml] ' +
        '[--now TIME] [--skew SECONDS]',
    ],
    flags: [
      {
        name: 'repo',
        type: 'string',
        arg: 'GITDIR',
        help: 'the git repository (a work tree or a .git directory)',
        default: 'the checkout the current directory is in (its root found as for --root)',
      },
      {
        name: 'trust',
        type: 'string',
        arg: 'DIR',
        help: 'the trust directory (allowed signers)',
        default: "the work tree's .github/trust/ when it has one (else required)",
      },
      ...output(['json', 'text', 'yaml']),
      { name: 'range', type: 'string', arg: 'APPLIED..CANDIDATE', help: 'verify every commit between two revisions' },
      {
        name: 'mode',
        type: 'string',
        arg: 'MODE',
        choices: ['all', 'first-parent'],
        help: 'which commits of the range',
        default: 'all',
      },
      { name: 'now', type: 'string', arg: 'TIME', help: "the device's clock", default: "this machine's" },
      {
        name: 'skew',
        type: 'string',
        arg: 'SECONDS',
        help: 'how far in the future a signature may be dated',
        default: '300',
      },
    ],
    examples: [
      'gitops verify HEAD~1 HEAD   # inside a checkout with .github/trust/',
      'gitops verify --repo . --trust trust/ HEAD v1.4.0',
      'gitops verify --repo . --trust trust/ --range HEAD~5..HEAD --output text',
    ],
  },
  {
    name: 'hardware',
    summary: 'hardware probe | capture --model M | parse KIND FILE',
    usage: ['gitops hardware probe | capture | parse ...'],
    flags: [],
    examples: ['gitops hardware probe'],
    subcommands: [
      {
        name: 'hardware probe',
        summary: 'probe this machine: the hardware profile as JSON',
        usage: ['gitops hardware probe [--model NAME] [--env E --device D] [--storage PATH] [--sysroot DIR]'],
        flags: HARDWARE_FLAGS,
        examples: [
          'gitops hardware probe > profile.json',
          'gitops hardware probe --env production --device prod-berlin-001',
        ],
      },
      {
        name: 'hardware capture',
        summary: 'record this machine as the profile of a model (hardware/profiles/MODEL.yaml)',
        usage: ['gitops hardware capture --model NAME [--root DIR]'],
        flags: HARDWARE_FLAGS,
        examples: ['gitops hardware capture --model rpi5-camv3'],
      },
      {
        name: 'hardware parse',
        summary: 'parse one recorded probe output (KIND: cpuinfo, meminfo, ...)',
        usage: ['gitops hardware parse KIND FILE [--fields F1,F2,...] [--raw]'],
        flags: HARDWARE_FLAGS,
        examples: ['gitops hardware parse cpuinfo /proc/cpuinfo'],
      },
    ],
  },
  {
    name: 'rollout',
    summary: 'rollout plan | status | advance | halt | resume --env E: the waves of devices, their refs and gates',
    usage: [
      'gitops rollout plan --env E [--output text|json|yaml] [--root DIR]',
      'gitops rollout status --env E [--remote NAME|URL] [--branch main] [--prometheus URL] [--prometheus-token-file F] [--output text|json|yaml]',
      'gitops rollout advance --env E [--remote NAME|URL] [--branch main] [--prometheus URL] ' +
        '[--prometheus-token-file F] [--dry-run] [--emergency --reason TEXT [--commit REV]] [--output text|json|yaml]',
      'gitops rollout halt --env E --reason TEXT [--remote NAME|URL]',
      'gitops rollout resume --env E [--reason TEXT] [--remote NAME|URL]',
    ],
    flags: [],
    examples: [
      'gitops rollout plan --env production',
      'gitops rollout advance --env production --prometheus https://prometheus.example',
    ],
    subcommands: [
      {
        name: 'rollout plan',
        summary: 'the waves of an environment and the devices in each',
        usage: ['gitops rollout plan --env E [--output text|json|yaml] [--root DIR]'],
        flags: [ROOT, env(false), ...ROLLOUT_OUTPUT],
        examples: ['gitops rollout plan --env production'],
      },
      {
        name: 'rollout status',
        summary: 'which commit each wave runs and whether its gates hold',
        usage: [
          'gitops rollout status --env E [--remote NAME|URL] [--branch main] [--prometheus URL] [--prometheus-token-file F] [--output text|json|yaml]',
        ],
        flags: [ROOT, env(false), ...ROLLOUT_OUTPUT, ...ROLLOUT_REMOTE, ...PROMETHEUS],
        examples: ['gitops rollout status --env production --prometheus https://prometheus.example'],
      },
      {
        name: 'rollout advance',
        summary: 'promote the waves that have baked and whose gates hold',
        usage: [
          'gitops rollout advance --env E [--remote NAME|URL] [--branch main] [--prometheus URL] ' +
            '[--prometheus-token-file F] [--dry-run] [--emergency --reason TEXT [--commit REV]] [--output text|json|yaml]',
        ],
        flags: [
          ROOT,
          env(false),
          ...ROLLOUT_OUTPUT,
          ...ROLLOUT_REMOTE,
          ...PROMETHEUS,
          { name: 'dry-run', type: 'boolean', help: 'say what would be promoted; push nothing' },
          { name: 'emergency', type: 'boolean', help: 'promote every wave at once (needs --reason)' },
          { name: 'reason', type: 'string', arg: 'TEXT', help: 'why, for the audit trail' },
          {
            name: 'commit',
            type: 'string',
            arg: 'REV',
            help: 'emergency: the commit to promote',
            default: 'the head of --branch',
          },
        ],
        examples: [
          'gitops rollout advance --env production --dry-run',
          'gitops rollout advance --env production --emergency --reason "CVE fix"',
        ],
      },
      {
        name: 'rollout halt',
        summary: 'stop promoting the waves of an environment',
        usage: ['gitops rollout halt --env E --reason TEXT [--remote NAME|URL]'],
        flags: [
          ROOT,
          env(false),
          ...ROLLOUT_REMOTE,
          { name: 'reason', type: 'string', arg: 'TEXT', help: 'why, for the audit trail' },
        ],
        examples: ['gitops rollout halt --env production --reason "error rate up in wave 1"'],
      },
      {
        name: 'rollout resume',
        summary: 'promote again after a halt',
        usage: ['gitops rollout resume --env E [--reason TEXT] [--remote NAME|URL]'],
        flags: [
          ROOT,
          env(false),
          ...ROLLOUT_REMOTE,
          { name: 'reason', type: 'string', arg: 'TEXT', help: 'why, for the audit trail' },
        ],
        examples: ['gitops rollout resume --env production'],
      },
    ],
  },
  {
    name: 'experiment',
    summary: 'experiment assign | report | conclude NAME: the experiments of the repository',
    usage: ['gitops experiment assign | report | conclude NAME ...'],
    flags: [],
    examples: ['gitops experiment assign motion-sensitivity'],
    subcommands: [
      {
        name: 'experiment assign',
        summary: 'which variant of an experiment each device gets',
        usage: [
          'gitops experiment assign NAME [--env E]... [--device D]... [--output text|json|yaml] [--at ISO] [--blocks N] [--root DIR]',
        ],
        flags: [
          ROOT,
          env(true),
          device(true),
          ...output(['text', 'json', 'yaml']),
          { name: 'at', type: 'string', arg: 'ISO', help: 'switchback: the blocks from this time', default: 'now' },
          { name: 'blocks', type: 'string', arg: 'N', help: 'switchback: how many coming blocks to show' },
        ],
        examples: ['gitops experiment assign motion-sensitivity --env production'],
      },
      {
        name: 'experiment report',
        summary: 'per-arm estimates and the verdict, from the telemetry',
        usage: [
          'gitops experiment report NAME --prometheus URL [--output text|markdown|json|yaml] [--prometheus-token-file F] [--root DIR] [--at ISO]',
        ],
        flags: [...EXPERIMENT_REPORT_FLAGS, ...output(['text', 'markdown', 'json', 'yaml'])],
        examples: [
          'gitops experiment report motion-sensitivity --prometheus https://prometheus.example',
          'gitops experiment report motion-sensitivity --prometheus https://prometheus.example --output json',
        ],
      },
      {
        name: 'experiment conclude',
        summary: 'the pull request that ships a variant',
        usage: [
          'gitops experiment conclude NAME --ship VARIANT --prometheus URL [--prometheus-token-file F] [--remote R] ' +
            '[--base BRANCH] [--repo OWNER/NAME] [--title T] [--draft] [--dry-run] [--allow-without-verdict] [--at ISO] [--root DIR]',
        ],
        flags: [
          ...EXPERIMENT_REPORT_FLAGS,
          ...PULL_REQUEST,
          { name: 'ship', type: 'string', arg: 'VARIANT', help: 'the variant to ship' },
          { name: 'allow-without-verdict', type: 'boolean', help: 'ship although the report has no verdict yet' },
        ],
        examples: [
          'gitops experiment conclude motion-sensitivity --ship high --prometheus https://prometheus.example --dry-run',
        ],
      },
    ],
  },
  {
    name: 'tune',
    summary:
      'tune report | propose NAME: pool the tuning trials per hardware model; propose the best as a pull request',
    usage: ['gitops tune report | propose NAME ...'],
    flags: [],
    examples: ['gitops tune report person-detector --prometheus https://prometheus.example'],
    subcommands: [
      {
        name: 'tune report',
        summary: 'the trials pooled per hardware model and the best candidate',
        usage: [
          'gitops tune report NAME --prometheus URL [--output text|json|yaml|markdown] [--window D] [--prometheus-token-file F] [--root DIR]',
        ],
        flags: [...TUNE_SOURCE, ...output(['text', 'json', 'yaml', 'markdown'])],
        examples: ['gitops tune report person-detector --prometheus https://prometheus.example --output markdown'],
      },
      {
        name: 'tune propose',
        summary: 'propose the best candidate for a model as a pull request',
        usage: [
          'gitops tune propose NAME --model M --prometheus URL [--candidate C] [--remote R] [--base BRANCH] ' +
            '[--repo OWNER/NAME] [--title T] [--draft] [--dry-run] [--window D] [--prometheus-token-file F] [--root DIR]',
        ],
        flags: [
          ...TUNE_SOURCE,
          ...PULL_REQUEST,
          { name: 'model', short: 'm', type: 'string', arg: 'M', help: 'the hardware model' },
          {
            name: 'candidate',
            type: 'string',
            arg: 'C',
            help: 'this candidate instead of the best',
            default: 'the best',
          },
        ],
        examples: [
          'gitops tune propose person-detector --model rpi4-camv2 --prometheus https://prometheus.example --dry-run',
        ],
      },
    ],
  },
  {
    name: 'device',
    summary: 'device add ID --env E --model M: a new device file, its key in .sops.yaml, the secrets re-wrapped',
    usage: ['gitops device add ID --env E --model M [--template T] [--age-recipient R] [--identity F]... [--root DIR]'],
    flags: [],
    examples: ['gitops device add prod-paris-001 --env production --model rpi5-camv3'],
    subcommands: [
      {
        name: 'device add',
        summary: 'a new device file, its key in .sops.yaml, the secrets re-wrapped',
        usage: [
          'gitops device add ID --env E --model M [--template T] [--age-recipient R] [--identity F]... [--root DIR]',
        ],
        flags: [
          ROOT,
          env(false),
          { name: 'model', short: 'm', type: 'string', arg: 'M', help: 'the hardware model' },
          {
            name: 'template',
            short: 't',
            type: 'string',
            arg: 'T',
            help: 'copy this device file',
            default: "the environment's device template",
          },
          { name: 'age-recipient', type: 'string', arg: 'R', help: "the device's age public key", default: 'none yet' },
          IDENTITY,
        ],
        examples: ['gitops device add prod-paris-001 --env production --model rpi5-camv3 --age-recipient age1...'],
      },
    ],
  },
  {
    name: 'completion',
    summary: 'print a shell completion script: completion bash | zsh | fish',
    usage: ['gitops completion bash|zsh|fish'],
    flags: [],
    examples: [
      'source <(gitops completion bash)',
      'gitops completion zsh > "${fpath[1]}/_gitops"',
      'gitops completion fish > ~/.config/fish/completions/gitops.fish',
    ],
    subcommands: (['bash', 'zsh', 'fish'] as const).map((shell) => ({
      name: `completion ${shell}`,
      summary: `the ${shell} completion script`,
      usage: [`gitops completion ${shell}`],
      flags: [],
      examples: [`gitops completion ${shell}`],
    })),
  },
  {
    name: 'help',
    summary: 'help about a command: help [COMMAND [SUBCOMMAND]]',
    usage: ['gitops help [COMMAND [SUBCOMMAND]]'],
    flags: [],
    examples: ['gitops help validate', 'gitops help rollout advance'],
  },
];

/** The deepest command the leading words name, and how many words it took. */
export function findCommand(words: readonly string[]): { spec: CommandSpec; used: number } | undefined {
  const top = COMMANDS.find((c) => c.name === words[0]);
  if (!top) return undefined;
  const sub = top.subcommands?.find((s) => s.name === `${top.name} ${words[1]}`);
  return sub ? { spec: sub, used: 2 } : { spec: top, used: 1 };
}

import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const SIDE_EFFECTS = 'side effects belong in agent/io; agent/daemon/main.ts wires them';
const FS_AND_PROCESSES = ['fs', 'node:fs', 'node:fs/promises', 'child_process', 'node:child_process'];
/** The clock, randomness and the environment are read in agent/io and the composition roots only. */
const CLOCK_AND_ENVIRONMENT = (where, how) => [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: `${where} reads no clock: ${how}`,
  },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: `${where} reads no clock: ${how}` },
  {
    selector: "CallExpression[callee.object.name='performance'][callee.property.name='now']",
    message: `${where} reads no clock: ${how}`,
  },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: `${where} draws no randomness: ${how}`,
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.agent-state/', 'artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  { files: ['agent/daemon/page/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
  // no import cycles anywhere in the product
  {
    files: ['agent/**/*.ts', 'scripts/**/*.ts', 'devtools/**/*.ts', 'examples/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  // agent/io: the side effects, behind small interfaces; it knows nothing of who uses it
  {
    files: ['agent/io/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/daemon/*', '**/client/*', '**/scripts/*', '**/bench/*', '**/devtools/*'],
              message: 'agent/io imports only agent/core and libraries (not daemon, client, scripts, bench, devtools)',
            },
          ],
        },
      ],
    },
  },
  // agent/daemon and scripts/: no filesystem or process access of their own; main.ts is the composition root
  {
    files: ['agent/daemon/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['agent/daemon/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: FS_AND_PROCESSES.map((name) => ({ name, message: SIDE_EFFECTS })),
          patterns: [
            { group: ['**/bench/*', '**/devtools/*'], message: 'product code does not import bench or devtools' },
          ],
        },
      ],
    },
  },
  {
    files: ['agent/daemon/**/*.ts'],
    ignores: ['agent/daemon/main.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...CLOCK_AND_ENVIRONMENT('agent/daemon', 'use the Clock port (agent/io/clock.ts) it is given'),
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'agent/daemon reads no environment: main.ts passes what is needed',
        },
      ],
    },
  },
  // agent/core is pure: the same code validates in CI and on the device (DESIGN.md section 1)
  {
    files: ['agent/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'fs',
            'node:fs',
            'node:fs/promises',
            'child_process',
            'node:child_process',
            'node:http',
            'node:https',
            'node:net',
            'node:os',
            'node:process',
            'node:worker_threads',
            'isomorphic-git',
            'simple-git',
            'hono',
            'prom-client',
            'tar',
          ].map((name) => ({ name, message: 'agent/core is pure: side effects belong in agent/io' })),
          patterns: [
            { group: ['@hono/*', '@octokit/*'], message: 'agent/core is pure: side effects belong in agent/io' },
            {
              group: ['**/io/*', '**/daemon/*', '**/client/*', '**/scripts/*', '**/bench/*', '**/devtools/*'],
              message: 'agent/core imports nothing above it (io, daemon, client, scripts, bench, devtools)',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'agent/core reads no clock: take the time as a parameter',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'agent/core reads no clock: take the time as a parameter',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'agent/core draws no randomness: take it as a parameter',
        },
        {
          selector: "MemberExpression[object.name='process']",
          message: 'agent/core reads no environment or process state: take it as a parameter',
        },
      ],
    },
  },
);

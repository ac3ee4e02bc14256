import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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

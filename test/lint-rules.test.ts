// The layer rules of CONTRIBUTING.md are enforced by `npm run lint`: each rule, shown a file that
// breaks it (linted as text at a path in the tree, nothing written), reports it; the real files
// of the same places pass.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { PROJECT } from './helpers/project.js';

const eslint = new ESLint({ cwd: PROJECT });

async function problems(filePath: string, text: string): Promise<Array<{ rule: string | null; message: string }>> {
  const [result] = await eslint.lintText(text, { filePath: `${PROJECT}/${filePath}` });
  return result!.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

describe('npm run lint enforces the layers', () => {
  it.each([
    [
      'agent/core/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      'agent/core is pure',
    ],
    [
      'agent/core/x.ts',
      "import { Agent } from '../daemon/agent.js';\nexport const x = Agent;\n",
      'imports nothing above it',
    ],
    ['agent/core/x.ts', 'export const x = (): number => Date.now();\n', 'reads no clock'],
    ['agent/core/x.ts', 'export const x = (): Date => new Date();\n', 'reads no clock'],
    ['agent/core/x.ts', 'export const x = (): number => Math.random();\n', 'draws no randomness'],
    ['agent/core/x.ts', 'export const x = (): unknown => process.env.HOME;\n', 'reads no environment'],
    [
      'agent/io/x.ts',
      "import { Runner } from '../daemon/runner.js';\nexport const x = Runner;\n",
      'agent/io imports only',
    ],
    [
      'agent/daemon/x.ts',
      "import { spawn } from 'node:child_process';\nexport const x = spawn;\n",
      'side effects belong',
    ],
    ['agent/daemon/x.ts', 'export const x = (): number => performance.now();\n', 'use the Clock port'],
    ['agent/daemon/x.ts', 'export const x = (): unknown => process.env.PATH;\n', 'reads no environment'],
    [
      'scripts/x.ts',
      "import { writeFileSync } from 'node:fs';\nexport const x = writeFileSync;\n",
      'side effects belong',
    ],
    [
      'scripts/x.ts',
      "import { startGitServer } from '../devtools/git-server.js';\nexport const x = startGitServer;\n",
      'does not import bench or devtools',
    ],
  ])('%s: %j is refused', async (path, text, says) => {
    const found = await problems(path, text);
    expect(found.length, JSON.stringify(found)).toBeGreaterThan(0);
    expect(found.some((p) => p.message.includes(says))).toBe(true);
  });

  it('an import cycle is refused (agent.ts importing the composition root that imports it)', async () => {
    const found = await problems(
      'agent/daemon/agent.ts',
      "import { buildDaemon } from './main.js';\nexport const x = buildDaemon;\n",
    );
    expect(found.map((p) => p.rule)).toContain('import-x/no-cycle');
  });

  it('the composition root may wire processes and files; the same code elsewhere in the daemon may not', async () => {
    const text = "import { spawn } from 'node:child_process';\nexport const x = spawn;\n";
    expect(await problems('agent/daemon/main.ts', text)).toEqual([]);
    expect((await problems('agent/daemon/runner.ts', text)).map((p) => p.rule)).toContain('no-restricted-imports');
  });
});

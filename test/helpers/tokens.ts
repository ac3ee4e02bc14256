// An API tokens file made for one test run: one operator and one viewer token, written by the
// same code as `gitops agent token add`.

import { join } from 'node:path';
import { addToken } from '../../agent/io/token-file.js';
import { tempDir } from './project.js';

export interface Tokens {
  file: string;
  operator: string;
  viewer: string;
}

export function apiTokens(dir = tempDir('tokens-')): Tokens {
  const file = join(dir, 'tokens.yaml');
  return { file, operator: addToken(file, 'oncall', 'operator'), viewer: addToken(file, 'dashboard', 'viewer') };
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

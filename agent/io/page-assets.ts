// The status page's three files (agent/daemon/page), read once when the API starts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PageAssets {
  html: string;
  js: string;
  css: string;
}

export function readPageAssets(packageRoot: string): PageAssets {
  const dir = join(packageRoot, 'agent/daemon/page');
  return {
    html: readFileSync(join(dir, 'index.html'), 'utf8'),
    js: readFileSync(join(dir, 'app.js'), 'utf8'),
    css: readFileSync(join(dir, 'app.css'), 'utf8'),
  };
}

// The smart-HTTP git server the tests and the benchmark share.
export { startGitServer } from '../../devtools/git-server.js';
export type { GitServer } from '../../devtools/git-server.js';

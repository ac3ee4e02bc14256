// The smart-HTTP git server the tests and the benchmark share.
export { startGitServer } from '../../bench/git-server.js';
export type { GitServer } from '../../bench/git-server.js';

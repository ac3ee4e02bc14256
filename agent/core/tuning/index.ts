// The tuner (issue 16, item 5): tuning files, their search spaces and checks, the search methods
// (successive halving, Thompson sampling, GP-EI) and the fleet pooling of trial summaries. Pure:
// randomness is a seeded function handed in.

export * from './types.js';
export * from './space.js';
export * from './random.js';
export * from './spec.js';
export * from './method.js';
export * from './pool.js';

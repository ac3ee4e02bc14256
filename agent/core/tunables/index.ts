// Runtime tunables (DESIGN.md section 9): the schema's x-tunable, narrowed by the signed
// configuration, and the leases above it. Pure: times and configurations are passed in.

export * from './annotation.js';
export * from './spec.js';
export * from './narrowing.js';
export * from './lease.js';
export * from './effective.js';
export * from './events.js';
export * from './ttl.js';

// The load governor (DESIGN.md section 9): its rules (the rendered `load_governor` section), the
// hysteresis and ladder state machine, the API's view of it, and what CI checks of its rules.
// Pure: every time is passed in as epoch milliseconds.

export * from './rules.js';
export * from './governor.js';
export * from './view.js';
export * from './check.js';

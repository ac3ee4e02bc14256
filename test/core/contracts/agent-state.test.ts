import { describe, expect, it } from 'vitest';
import { checkState, INITIAL_STATE } from '../../../agent/core/contracts/agent-state.js';

describe('checkState: the agent state read back from state.json', () => {
  it("no file is the initial state; an older agent's file gets the fields it lacks; last good is among the good", () => {
    expect(checkState(undefined)).toEqual({ state: INITIAL_STATE });
    const r = checkState({ applied: 'abc', last_good: 'abc', bad: [], generation: 4 });
    expect(r).toEqual({ state: { ...INITIAL_STATE, applied: 'abc', last_good: 'abc', good: ['abc'], generation: 4 } });
  });

  it.each([
    [[1, 2], 'a list'],
    [null, 'null'],
    ['text', 'a string'],
    [{ good: 5 }, 'good is 5'],
    [{ bad: ['a', 3] }, 'bad is ["a",3]'],
    [{ generation: -1 }, 'generation is -1'],
    [{ generation: 1.5 }, 'generation is 1.5'],
    [{ applied: 7 }, 'applied is 7'],
    [{ last_sync: 'yesterday' }, 'last_sync is "yesterday"'],
    [{ in_progress: { commit: 'x' } }, 'in_progress is {"commit":"x"}'],
  ])('%j is refused (%s), never half-used', (raw, problem) => {
    expect(checkState(raw)).toEqual({ problem: expect.stringContaining(problem) });
  });
});

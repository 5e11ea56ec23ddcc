import { worseState } from '../../src/worker';

/** A worker process is two workers (its task queue's and the webhook queue's); its state must not hide either one's. */
describe('worseState', () => {
  it('is RUNNING only when both workers run', () => {
    expect(worseState('RUNNING', 'RUNNING')).toBe('RUNNING');
    expect(worseState('RUNNING', 'INITIALIZED')).toBe('INITIALIZED');
    expect(worseState('STOPPED', 'RUNNING')).toBe('STOPPED');
    expect(worseState('RUNNING', 'DRAINING')).toBe('DRAINING');
  });

  it('is FAILED when either failed, whichever it is', () => {
    expect(worseState('RUNNING', 'FAILED')).toBe('FAILED');
    expect(worseState('FAILED', 'STOPPED')).toBe('FAILED');
  });

  it('while they stop, is the one further from running', () => {
    expect(worseState('STOPPED', 'STOPPED')).toBe('STOPPED');
    expect(worseState('STOPPING', 'DRAINED')).toBe('DRAINED');
  });
});

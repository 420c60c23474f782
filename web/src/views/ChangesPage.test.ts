import { describe, expect, it } from 'vitest';
import { changesHref, readChanges } from './ChangesPage';
import { routeOf } from '../routing';

describe('the changes view address', () => {
  it('reads known changes, repeated or comma-separated, in the API order, and drops the rest', () => {
    expect(readChanges(new URLSearchParams('change=Resolved,NewError&change=Bogus&change=NotSeen'))).toEqual([
      'NewError',
      'Resolved',
      'NotSeen',
    ]);
    expect(readChanges(new URLSearchParams(''))).toEqual([]);
  });

  it('writes the changes back, and the route reads the run id', () => {
    const id = '7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60';
    expect(changesHref(id, ['NewError', 'Resolved'])).toBe(
      `/runs/${id}/changes?change=NewError&change=Resolved`,
    );
    expect(changesHref(id, [])).toBe(`/runs/${id}/changes`);
    expect(routeOf(`/runs/${id.toUpperCase()}/changes`)).toEqual({ name: 'changes', runId: id });
    expect(routeOf(`/runs/not-a-guid/changes`)).toEqual({ name: 'notFound' });
  });
});

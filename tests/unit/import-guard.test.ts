import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_DELETE_GUARD, deleteGuard, deleteGuardLimit } from '../../lib/imports/guard.ts';
import { ConfigError } from '../../lib/errors.ts';

const delta = (del: number, previousRows: number) => ({ ops: { insert: 0, update: 0, delete: del }, previousRows });

describe('the delete guard', () => {
  afterEach(() => {
    delete process.env.TRIBUTARY_IMPORT_DELETE_GUARD;
  });

  it('holds an export that deletes more than its share of the previous rows, and says why', () => {
    expect(deleteGuard(delta(2001, 10_000), 0.2)).toEqual({
      hold: true,
      deletes: 2001,
      previousRows: 10_000,
      share: 0.2001,
      limit: 0.2,
      reason:
        'It would delete 2,001 of the 10,000 rows the last applied export had (20.01 %), more than the 20 % an import may delete on its own; it waits for an operator to approve or reject it.',
    });
    // At the limit it goes on; a first export (nothing before it) deletes nothing.
    expect(deleteGuard(delta(2000, 10_000), 0.2).hold).toBe(false);
    expect(deleteGuard(delta(0, 0), 0)).toMatchObject({ hold: false, share: 0 });
    // Limit 0: any delete waits; 1: none does.
    expect(deleteGuard(delta(1, 10), 0).hold).toBe(true);
    expect(deleteGuard(delta(10, 10), 1).hold).toBe(false);
  });

  it('reads its limit from TRIBUTARY_IMPORT_DELETE_GUARD, 20 % unless set, and refuses a value that is not a share', () => {
    expect(deleteGuardLimit()).toBe(DEFAULT_DELETE_GUARD);
    process.env.TRIBUTARY_IMPORT_DELETE_GUARD = '0.05';
    expect(deleteGuardLimit()).toBe(0.05);
    expect(deleteGuard(delta(6, 100)).hold).toBe(true);
    process.env.TRIBUTARY_IMPORT_DELETE_GUARD = '20';
    expect(() => deleteGuardLimit()).toThrow(ConfigError);
    expect(() => deleteGuardLimit()).toThrow(/TRIBUTARY_IMPORT_DELETE_GUARD.*is not a share between 0 and 1/);
  });
});

import { describe, expect, it } from 'vitest';
import { defaultMeasure } from '../../components/sql/ResultChart.tsx';

const col = (name: string, type = 'bigint') => ({ name, type });

describe('the result chart', () => {
  it("charts a measure first, not the saved queries' rank, version or constant columns", () => {
    // top_merchants: rank, merchant, transactions, amount.
    const top = [col('rank'), col('merchant', 'varchar'), col('transactions'), col('amount', 'double')];
    expect(
      defaultMeasure(
        top,
        [
          [1, 'a', 9, 1.5],
          [2, 'b', 7, 3],
          [3, 'c', 7, 2],
        ],
        1,
      ),
    ).toBe(2);
    // failures_by_field: type, v, field, rule, failures — v is 1 in every row.
    const failures = [col('type', 'varchar'), col('v', 'integer'), col('field', 'varchar'), col('failures')];
    expect(
      defaultMeasure(
        failures,
        [
          ['t', 1, '/a', 5],
          ['t', 1, '/b', 2],
        ],
        0,
      ),
    ).toBe(3);
    // A row number by its values, whatever its name; a constant, however named.
    const numbered = [col('k', 'varchar'), col('n'), col('total')];
    expect(
      defaultMeasure(
        numbered,
        [
          ['a', 0, 4],
          ['b', 1, 9],
          ['c', 2, 1],
        ],
        0,
      ),
    ).toBe(2);
    expect(
      defaultMeasure(
        [col('k', 'varchar'), col('same'), col('total')],
        [
          ['a', 3, 1],
          ['b', 3, 2],
        ],
        0,
      ),
    ).toBe(2);
  });

  it('falls back to the first other numeric column when every one looks like a label, and -1 when there is none', () => {
    expect(
      defaultMeasure(
        [col('day', 'varchar'), col('hour'), col('rank')],
        [
          ['d', 1, 1],
          ['d', 2, 2],
        ],
        0,
      ),
    ).toBe(1);
    expect(defaultMeasure([col('a', 'varchar'), col('b', 'varchar')], [['x', 'y']], 0)).toBe(-1);
    // The X column is never also Y.
    expect(
      defaultMeasure(
        [col('hour'), col('trips')],
        [
          [1, 5],
          [2, 3],
          [3, 8],
        ],
        0,
      ),
    ).toBe(1);
  });
});

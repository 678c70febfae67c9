import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../lib/catalog/catalog.ts';
import { Masker } from '../../lib/masking.ts';
import { guardQuery } from '../../lib/query/guard.ts';
import { sqlParser } from '../../lib/query/parser.ts';
import { maskRows, resultMasking } from '../../lib/query/sensitive.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

const catalog = new Catalog(defaultRegistry());
const masker = new Masker(defaultRegistry());
const masking = async (sql: string) => {
  const { tree } = await sqlParser().parse(sql);
  return resultMasking(tree, guardQuery(tree, { catalog, engine: 'duckdb', params: {} }).reads, masker);
};
const D = "dt = '2026-01-15'";

describe('sensitive columns in SQL, for viewers', () => {
  it.each([
    [`SELECT amt, category FROM transactions WHERE ${D}`, {}],
    [`SELECT cc_num, amt FROM transactions WHERE ${D}`, { cc_num: 'card' }],
    [`SELECT cc_num AS card, first FROM transactions WHERE ${D}`, { card: 'card', first: 'name' }],
    [`SELECT * FROM transactions WHERE ${D}`, {}],
    [`SELECT * RENAME (cc_num AS card) FROM transactions WHERE ${D}`, { card: 'card' }],
    [`SELECT t.cc_num FROM transactions t WHERE t.${D}`, {}],
    [`SELECT cc_num FROM (SELECT * FROM transactions WHERE ${D})`, {}],
    [`SELECT cc_num FROM transactions WHERE ${D} UNION ALL SELECT cc_num FROM transactions WHERE ${D}`, {}],
    [`SELECT payload_email_id FROM clickstream WHERE ${D}`, {}],
    [`SELECT category, count(*) AS n FROM transactions WHERE ${D} GROUP BY category`, {}],
    // The Schemas page's saved query, which a viewer opens: the errors of quarantined records, never their payloads.
    [readFileSync('queries/failures_by_field.sql', 'utf8').replace(/\$period_(from|to)/g, "'2026-01-15'"), {}],
    [`SELECT x FROM transactions, unnest([1, 2]) AS u(x) WHERE ${D}`, {}],
  ])('%s is a viewer’s to run, masked', async (sql, aliases) => {
    const m = await masking(sql);
    expect(m.refusal).toBeUndefined();
    // Every sensitive column of the tables read is masked by name, plus the aliases the outermost SELECT gives.
    expect(m.masks).toMatchObject(aliases);
  });

  it('masks by the columns of every table read: cards, names, streets, e-mails, whole payloads', async () => {
    expect((await masking(`SELECT 1 FROM transactions WHERE ${D}`)).masks).toEqual({
      cc_num: 'card',
      first: 'name',
      last: 'name',
      street: 'street',
      data: 'text',
    });
    expect((await masking(`SELECT 1 FROM clickstream WHERE ${D}`)).masks).toEqual({
      payload_email_id: 'email',
      payload_contact: 'text',
      data: 'text',
    });
    expect((await masking(`SELECT payload FROM quarantine WHERE ${D}`)).masks).toEqual({ payload: 'text' });
    expect((await masking(`SELECT trip_id FROM taxi_trips WHERE ${D}`)).masks).toEqual({});
  });

  it.each([
    [`SELECT amt FROM transactions WHERE ${D} AND cc_num = '4000000000000001'`, 'cc_num used in an expression'],
    [`SELECT upper(first) FROM transactions WHERE ${D}`, 'first used in an expression'],
    [`SELECT right(cc_num, 8) AS x FROM transactions WHERE ${D}`, 'cc_num used in an expression'],
    [`SELECT cc_num, count(*) FROM transactions WHERE ${D} GROUP BY cc_num`, 'cc_num used in an expression'],
    [`SELECT amt FROM transactions WHERE ${D} ORDER BY cc_num`, 'cc_num used in an expression'],
    [
      `SELECT a.amt FROM transactions a JOIN transactions b ON a.cc_num = b.cc_num WHERE a.${D} AND b.${D}`,
      'cc_num used',
    ],
    [`SELECT x FROM (SELECT cc_num AS x FROM transactions WHERE ${D})`, 'cc_num renamed in a subquery'],
    [
      `SELECT upper(x) FROM (SELECT * RENAME (cc_num AS x) FROM transactions WHERE ${D})`,
      'cc_num renamed in a subquery',
    ],
    [`SELECT upper(c) FROM (SELECT * FROM transactions WHERE ${D}) AS s(c)`, 'column aliases on a table or subquery'],
    [
      `WITH w(c) AS (SELECT cc_num FROM transactions WHERE ${D}) SELECT upper(c) FROM w`,
      'column aliases on a WITH query',
    ],
    [`SELECT to_json(t) FROM transactions t WHERE ${D}`, 'the whole row of t'],
    [`SELECT md5(COLUMNS(*)) FROM transactions WHERE ${D}`, '* or COLUMNS(…) inside an expression'],
    [`SELECT #7 FROM transactions WHERE ${D}`, 'a column by position'],
    [`SELECT (SELECT cc_num FROM transactions WHERE ${D} LIMIT 1) AS c`, 'a subquery used as a value'],
    [
      `SELECT amt FROM transactions WHERE ${D} AND cc_num IN (SELECT cc_num FROM transactions WHERE ${D})`,
      'cc_num used',
    ],
    [`SELECT cc_num FROM transactions WHERE ${D} INTERSECT SELECT '4000000000000001'`, 'under INTERSECT'],
    [`SELECT count(*) FILTER (WHERE first LIKE 'J%') FROM transactions WHERE ${D}`, 'first used'],
    [`SELECT * REPLACE (upper(first) AS first) FROM transactions WHERE ${D}`, 'first used'],
    [`SELECT payload FROM quarantine WHERE ${D} AND payload LIKE '%4000%'`, 'payload used'],
    [`SELECT x FROM transactions, unnest([cc_num]) AS u(x) WHERE ${D}`, 'cc_num used'],
  ])('%s is refused to a viewer (%s)', async (sql, why) => {
    const m = await masking(sql);
    expect(m.refusal).toContain(why);
    expect(m.refusal).toMatch(/Select the column plainly, filter on other columns, or ask an operator to run it\.$/);
  });

  it('masks result cells of the masked columns, repeated names included, leaving the others and NULLs', () => {
    const columns = [
      { name: 'cc_num', type: 'varchar' },
      { name: 'amt', type: 'double' },
      { name: 'cc_num_1', type: 'varchar' },
      { name: 'first', type: 'varchar' },
    ];
    expect(
      maskRows({ cc_num: 'card', first: 'name' }, columns, [
        ['4000000000000001', 4.5, '4000000000000009', 'Jennifer'],
        [null, 1, '12', null],
      ]),
    ).toEqual([
      ['•••• 0001', 4.5, '•••• 0009', 'J••••'],
      [null, 1, '••••', null],
    ]);
  });
});

describe('sensitive columns of an imported table, as its definition marks them', () => {
  const withImports = new Catalog(defaultRegistry(), {
    names: () => ['cards'],
    get: () => ({
      name: 'cards',
      primaryKey: ['ID'],
      columns: [
        { name: 'ID', type: 'integer' },
        { name: 'PAN', type: 'text', sensitive: 'card' },
        { name: 'HOLDER', type: 'text', sensitive: 'name' },
        { name: 'LIMIT_EUR', type: 'decimal', precision: 12, scale: 2 },
      ],
    }),
  });
  const masked = async (sql: string) => {
    const { tree } = await sqlParser().parse(sql);
    return resultMasking(tree, guardQuery(tree, { catalog: withImports, engine: 'duckdb', params: {} }).reads, masker);
  };

  it('masks them in the changes table, its raw table (the whole row) and the current view', async () => {
    expect((await masked(`SELECT pan, limit_eur FROM cards_changes WHERE ${D}`)).masks).toEqual({
      pan: 'card',
      holder: 'name',
      data: 'text',
    });
    expect((await masked(`SELECT data FROM cards_changes_raw WHERE ${D}`)).masks).toMatchObject({ data: 'text' });
    expect((await masked("SELECT pan AS card, holder FROM cards WHERE tenant = 'acme'")).masks).toMatchObject({
      card: 'card',
      holder: 'name',
    });
  });

  it('refuses a viewer any other use of them, and leaves a table without them alone', async () => {
    expect((await masked(`SELECT id FROM cards_changes WHERE ${D} AND pan = '4000000000000001'`)).refusal).toContain(
      'pan used in an expression',
    );
    expect((await masked("SELECT count(*) FROM cards WHERE holder LIKE 'J%'")).refusal).toContain('holder used');
    const plain = new Catalog(defaultRegistry(), {
      names: () => ['plain'],
      get: () => ({ name: 'plain', primaryKey: ['ID'], columns: [{ name: 'ID', type: 'integer' }] }),
    });
    const { tree } = await sqlParser().parse(`SELECT * FROM plain_changes WHERE ${D}`);
    expect(
      resultMasking(tree, guardQuery(tree, { catalog: plain, engine: 'duckdb', params: {} }).reads, masker),
    ).toEqual({ masks: {} });
  });
});

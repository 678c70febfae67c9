/**
 * The console's requests of the database (lib/console/database.ts): checked as received, refusals carried across the
 * function boundary with their code and status, and the AWS path that invokes the console database function in the
 * VPC (lib/composition.ts consoleDatabase), against the Lambda SDK contract.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleDatabase } from '../../lib/composition.ts';
import { loadConfig, type TributaryConfig } from '../../lib/config.ts';
import { answerValue, ConsoleDbError, readConsoleDbRequest } from '../../lib/console/database.ts';
import { ROW_TEXT_WITHHELD, type ImportsOverview, withRowTextWithheld } from '../../lib/imports/service.ts';
import { DatabaseUnavailableError } from '../../lib/oltp/errors.ts';

const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

const awsConfig = (): TributaryConfig => {
  const local = loadConfig({});
  return { ...local, mode: 'aws', console: { ...local.console, consoleDbFunction: 'tributary-ci-ConsoleDb' } };
};
const payload = (value: unknown) => ({ Payload: Buffer.from(JSON.stringify(value)), StatusCode: 200 }) as never;

describe('a console database request', () => {
  it('is read with its bounds, and refused (400) saying what is wrong', () => {
    expect(readConsoleDbRequest({ op: 'oltp-status', latest: 1000 })).toEqual({ op: 'oltp-status', latest: 100 });
    expect(readConsoleDbRequest({ op: 'imports', perTable: '5' })).toEqual({ op: 'imports', perTable: 5, raw: 50 });
    expect(
      readConsoleDbRequest({
        op: 'import-decision',
        id: 'abc',
        decision: 'reject',
        actor: { by: 'sam', role: 'operator', extra: 1 },
      }),
    ).toEqual({ op: 'import-decision', id: 'abc', decision: 'reject', actor: { by: 'sam', role: 'operator' } });
    const refused = (v: unknown) => {
      try {
        readConsoleDbRequest(v);
      } catch (err) {
        return [(err as ConsoleDbError).status, (err as Error).message];
      }
      return 'accepted';
    };
    expect(refused(null)).toEqual([
      400,
      'Unknown console database request null: oltp-status, imports or import-decision.',
    ]);
    expect(refused({ op: 'import-decision', id: 'a', decision: 'delete' })).toEqual([
      400,
      'An import decision is "approve" or "reject".',
    ]);
    expect(refused({ op: 'import-decision', id: 'a', decision: 'approve', actor: { by: 'x', role: 'admin' } })).toEqual(
      [400, 'An import decision needs who decides ({by, role}).'],
    );
    expect(refused({ op: 'import-decision', decision: 'approve' })).toEqual([
      400,
      'An import decision needs the import id.',
    ]);
  });

  it('answers keep a refusal’s code and status', () => {
    expect(answerValue({ ok: true, value: { a: 1 } })).toEqual({ a: 1 });
    expect(() =>
      answerValue({ ok: false, error: { code: 'import_not_found', status: 404, message: 'No import "x".' } }),
    ).toThrow(new ConsoleDbError('import_not_found', 'No import "x".', 404));
  });
});

describe('in AWS, the console asks the console database function', () => {
  it('invokes it synchronously with the request and returns its value', async () => {
    lambda.on(InvokeCommand).resolves(payload({ ok: true, value: { tables: [], raw: [] } }));
    const value = await consoleDatabase(awsConfig())({ op: 'imports', perTable: 3, raw: 4 });
    expect(value).toEqual({ tables: [], raw: [] });
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect([input.FunctionName, input.InvocationType]).toEqual(['tributary-ci-ConsoleDb', 'RequestResponse']);
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString())).toEqual({
      op: 'imports',
      perTable: 3,
      raw: 4,
    });
  });

  it('a refusal of the function is the console’s refusal, with its status (409 not held, 403 a viewer)', async () => {
    lambda.on(InvokeCommand).resolves(
      payload({
        ok: false,
        error: { code: 'import_state', status: 409, message: 'Import x is published, not held.' },
      }),
    );
    const decide = consoleDatabase(awsConfig())({
      op: 'import-decision',
      id: 'x',
      decision: 'approve',
      actor: { by: 'sam', role: 'operator' },
    });
    await expect(decide).rejects.toBeInstanceOf(ConsoleDbError);
    await expect(decide).rejects.toMatchObject({ status: 409, code: 'import_state' });
  });

  it('the function failing as a whole (timeout, crash) is the database unavailable (503)', async () => {
    lambda.on(InvokeCommand).resolves({
      FunctionError: 'Unhandled',
      Payload: Buffer.from(JSON.stringify({ errorMessage: 'Task timed out after 30.00 seconds' })),
    } as never);
    const read = consoleDatabase(awsConfig())({ op: 'oltp-status', latest: 0 });
    await expect(read).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(read).rejects.toMatchObject({
      status: 503,
      message: 'The console database function failed: Task timed out after 30.00 seconds',
    });
  });
});

describe('the Imports page for a viewer', () => {
  it('withholds refused rows’ text and problem and a refused export’s error, keeping their lines', () => {
    const card = '4111111111111111';
    const overview = {
      at: '2026-12-02T00:00:00.000Z',
      definitions: [],
      raw: [],
      tables: [
        {
          tenant: 'acme',
          table: 'example',
          statuses: { refused: 1, held: 1 },
          rows: 0,
          imports: [
            {
              id: 'a',
              status: 'refused',
              error: `Refused: line 2: key PK=${card} appears 2 times`,
              badRows: [
                { line: 2, text: `${card};x`, problem: `Could not convert string '${card}' to INT64` },
                { row: 3, problem: `key PK=${card} appears 2 times` },
              ],
            },
            {
              id: 'b',
              status: 'held',
              error: 'It would delete 2 of the 3 rows the last applied export had (66.67 %).',
            },
          ],
        },
      ],
    } as unknown as ImportsOverview;
    const seen = withRowTextWithheld(overview);
    expect(seen.tables[0]!.imports.map((i) => [i.error, i.badRows])).toEqual([
      [
        `Refused as a whole. ${ROW_TEXT_WITHHELD}`,
        [
          { line: 2, text: ROW_TEXT_WITHHELD, problem: ROW_TEXT_WITHHELD },
          { row: 3, problem: ROW_TEXT_WITHHELD },
        ],
      ],
      ['It would delete 2 of the 3 rows the last applied export had (66.67 %).', undefined],
    ]);
    expect(JSON.stringify(seen)).not.toContain(card);
  });
});

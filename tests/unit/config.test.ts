/** The runtime configuration (lib/config.ts): mode, data directory and names worked out in one place. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { authConfig } from '../../lib/console/auth.ts';
import {
  SETTING_NAMES,
  dataDirFrom,
  loadConfig,
  localApiKey,
  readSettings,
  runtimeMode,
  settingAbout,
} from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';

describe('configuration', () => {
  it('is local by default, AWS inside Lambda, and whatever TRIBUTARY_MODE says when it is set', () => {
    expect(runtimeMode({})).toBe('local');
    expect(runtimeMode({ AWS_LAMBDA_FUNCTION_NAME: 'tributary-prod-Ingest' })).toBe('aws');
    expect(runtimeMode({ AWS_LAMBDA_FUNCTION_NAME: 'x', TRIBUTARY_MODE: 'local' })).toBe('local');
    expect(runtimeMode({ TRIBUTARY_MODE: 'aws' })).toBe('aws');
    expect(() => runtimeMode({ TRIBUTARY_MODE: 'cloud' })).toThrow(
      'TRIBUTARY_MODE="cloud" is not a mode; use "local" or "aws".',
    );
    // Sign-in follows the same rule: a password is mandatory exactly where the mode is aws.
    expect(() => authConfig({ AWS_LAMBDA_FUNCTION_NAME: 'x' })).toThrow(/in AWS the console requires sign-in/);
    expect(() => authConfig({ TRIBUTARY_MODE: 'cloud' })).toThrow(/is not a mode/);
  });

  it('takes the data directory from the flag, else TRIBUTARY_DATA_DIR, else ./.data, always absolute', () => {
    expect(dataDirFrom({}, 'here')).toBe(path.resolve('here'));
    expect(dataDirFrom({ TRIBUTARY_DATA_DIR: '/tmp/t' }, 'here')).toBe(path.resolve('here'));
    expect(dataDirFrom({ TRIBUTARY_DATA_DIR: '/tmp/t' })).toBe('/tmp/t');
    expect(dataDirFrom({ TRIBUTARY_DATA_DIR: '' })).toBe(path.resolve('.data'));
    expect(loadConfig({ TRIBUTARY_DATA_DIR: '/tmp/t' }).dataDir).toBe('/tmp/t');
  });

  it('names what to set when an AWS resource name is missing', () => {
    expect(() => loadConfig({ TRIBUTARY_MODE: 'aws', AWS_REGION: 'eu-west-1' })).toThrow(
      'TRIBUTARY_STREAM_NAME is not set; in AWS mode the stack must pass it to the function (see stacks/).',
    );
    expect(() => loadConfig({ TRIBUTARY_API_PORT: '70000' })).toThrow(
      'TRIBUTARY_API_PORT="70000" is not a TCP port; set it to a whole number between 0 and 65535.',
    );
  });

  it('validates every setting at once, typed, and names each malformed one with what to set', () => {
    const s = readSettings({
      TRIBUTARY_API_PORT: '4100',
      TRIBUTARY_REDRIVE_RATE: '250',
      TRIBUTARY_CONSOLE_EXPORT: ' OFF ',
    });
    expect([s.TRIBUTARY_API_PORT, s.TRIBUTARY_REDRIVE_RATE, s.TRIBUTARY_CONSOLE_EXPORT]).toEqual([4100, 250, 'off']);
    expect(() =>
      readSettings({
        TRIBUTARY_REDRIVE_RATE: '2.5',
        TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB: '-1',
        TRIBUTARY_CONSOLE_EXPORT: 'maybe',
        TRIBUTARY_LAKE_BUCKET: 'Lake_Bucket',
        TRIBUTARY_STREAM_NAME: 'events stream',
      }),
    ).toThrow(
      new ConfigError(
        [
          'TRIBUTARY_STREAM_NAME="events stream" is not a Kinesis stream name; use 1 to 128 letters, digits, "_", "-" or ".".',
          'TRIBUTARY_LAKE_BUCKET="Lake_Bucket" is not an S3 bucket name; the stack passes the bucket name (stacks/).',
          'TRIBUTARY_CONSOLE_EXPORT="maybe" is not a switch; use on or off.',
          'TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB="-1" is not a number of megabytes; set it to a number ≥ 0 (0 refuses every unfiltered scan).',
          'TRIBUTARY_REDRIVE_RATE="2.5" is not a whole number of records per second; set it to a whole number ≥ 1.',
        ].join(' '),
      ),
    );
  });

  it('never repeats a secret in its refusal', () => {
    const refuse = (env: Record<string, string>) => {
      try {
        readSettings(env);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refuse({ TRIBUTARY_CONSOLE_PASSWORD: 'hunter2' })).toBe(
      'TRIBUTARY_CONSOLE_PASSWORD is shorter than 8 characters; console passwords must be at least 8 characters long.',
    );
    expect(refuse({ DATABASE_URL: 'mysql://app:s3cret@db/x' })).toBe(
      'DATABASE_URL is not a Postgres URL; set it like postgres://user:password@host:5432/database.',
    );
  });

  it('reads an environment once: asking again gives the same settings, a changed one is read anew', () => {
    const env = { TRIBUTARY_API_PORT: '4100' };
    const first = readSettings(env);
    expect(readSettings({ ...env })).toBe(first);
    expect(readSettings({ TRIBUTARY_API_PORT: '4200' }).TRIBUTARY_API_PORT).toBe(4200);
  });

  it('turns the console settings into what the services take', () => {
    const c = loadConfig({
      TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB: '1.5',
      TRIBUTARY_REDRIVE_RATE: '40',
      TRIBUTARY_CONSOLE_EXPORT: 'false',
      TRIBUTARY_API_KEY: ' old , new ',
    });
    expect(c.console).toEqual({
      stage: 'local',
      exportEnabled: false,
      maxUnfilteredScanBytes: 1.5 * 1024 * 1024,
      redriveRate: 40,
    });
    expect(c.apiKeys).toEqual(['old', 'new']);
    expect(loadConfig({}).console).toEqual({ stage: 'local', exportEnabled: true });
    // The console's header names the stage the stack passes; a name that is not one is refused at start.
    expect(loadConfig({ TRIBUTARY_STAGE: 'pr-42' }).console.stage).toBe('pr-42');
    expect(() => loadConfig({ TRIBUTARY_STAGE: 'no spaces' })).toThrow(
      /TRIBUTARY_STAGE="no spaces" is not a stage name/,
    );
  });

  it('works out the local API key in one place: given, else TRIBUTARY_API_KEY, else the data directory file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-key-'));
    try {
      expect(localApiKey(dir, { env: {} })).toBeUndefined();
      const created = localApiKey(dir, { env: {}, create: true })!;
      expect(created).toMatch(/^trib_local_[A-Za-z0-9_-]{24}$/);
      expect(readFileSync(path.join(dir, 'api-key'), 'utf8')).toBe(`${created}\n`);
      expect(localApiKey(dir, { env: {} })).toBe(created);
      expect(localApiKey(dir, { env: { TRIBUTARY_API_KEY: 'first,second' } })).toBe('first');
      expect(localApiKey(dir, { given: 'flag', env: { TRIBUTARY_API_KEY: 'first' } })).toBe('flag');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the README's configuration table lists exactly the variables lib/config.ts reads, saying what each sets", () => {
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Configuration (environment variables)'));
    const rows = section.slice(0, section.indexOf('\n\n', section.indexOf('| variable |')));
    const table = [...rows.matchAll(/^\| `([A-Z_0-9]+)` \| (.*?) \| .*? \|$/gm)].map((m) => [m[1], m[2]]);
    expect(table).toEqual(SETTING_NAMES.map((n) => [n, settingAbout(n)]));
  });

  it("every command's --help lists the variables it reads, each with what it sets", async () => {
    const { commandHelp, commands } = await import('../../cli/main.ts');
    for (const [name, cmd] of Object.entries(commands)) {
      const help = commandHelp(cmd);
      // After the header, one line per variable: its name, two or more spaces, what it sets.
      const listed = help
        .slice(help.indexOf('\nVariables ('))
        .split('\n')
        .slice(2)
        .filter((l) => l.trim())
        .map((l) => l.trim().split(/ {2,}/));
      expect(listed, name).toEqual(cmd.reads.map((v) => [v, settingAbout(v).replaceAll('`', '')]));
    }
    expect(commands.produce!.reads).toContain('TRIBUTARY_API_URL');
    expect(commands.db!.reads).toContain('DATABASE_URL');
  });
});

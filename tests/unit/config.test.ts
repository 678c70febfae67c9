/** The runtime configuration (lib/config.ts): mode, data directory and names worked out in one place. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { authConfig } from '../../lib/console/auth.ts';
import { dataDirFrom, loadConfig, runtimeMode } from '../../lib/config.ts';

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
});

import { describe, expect, it } from 'vitest';
import { apiKeysFrom } from '../../lib/config.ts';
import { authorizeApiKey } from '../../lib/ingest/auth.ts';

describe('API key authorizer', () => {
  it('reads comma-separated keys for rotation', () => {
    expect(apiKeysFrom({ TRIBUTARY_API_KEY: ' old-key , new-key ,, ' })).toEqual(['old-key', 'new-key']);
    expect(apiKeysFrom({})).toEqual([]);
  });

  it('authorizes only a configured key, and nothing when no key is configured', () => {
    expect(authorizeApiKey({ 'x-api-key': 'new-key' }, ['old-key', 'new-key'])).toEqual({ isAuthorized: true });
    expect(authorizeApiKey({ 'x-api-key': 'new-key ' }, ['old-key', 'new-key'])).toEqual({ isAuthorized: false });
    expect(authorizeApiKey({}, ['old-key'])).toEqual({ isAuthorized: false });
    expect(authorizeApiKey(undefined, ['old-key'])).toEqual({ isAuthorized: false });
    expect(authorizeApiKey({ 'x-api-key': '' }, [])).toEqual({ isAuthorized: false });
  });
});

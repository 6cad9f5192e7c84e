import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('the PostgreSQL settings', () => {
  it('are off unless BETROKKEN_DATABASE_URL is set: SQLite in the data directory stays the default', () => {
    expect(loadConfig({}).postgres).toBeNull();
  });

  it('take a postgres URL and a pool size per instance', () => {
    expect(loadConfig({ BETROKKEN_DATABASE_URL: 'postgres://app:secret@db.internal:5432/betrokken' }).postgres).toEqual({
      url: 'postgres://app:secret@db.internal:5432/betrokken',
      poolSize: 10,
    });
    expect(loadConfig({ BETROKKEN_DATABASE_URL: 'postgresql://db/betrokken', BETROKKEN_DB_POOL_SIZE: '24' }).postgres?.poolSize).toBe(24);
  });

  it('refuse another URL without repeating it (it may hold a password)', () => {
    const err = (() => {
      try {
        loadConfig({ BETROKKEN_DATABASE_URL: 'mysql://app:s3cret-pw@db/betrokken' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['BETROKKEN_DATABASE_URL: must be a postgres:// URL']);
    expect((err as Error).message).not.toContain('s3cret-pw');
    expect(() => loadConfig({ BETROKKEN_DATABASE_URL: 'postgres://db/b', BETROKKEN_DB_POOL_SIZE: '0' })).toThrow(ConfigError);
  });

  it('refuse SQLite page encryption together with PostgreSQL', () => {
    expect(() => loadConfig({ BETROKKEN_DATABASE_URL: 'postgres://db/b', BETROKKEN_DB_ENCRYPTION: 'on' })).toThrow(/BETROKKEN_DB_ENCRYPTION/);
  });
});

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('defaults to the embedded setup in ./data', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe(path.resolve('data'));
    expect(c.dbFile).toBe(path.resolve('data/betrokken.db'));
    expect(c.keysDir).toBe(path.resolve('data/keys'));
    expect(c.policyFile).toBe(path.resolve('policies/groningen.yaml'));
    expect(c.issuer).toBe('http://localhost:8080');
    expect(c.host).toBe('0.0.0.0');
    expect(c.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
  });

  it('binds the API and the metrics listener where told, never on one port', () => {
    const c = loadConfig({ HOST: '::', METRICS_PORT: '9100', METRICS_HOST: '10.0.0.5' });
    expect(c.host).toBe('::');
    expect(c.metrics).toEqual({ port: 9100, host: '10.0.0.5' });
    expect(() => loadConfig({ PORT: '9464' })).toThrow(/METRICS_PORT/);
    expect(() => loadConfig({ HOST: 'http://0.0.0.0' })).toThrow(/HOST/);
  });

  it('derives paths and issuer from the settings', () => {
    const c = loadConfig({ PORT: '9000', BETROKKEN_DATA_DIR: '/srv/index', BETROKKEN_ISSUER: 'https://index.example.nl/' });
    expect(c.dbFile).toBe('/srv/index/betrokken.db');
    expect(c.keysDir).toBe('/srv/index/keys');
    expect(c.issuer).toBe('https://index.example.nl');
  });

  it('names every bad setting at once', () => {
    try {
      loadConfig({ PORT: 'eighty', BETROKKEN_ISSUER: 'ftp://x', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/PORT/);
      expect(problems).toMatch(/BETROKKEN_ISSUER/);
      expect(problems).toMatch(/LOG_LEVEL/);
    }
  });

  it('names a contact for the OpenAPI document, by default a service desk at the issuer', () => {
    expect(loadConfig({ BETROKKEN_ISSUER: 'https://index.example.nl' }).contact).toEqual({
      name: 'Betrokken service desk',
      url: 'https://index.example.nl/docs',
      email: 'servicedesk@index.example.nl',
    });
    const c = loadConfig({ BETROKKEN_CONTACT_NAME: 'Team Jeugd', BETROKKEN_CONTACT_URL: 'https://jeugd.example.nl/api', BETROKKEN_CONTACT_EMAIL: 'api@jeugd.example.nl' });
    expect(c.contact).toEqual({ name: 'Team Jeugd', url: 'https://jeugd.example.nl/api', email: 'api@jeugd.example.nl' });
    expect(() => loadConfig({ BETROKKEN_CONTACT_EMAIL: 'not an address' })).toThrow(/BETROKKEN_CONTACT_EMAIL/);
    expect(() => loadConfig({ BETROKKEN_CONTACT_URL: 'ftp://x.example.nl' })).toThrow(/BETROKKEN_CONTACT_URL/);
  });
});

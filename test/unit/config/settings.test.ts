import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_URL, loadConfigFile, parseConfigFile, resolveConnection, resolveHome } from '../../../src/config/settings';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-config-'));
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const caFile = path.join(dir, 'ca.pem');
writeFileSync(caFile, PEM);

describe('resolveConnection: flags > env > file > defaults', () => {
  it('uses the default URL when nothing is set', () => {
    expect(resolveConnection({}, {}, {})).toEqual({ url: DEFAULT_URL, kibanaUrl: undefined, apiKey: undefined, username: undefined, password: undefined, ca: undefined });
  });

  it('lets each level override the one below', () => {
    const file = { url: 'http://file:9200', api_key: 'file-key', username: 'file-user' };
    const env = { CRYPTOCHANNEL_URL: 'http://env:9200', CRYPTOCHANNEL_API_KEY: 'env-key' };
    const flags = { url: 'http://flag:9200' };
    expect(resolveConnection(flags, env, file)).toMatchObject({ url: 'http://flag:9200', apiKey: 'env-key', username: 'file-user' });
    expect(resolveConnection({}, env, file)).toMatchObject({ url: 'http://env:9200' });
    expect(resolveConnection({}, {}, file)).toMatchObject({ url: 'http://file:9200', apiKey: 'file-key' });
  });

  it('treats an empty environment variable as unset', () => {
    expect(resolveConnection({}, { CRYPTOCHANNEL_URL: '' }, { url: 'http://file:9200' }).url).toBe('http://file:9200');
  });

  it('reads the CA file and refuses one without a certificate', () => {
    expect(resolveConnection({ ca: caFile }, {}, {}).ca).toBe(PEM);
    const bad = path.join(dir, 'bad.pem');
    writeFileSync(bad, 'nothing');
    expect(() => resolveConnection({ ca: bad }, {}, {})).toThrow(ConfigError);
    expect(() => resolveConnection({}, { CRYPTOCHANNEL_CA: path.join(dir, 'missing.pem') }, {})).toThrow(/cannot read CA file/);
  });
});

describe('config file', () => {
  it('parses known keys and rejects unknown ones or wrong types', () => {
    expect(parseConfigFile('url: https://es:9200\napi_key: abc\n', 'f')).toEqual({ url: 'https://es:9200', api_key: 'abc' });
    expect(parseConfigFile('', 'f')).toEqual({});
    expect(() => parseConfigFile('uri: x', 'f')).toThrow(/unknown setting 'uri'/);
    expect(() => parseConfigFile('url: [1]', 'f')).toThrow(/must be a string/);
    expect(() => parseConfigFile('url: [', 'f')).toThrow(/not valid YAML/);
  });

  it('is optional at the default place but required when named', () => {
    expect(loadConfigFile(undefined, { XDG_CONFIG_HOME: path.join(dir, 'none') })).toEqual({});
    expect(() => loadConfigFile(path.join(dir, 'missing.yaml'), {})).toThrow(/cannot read config file/);
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'home: /srv/cc\n');
    expect(loadConfigFile(undefined, { CRYPTOCHANNEL_CONFIG: file })).toEqual({ home: '/srv/cc' });
  });
});

describe('resolveHome', () => {
  it('takes CRYPTOCHANNEL_HOME, then the file, then the XDG cache', () => {
    expect(resolveHome({ CRYPTOCHANNEL_HOME: '/a' }, { home: '/b' })).toBe('/a');
    expect(resolveHome({}, { home: '/b' })).toBe('/b');
    expect(resolveHome({ XDG_CACHE_HOME: '/c' }, {})).toBe('/c/cryptochannel');
  });
});

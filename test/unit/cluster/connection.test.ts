import { connectionWarnings, isLoopback, normaliseConnection, redactUrl } from '../../../src/cluster/connection';
import { engineFromRoot } from '../../../src/cluster/connect';

describe('normaliseConnection', () => {
  it('moves URL credentials into auth and strips them from the printable URL', () => {
    const conn = normaliseConnection({ url: 'https://elastic:p%40ss@es.example.org:9243/' });
    expect(conn.url).toBe('https://es.example.org:9243');
    expect(conn.auth).toEqual({ username: 'elastic', password: 'p@ss' });
  });

  it('prefers an API key, then explicit basic auth, over URL credentials', () => {
    expect(normaliseConnection({ url: 'http://u:p@h:9200', apiKey: 'k' }).auth).toEqual({ apiKey: 'k' });
    expect(normaliseConnection({ url: 'http://u:p@h:9200', username: 'x', password: 'y' }).auth).toEqual({ username: 'x', password: 'y' });
  });

  it('rejects what is not an http(s) URL, without echoing credentials', () => {
    expect(() => normaliseConnection({ url: 'ftp://h' })).toThrow(/http:\/\/ or https:\/\//);
    expect(() => normaliseConnection({ url: 'not a url with secret' })).toThrow(/not a valid cluster URL/);
  });

  it('fills retry defaults and keeps overrides', () => {
    expect(normaliseConnection({ url: 'http://h', retry: { attempts: 2 } }).retry).toEqual({ attempts: 2, startingDelayMs: 250, maxDelayMs: 8000 });
  });
});

describe('redaction and warnings', () => {
  it('redacts user-info', () => {
    expect(redactUrl('https://a:b@host:9200/x')).toBe('https://***@host:9200/x');
    expect(redactUrl('https://host:9200')).toBe('https://host:9200');
  });

  it('knows loopback', () => {
    expect(isLoopback('http://127.0.0.1:9200')).toBe(true);
    expect(isLoopback('http://127.8.9.1:9200')).toBe(true);
    expect(isLoopback('http://localhost:9200')).toBe(true);
    expect(isLoopback('http://[::1]:9200')).toBe(true);
    expect(isLoopback('http://10.0.0.1:9200')).toBe(false);
  });

  it('warns before credentials go over plain http to another host, and only then', () => {
    expect(connectionWarnings(normaliseConnection({ url: 'http://es.corp:9200', apiKey: 'k' }))).toEqual([expect.stringContaining('clear text')]);
    expect(connectionWarnings(normaliseConnection({ url: 'http://127.0.0.1:9200', apiKey: 'k' }))).toEqual([]);
    expect(connectionWarnings(normaliseConnection({ url: 'https://es.corp:9200', apiKey: 'k' }))).toEqual([]);
    expect(connectionWarnings(normaliseConnection({ url: 'http://es.corp:9200' }))).toEqual([]);
  });
});

describe('engineFromRoot', () => {
  it('recognises OpenSearch and Elasticsearch from GET /', () => {
    expect(engineFromRoot({ cluster_name: 'c', version: { distribution: 'opensearch', number: '2.19.1' } })).toEqual({ flavor: 'opensearch', version: '2.19.1', clusterName: 'c', buildFlavor: undefined });
    expect(engineFromRoot({ cluster_name: 'e', version: { number: '9.2.0', build_flavor: 'default' } })).toMatchObject({ flavor: 'elasticsearch', version: '9.2.0' });
  });

  it('refuses something that is neither', () => {
    expect(() => engineFromRoot({ hello: 'world' })).toThrow(/did not return a version/);
  });
});

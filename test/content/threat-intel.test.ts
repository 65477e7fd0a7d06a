/** The shipped threat-intel seed, and newer copies a user loads, parse into stable indicator documents. */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { ContentError, defaultRoots, loadThreatIntelSeed, parseIntelList } from '../../src/content';

const shared = path.resolve(__dirname, '../../../shared/intel');

describe('threat-intel seed', () => {
  const seed = loadThreatIntelSeed(defaultRoots().integration);

  it('loads both SSLBL lists, one document per listed value, with ids from kind and value', () => {
    const column = (file: string, i: number) => new Set(readFileSync(path.join(defaultRoots().integration, 'threat-intel', file), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.split(',')[i]!.toLowerCase()));
    const rows = (file: string) => column(file, file.includes('ja3') ? 0 : 1).size;
    const ja3 = seed.documents.filter((d) => d._id.startsWith('ja3:'));
    const certs = seed.documents.filter((d) => d._id.startsWith('cert_sha1:'));
    expect(ja3).toHaveLength(rows('abusech_sslbl_ja3_fingerprints_2020-04-09.csv'));
    expect(certs).toHaveLength(rows('abusech_sslbl_sslblacklist_2023-11-14_excerpt.csv'));
    expect(new Set(seed.documents.map((d) => d._id)).size).toBe(seed.documents.length);
  });

  it('writes certificate SHA1s in upper case, as ECS writes tls.server.hash.sha1, and JA3 in lower case', () => {
    const cert = seed.documents.find((d) => d._id === 'cert_sha1:2E3519B7CB61A3CD6167F727DF993F68311085EA');
    expect(cert?.doc).toMatchObject({ cryptochannel: { intel: { kind: 'cert_sha1', reason: 'DCRat C&C' } }, '@timestamp': '2023-11-14T06:52:51.000Z' });
    const ja3 = seed.documents.find((d) => d._id === 'ja3:b386946a5a44d1ddcc843bc75336dfce');
    expect(ja3?.doc).toMatchObject({ threat: { indicator: { first_seen: '2017-07-14T18:08:15.000Z', last_seen: '2019-07-27T20:42:54.000Z', description: 'Dridex' } } });
  });

  it('is the same list as the copy in ../shared/intel it came from', () => {
    const file = 'abusech_sslbl_ja3_fingerprints_2020-04-09.csv';
    expect(readFileSync(path.join(defaultRoots().integration, 'threat-intel', file), 'utf8')).toBe(readFileSync(path.join(shared, file), 'utf8'));
  });

  it('refuses a file of another format, and a malformed row, naming the line', () => {
    expect(() => parseIntelList('x.csv', 'ja4,application\nt13d,chrome\n')).toThrow(ContentError);
    expect(() => parseIntelList('x.csv', '# ja3_md5,Firstseen,Lastseen,Listingreason\nnot-a-hash,2017-07-14 18:08:15,2019-07-27 20:42:54,X\n')).toThrow('line 2');
  });
});

describe('a value listed twice', () => {
  it('becomes one indicator carrying both reasons', () => {
    const docs = parseIntelList('x.csv', '# Listingdate,SHA1,Listingreason\n2023-11-14 06:52:51,2e3519b7cb61a3cd6167f727df993f68311085ea,DCRat C&C\n2023-01-01 00:00:00,2E3519B7CB61A3CD6167F727DF993F68311085EA,AsyncRAT C&C\n');
    expect(docs).toHaveLength(1);
    expect(docs[0]!.doc).toMatchObject({ cryptochannel: { intel: { reason: 'DCRat C&C; AsyncRAT C&C' } } });
  });
});

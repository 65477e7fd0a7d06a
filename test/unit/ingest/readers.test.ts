import { Readable } from 'node:stream';
import { detectFormat, readRecords } from '../../../src/ingest/readers';
import { emptyHeader, readHeaderLine, tsvRecord } from '../../../src/ingest/zeek-tsv';

async function collect(text: string, format: Parameters<typeof readRecords>[1]) {
  const out = [];
  for await (const r of readRecords(Readable.from([text]), format)) out.push(r);
  return out;
}

describe('detectFormat', () => {
  it.each([
    ['#separator \\x09\n#set_separator\t,', 'zeek-tsv'],
    ['### BTest baseline data\n#separator \\x09\n', 'zeek-tsv'],
    ['  [\n {"a":1}]', 'json-array'],
    ['\uFEFF{"a":1}\n{"a":2}', 'ndjson'],
    ['<13>Nov 28 10:00:00 esx01 Hostd: x', 'lines'],
    ['type=SYSCALL msg=audit(1.2:3): x', 'lines'],
    ['{\n  "events": [\n', 'json-document'],
    ['{"truncated": \n{"a":1}', 'ndjson'],
  ])('%j → %s', (head, format) => {
    expect(detectFormat(head)).toBe(format);
  });
});

describe('JSON documents', () => {
  it("gives the elements of Elastic Agent's {events: [...]} shape, and a pretty-printed object as one record", async () => {
    const text = '{\n  "events": [\n    {"a": 1},\n    {"b": 2}\n  ]\n}\n{\n  "c": 3\n}\n';
    const records = await collect(text, 'json-document');
    expect(records).toEqual([
      { message: '{"a":1}', position: 1 },
      { message: '{"b":2}', position: 2 },
      { message: '{"c":3}', position: 3 },
    ]);
  });
});

describe('Zeek TSV', () => {
  const header = emptyHeader();
  for (const line of [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tssl',
    '#fields\tts\tuid\tid.orig_p\tresumed\tserver_name\tcert_chain_fuids\tclient_cert_chain_fuids\tsubject',
    '#types\ttime\tstring\tport\tbool\tstring\tvector[string]\tvector[string]\tstring',
  ]) {
    expect(readHeaderLine(line, header)).toBe(true);
  }

  it('turns a data line into the record the JSON writer would write', () => {
    expect(tsvRecord('1764324000.123456\tCabc\t443\tT\t-\tF1,F2\t(empty)\tCN=a\\x2cb', header)).toEqual({
      _path: 'ssl',
      ts: 1764324000.123456,
      uid: 'Cabc',
      'id.orig_p': 443,
      resumed: true,
      cert_chain_fuids: ['F1', 'F2'],
      client_cert_chain_fuids: [],
      subject: 'CN=a,b',
    });
  });

  it('keeps a masked time as text so that the pipeline refuses it', () => {
    expect(tsvRecord('XXXXXXXXXX.XXXXXX\tCabc\t443\tF\t-\t-\t-\t-', header).ts).toBe('XXXXXXXXXX.XXXXXX');
  });

  it('refuses a data line before #fields', () => {
    expect(() => tsvRecord('1\t2', emptyHeader())).toThrow(/before any #fields/);
  });

  it('reads a whole log, skipping headers, comments and blank lines', async () => {
    const text = ['### BTest', '#separator \\x09', '#path\tconn', '#fields\tts\tuid', '#types\ttime\tstring', '1.5\tC1', '', '2.5\tC2', '#close\t2025'].join('\n');
    const records = await collect(text, 'zeek-tsv');
    expect(records.map((r) => JSON.parse(r.message))).toEqual([
      { _path: 'conn', ts: 1.5, uid: 'C1' },
      { _path: 'conn', ts: 2.5, uid: 'C2' },
    ]);
    expect(records.map((r) => r.position)).toEqual([6, 8]);
  });
});

describe('other readers', () => {
  it('sends each non-blank line whole, with its line number', async () => {
    expect(await collect('a\n\n  \n{"b":1}\r\nc', 'lines')).toEqual([
      { message: 'a', position: 1 },
      { message: '{"b":1}', position: 4 },
      { message: 'c', position: 5 },
    ]);
  });

  it('streams a JSON array element by element', async () => {
    expect(await collect('[{"a":1},\n {"b":[2,3]}, "x"]', 'json-array')).toEqual([
      { message: '{"a":1}', position: 1 },
      { message: '{"b":[2,3]}', position: 2 },
      { message: '"x"', position: 3 },
    ]);
  });
});

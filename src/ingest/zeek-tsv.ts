/**
 * Zeek's TSV log format, driven by its own header (#separator, #set_separator, #empty_field,
 * #unset_field, #path, #fields, #types): each data line becomes the record Zeek's JSON writer
 * would have written, so that one pipeline serves both formats.
 */
export interface ZeekTsvHeader {
  separator: string;
  setSeparator: string;
  emptyField: string;
  unsetField: string;
  path?: string;
  fields: string[];
  types: string[];
}

export function emptyHeader(): ZeekTsvHeader {
  return { separator: '\t', setSeparator: ',', emptyField: '(empty)', unsetField: '-', fields: [], types: [] };
}

function unescape(value: string): string {
  return value.replace(/\\x([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Applies a `#...` header line; returns false when the line is not a header. */
export function readHeaderLine(line: string, header: ZeekTsvHeader): boolean {
  if (!line.startsWith('#')) return false;
  if (line.startsWith('#separator ')) {
    header.separator = unescape(line.slice('#separator '.length));
    return true;
  }
  const parts = line.slice(1).split(header.separator);
  const [key, ...values] = parts;
  switch (key) {
    case 'set_separator':
      header.setSeparator = values[0] ?? ',';
      break;
    case 'empty_field':
      header.emptyField = values[0] ?? '(empty)';
      break;
    case 'unset_field':
      header.unsetField = values[0] ?? '-';
      break;
    case 'path':
      header.path = values[0];
      break;
    case 'fields':
      header.fields = values;
      break;
    case 'types':
      header.types = values;
      break;
    default:
      // #open, #close and comments carry nothing a record needs.
      break;
  }
  return true;
}

function convert(raw: string, type: string, header: ZeekTsvHeader): unknown {
  const container = /^(set|vector|table)\[(.+)\]$/.exec(type);
  if (container) {
    if (raw === header.emptyField) return [];
    return raw.split(header.setSeparator).map((v) => convert(v, container[2]!, header));
  }
  if (raw === header.emptyField) return '';
  switch (type) {
    case 'time':
    case 'interval':
    case 'double':
    case 'count':
    case 'int':
    case 'port': {
      // A masked value (XXXXXXXXXX.XXXXXX in Zeek's test baselines) stays a string: the pipeline
      // dead-letters it rather than anyone inventing a time.
      const n = Number(raw);
      return Number.isFinite(n) && raw.trim() !== '' ? n : raw;
    }
    case 'bool':
      return raw === 'T' ? true : raw === 'F' ? false : raw;
    default:
      return unescape(raw);
  }
}

/** One data line → a Zeek JSON-style record (dotted field names, unset fields left out). */
export function tsvRecord(line: string, header: ZeekTsvHeader): Record<string, unknown> {
  if (!header.fields.length) throw new Error('Zeek TSV data line before any #fields header');
  const values = line.split(header.separator);
  const record: Record<string, unknown> = {};
  if (header.path) record._path = header.path;
  header.fields.forEach((field, i) => {
    const raw = values[i];
    if (raw === undefined || raw === header.unsetField) return;
    record[field] = convert(raw, header.types[i] ?? 'string', header);
  });
  return record;
}

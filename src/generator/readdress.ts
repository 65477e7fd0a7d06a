/**
 * Re-addresses one scenario instance: the identities it names become fleet hosts (names and
 * addresses, every occurrence, so endpoint and sensor records of one session keep agreeing), the
 * session and process ids become new ones (the same new id wherever the template repeats it), and a
 * community id a sensor wrote is recomputed from the new 5-tuple.
 */
import { communityId } from './community-id';
import { IDENTITIES, type FleetHost, type Identity } from './fleet';
import type { Random } from './random';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ipPattern = (ip: string): RegExp => new RegExp(`(?<![\\d.])${escape(ip)}(?![\\d]|\\.\\d)`, 'g');
const namePattern = (name: string): RegExp => new RegExp(`(?<![\\w-])${escape(name)}(?![\\w-])`, 'gi');

/** The identities a scenario's texts mention, by address or name. */
export function identitiesIn(texts: readonly string[]): Identity[] {
  const all = texts.join('\n');
  return IDENTITIES.filter((id) => ipPattern(id.ip).test(all) || id.names.some((n) => namePattern(n).test(all)));
}

const ID_KEYS = /"(?:uid|fuid|id|cert_chain_fuids|client_cert_chain_fuids|conn_uids|ProcessGuid|ParentProcessGuid|exec_id|parent_exec_id|flow_id)"\s*:\s*(\[[^\]]*\]|"[^"]*"|\d+)/g;

function idShape(token: string): 'zeek' | 'guid' | 'base64' | 'number' | undefined {
  if (/^[CF][A-Za-z0-9]{8,}$/.test(token)) return 'zeek';
  if (/^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$/.test(token)) return 'guid';
  if (/^\d{6,}$/.test(token)) return 'number';
  if (/^[A-Za-z0-9+/]{8,}={0,2}$/.test(token) && token.length % 4 === 0) return 'base64';
  return undefined;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function newId(token: string, random: Random): string {
  switch (idShape(token)) {
    case 'zeek':
      return token[0] + Array.from({ length: token.length - 1 }, () => ALNUM[random.int(ALNUM.length)]).join('');
    case 'guid': {
      const upper = token === token.toUpperCase();
      const h = random.hex(32);
      const g = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      const body = upper ? g.toUpperCase() : g;
      return token.startsWith('{') ? `{${body}}` : body;
    }
    case 'number':
      return String(1 + random.int(9)) + Array.from({ length: token.length - 1 }, () => String(random.int(10))).join('');
    case 'base64': {
      const bytes = Buffer.from(token, 'base64').length;
      return Buffer.from(random.hex(bytes * 2), 'hex').toString('base64');
    }
    default:
      return token;
  }
}

/** Session, file and process ids of the texts, in order of appearance. */
export function idsIn(texts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(ID_KEYS)) {
      const value = m[1]!;
      const tokens = value.startsWith('[') ? [...value.matchAll(/"([^"]*)"/g)].map((x) => x[1]!) : [value.replace(/^"|"$/g, '')];
      for (const t of tokens) if (idShape(t)) out.add(t);
    }
  }
  return [...out];
}

const str = (text: string, key: string): string | undefined => new RegExp(`"${key}"\\s*:\\s*"([^"]*)"`).exec(text)?.[1];
const num = (text: string, key: string): number | undefined => {
  const m = new RegExp(`"${key}"\\s*:\\s*(\\d+)`).exec(text);
  return m ? Number(m[1]) : undefined;
};

/** A JSON record carrying a community id (Suricata): recompute it from its own 5-tuple. */
export function fixCommunityId(text: string): string {
  if (!text.includes('"community_id"')) return text;
  const [src, dst, proto] = [str(text, 'src_ip'), str(text, 'dest_ip'), str(text, 'proto')];
  const [sp, dp] = [num(text, 'src_port'), num(text, 'dest_port')];
  if (!src || !dst || !proto || sp === undefined || dp === undefined || !/^[\d.]+$/.test(src + dst)) return text;
  let id: string;
  try {
    id = communityId(src, sp, dst, dp, proto);
  } catch {
    return text;
  }
  return text.replace(/"community_id"\s*:\s*"[^"]*"/g, `"community_id":${JSON.stringify(id)}`);
}

/** Where a raw record writes a process id: JSON keys, audit's key=value, CAPI2's attribute, a syslog tag. */
const PID_CONTEXTS = [
  /("(?:pid|ppid|ProcessId|ParentProcessId|processID|ProcessID)"\s*:\s*"?)(\d+)/g,
  /(\b(?:pid|ppid)=)(\d+)/g,
  /(ProcessID=')(\d+)/g,
  /(\b[A-Za-z][\w-]*\[)(\d+)(?=\])/g,
  /(\(pid )(\d+)/g,
];

/** The same process twice on one host is two processes: every pid of an instance gets a new one (the same wherever it repeats). */
function renewPids(texts: readonly string[], random: Random): string[] {
  const pids = new Map<string, string>();
  const renew = (pid: string): string => {
    if (Number(pid) < 10) return pid; // the kernel's and launchd's own
    let next = pids.get(pid);
    if (!next) {
      next = String(1000 + random.int(4_000_000));
      pids.set(pid, next);
    }
    return next;
  };
  return texts.map((text) => PID_CONTEXTS.reduce((t, re) => t.replace(re, (_m, prefix: string, pid: string) => `${prefix}${renew(pid)}`), text));
}

/** Where a raw record writes a TCP/UDP port: JSON keys (Zeek, Suricata, NetFlow, Sysmon, Tetragon) and ESXi's stream dump. */
const PORT_CONTEXTS = [/("[A-Za-z_.]*(?:port|_p|Port)"\s*:\s*"?)(\d+)/g, /(<TCP '[\d.:a-fA-F]+ : )(\d+)/g];
const EPHEMERAL = 32768;

/**
 * A client's ephemeral port is new for every connection: each instance gets new ones (the same
 * wherever the instance repeats one), so two instances on one host never share a 5-tuple, hence a
 * community id. Service ports (below the ephemeral range) stay.
 */
function renewPorts(texts: readonly string[], random: Random): string[] {
  const ports = new Map<string, string>();
  const renew = (port: string): string => {
    if (Number(port) < EPHEMERAL || Number(port) > 65535) return port;
    let next = ports.get(port);
    if (!next) {
      next = String(EPHEMERAL + random.int(61000 - EPHEMERAL));
      ports.set(port, next);
    }
    return next;
  };
  return texts.map((text) => PORT_CONTEXTS.reduce((t, re) => t.replace(re, (_m, prefix: string, port: string) => `${prefix}${renew(port)}`), text));
}

export function readdress(texts: readonly string[], hosts: ReadonlyMap<string, FleetHost>, random: Random): string[] {
  const ids = new Map(idsIn(texts).map((t) => [t, newId(t, random)]));
  return renewPorts(renewPids(texts, random), random).map((original) => {
    let text = original;
    for (const [key, host] of hosts) {
      const identity = IDENTITIES.find((i) => i.key === key)!;
      text = text.replace(ipPattern(identity.ip), host.ip);
      for (const name of identity.names) {
        text = text.replace(namePattern(name), (m) => (m === m.toLowerCase() ? host.name.toLowerCase() : host.name));
      }
    }
    for (const [from, to] of ids) text = text.replace(new RegExp(`(?<![\\w+/=-])${escape(from)}(?![\\w+/=-])`, 'g'), to);
    return fixCommunityId(text);
  });
}

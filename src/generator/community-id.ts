import { createHash } from 'node:crypto';

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, sctp: 132 };

function ipBytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

/** Community ID v1 (seed 0) of an IPv4 5-tuple, as Zeek, Suricata and the pipelines compute it. */
export function communityId(srcIp: string, srcPort: number, dstIp: string, dstPort: number, proto: string): string {
  const p = PROTOCOLS[proto.toLowerCase()];
  if (p === undefined) throw new Error(`unknown protocol ${proto}`);
  let a = ipBytes(srcIp);
  let b = ipBytes(dstIp);
  let pa = srcPort;
  let pb = dstPort;
  const order = Buffer.compare(a, b);
  if (order > 0 || (order === 0 && pa > pb)) [a, b, pa, pb] = [b, a, pb, pa];
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(pa, 0);
  ports.writeUInt16BE(pb, 2);
  const input = Buffer.concat([Buffer.from([0, 0]), a, b, Buffer.from([p, 0]), ports]);
  return `1:${createHash('sha1').update(input).digest('base64')}`;
}

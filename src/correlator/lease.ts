/**
 * Scale-out: correlator processes share the partitions of a scope through lease documents in
 * `cryptochannel-state`, each written only over the revision read (if_seq_no / if_primary_term), so
 * two processes can never both win the same lease write. A lease names its owner and an expiry; the
 * owner renews it every run (and during long runs). A process that dies stops renewing, its leases
 * expire after the TTL, and the others take its partitions over.
 *
 * Processes also keep a heartbeat in one members document, so that each can take its fair share
 * (ceil(partitions / live members)) and hand back the rest, instead of the first one holding all.
 *
 * Leases divide the work; they are not what keeps alerts exactly-once (deterministic ids and
 * `create` do that, and checkpoints are written over their own revision). Clocks: expiry is compared
 * with the reader's clock, so correlator hosts must agree to well within the TTL (NTP).
 */
import { createHash } from 'node:crypto';
import { encodePath, type ClusterClient } from '../cluster';
import { STATE_INDEX } from './checkpoint';

export interface LeaseOptions {
  scope: string;
  partitions: number;
  owner: string;
  ttlMs: number;
  now: () => number;
  index?: string;
}

interface LeaseDoc {
  kind: 'correlator-lease';
  scope: string;
  partition: number;
  partitions: number;
  owner: string;
  /** Epoch ms; 0 when released. */
  expires_at: number;
  updated_at: string;
}

interface MembersDoc {
  kind: 'correlator-members';
  scope: string;
  partitions: number;
  members: Array<{ owner: string; expires_at: number }>;
  updated_at: string;
}

interface Versioned<T> {
  found: boolean;
  source?: T;
  seqNo?: number;
  primaryTerm?: number;
}

export function leaseId(scope: string, partition: number, partitions: number): string {
  return `correlator-lease:${scope}:${partition}of${partitions}`;
}

function membersId(scope: string, partitions: number): string {
  return `correlator-members:${scope}:${partitions}`;
}

export interface LeaseState {
  partition: number;
  owner?: string;
  expiresAt?: number;
}

export class Leases {
  private readonly held = new Map<number, { seqNo: number; primaryTerm: number }>();
  private readonly index: string;

  constructor(
    private readonly client: ClusterClient,
    private readonly options: LeaseOptions,
  ) {
    this.index = options.index ?? STATE_INDEX;
  }

  /** The partitions this process holds now, ascending. */
  get partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Heartbeat, then renew what is held, take free or expired leases up to the fair share, and hand back the excess. */
  async balance(): Promise<number[]> {
    const members = await this.heartbeat();
    const { partitions } = this.options;
    const target = Math.ceil(partitions / Math.max(1, members));
    const docs = await this.readLeases();
    const now = this.options.now();
    for (const [p, doc] of docs) {
      if (doc.source?.owner === this.options.owner && (doc.source.expires_at > now || this.held.has(p))) await this.write(p, doc);
      else this.held.delete(p);
    }
    // Start at a place of our own so that processes starting together do not all race for partition 0.
    const offset = createHash('sha256').update(this.options.owner).digest().readUInt32BE(0) % partitions;
    for (let i = 0; i < partitions && this.held.size < target; i++) {
      const p = (offset + i) % partitions;
      const doc = docs.get(p)!;
      if (this.held.has(p)) continue;
      if (!doc.found || (doc.source?.expires_at ?? 0) <= now) await this.write(p, doc);
    }
    for (const p of this.partitions.slice(target)) await this.releaseOne(p);
    return this.partitions;
  }

  /** Extends every held lease; returns the partitions lost to another process (taken after expiry). */
  async renew(): Promise<number[]> {
    const lost: number[] = [];
    for (const p of this.partitions) {
      const version = this.held.get(p)!;
      if (!(await this.write(p, { found: true, seqNo: version.seqNo, primaryTerm: version.primaryTerm }))) lost.push(p);
    }
    return lost;
  }

  /** Gives every lease back (expiry 0) and leaves the members list, so that others take over at once. */
  async release(signal?: AbortSignal): Promise<void> {
    for (const p of this.partitions) await this.releaseOne(p, signal);
    await this.updateMembers((members) => members.filter((m) => m.owner !== this.options.owner), signal);
  }

  /** Who holds what (for the run summary and the tests). */
  async state(): Promise<LeaseState[]> {
    const docs = await this.readLeases();
    return [...docs].map(([partition, d]) => ({ partition, owner: d.source?.owner || undefined, expiresAt: d.source?.expires_at }));
  }

  private async readLeases(): Promise<Map<number, Versioned<LeaseDoc>>> {
    const { scope, partitions } = this.options;
    const ids = Array.from({ length: partitions }, (_, p) => leaseId(scope, p, partitions));
    const { body } = await this.client.request<{ docs: Array<{ found?: boolean; _source?: LeaseDoc; _seq_no?: number; _primary_term?: number }> }>({
      method: 'POST',
      path: `${encodePath(this.index)}/_mget`,
      body: { ids },
      idempotent: true,
    });
    return new Map(body.docs.map((d, p) => [p, { found: d.found === true, source: d._source, seqNo: d._seq_no, primaryTerm: d._primary_term }]));
  }

  /** Writes our lease over the version read; false (and not held) when someone else wrote first. */
  private async write(partition: number, read: Versioned<unknown>, expiresAt?: number): Promise<boolean> {
    const { scope, partitions, owner, ttlMs, now } = this.options;
    const doc: LeaseDoc = { kind: 'correlator-lease', scope, partition, partitions, owner: expiresAt === 0 ? '' : owner, expires_at: expiresAt ?? now() + ttlMs, updated_at: new Date(now()).toISOString() };
    const concurrency = read.found ? { if_seq_no: read.seqNo, if_primary_term: read.primaryTerm } : { op_type: 'create' };
    const res = await this.client.request<{ _seq_no: number; _primary_term: number }>({
      method: 'PUT',
      path: encodePath(this.index, '_doc', leaseId(scope, partition, partitions)),
      query: concurrency,
      body: doc,
      ignore: [409],
    });
    if (res.status === 409 || expiresAt === 0) {
      this.held.delete(partition);
      return res.status !== 409;
    }
    this.held.set(partition, { seqNo: res.body._seq_no, primaryTerm: res.body._primary_term });
    return true;
  }

  private async releaseOne(partition: number, signal?: AbortSignal): Promise<void> {
    const version = this.held.get(partition);
    if (!version) return;
    signal?.throwIfAborted();
    await this.write(partition, { found: true, seqNo: version.seqNo, primaryTerm: version.primaryTerm }, 0);
  }

  /** Adds or refreshes our heartbeat, drops expired ones; returns the number of live members (us included). */
  private async heartbeat(): Promise<number> {
    const { owner, ttlMs, now } = this.options;
    const members = await this.updateMembers((list) => [...list.filter((m) => m.owner !== owner && m.expires_at > now()), { owner, expires_at: now() + ttlMs }]);
    return members.length;
  }

  private async updateMembers(change: (members: MembersDoc['members']) => MembersDoc['members'], signal?: AbortSignal): Promise<MembersDoc['members']> {
    const { scope, partitions, now } = this.options;
    const path = encodePath(this.index, '_doc', membersId(scope, partitions));
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const got = await this.client.request<{ found?: boolean; _source?: MembersDoc; _seq_no?: number; _primary_term?: number }>({ method: 'GET', path, ignore: [404], signal });
      const found = got.status !== 404 && got.body.found === true;
      const members = change(found ? (got.body._source?.members ?? []) : []);
      const doc: MembersDoc = { kind: 'correlator-members', scope, partitions, members, updated_at: new Date(now()).toISOString() };
      const concurrency = found ? { if_seq_no: got.body._seq_no, if_primary_term: got.body._primary_term } : { op_type: 'create' };
      const put = await this.client.request({ method: 'PUT', path, query: concurrency, body: doc, ignore: [409], signal });
      if (put.status !== 409) return members;
      // Another process changed the list between our read and write: read it again.
      if (attempt >= 20) throw new Error(`could not update the correlator members list ${membersId(scope, partitions)}: too many concurrent changes`);
      await new Promise((r) => setTimeout(r, Math.random() * 50 * (attempt + 1)));
    }
  }
}

/**
 * Checkpoints live in the cluster (`cryptochannel-state`, one document per scope and partition), so
 * that any correlator process can resume any partition. A checkpoint T means: every alert whose
 * newest evidence is older than T has been written. It is written only after the run's alerts are,
 * and only over the revision the run read (if_seq_no / if_primary_term): when another process moved
 * it meanwhile, its value stands and this run's is dropped. Either value keeps the promise above, so
 * a race costs a repeated window (whose alerts `create` refuses), never a lost alert.
 */
import { ClusterError, encodePath, type ClusterClient } from '../cluster';

export const STATE_INDEX = 'cryptochannel-state';

/** Reads use GET by id (real time), so the index needs no mapping of its own; dynamic: false keeps lease and member fields out of it. */
const STATE_MAPPINGS = {
  dynamic: false,
  properties: { kind: { type: 'keyword' }, scope: { type: 'keyword' }, partition: { type: 'integer' }, updated_at: { type: 'date' } },
};

/**
 * Creates an index of ours when missing; another process (or the deployer) creating it first is
 * fine. No existence probe first: HEAD needs a metadata privilege the correlator's role lacks, while
 * creating needs only create_index, which it has.
 */
export async function ensureIndex(client: ClusterClient, index: string, mappings: Record<string, unknown>): Promise<void> {
  const created = await client.request<{ error?: { type?: string } }>({ method: 'PUT', path: encodePath(index), body: { mappings }, ignore: [400] });
  if (created.status === 400 && created.body.error?.type !== 'resource_already_exists_exception') {
    throw new ClusterError({ kind: 'response', status: 400, type: created.body.error?.type, message: `creating ${index} failed: ${JSON.stringify(created.body.error)}` });
  }
}

export function ensureStateIndex(client: ClusterClient, index = STATE_INDEX): Promise<void> {
  return ensureIndex(client, index, STATE_MAPPINGS);
}

/** `*` when the correlator reads every namespace, else the namespace it was narrowed to. */
export function scopeOf(namespace?: string): string {
  return namespace ?? '*';
}

export function checkpointId(scope: string, partition: number, partitions: number): string {
  return `correlator-checkpoint:${scope}:${partition}of${partitions}`;
}

export interface Checkpoint {
  partition: number;
  /** Epoch ms; undefined when this partition has never completed a run. */
  time?: number;
  seqNo?: number;
  primaryTerm?: number;
}

interface CheckpointDoc {
  kind: 'correlator-checkpoint';
  scope: string;
  partition: number;
  partitions: number;
  checkpoint: string;
  run_id: string;
  owner: string;
  updated_at: string;
}

export async function readCheckpoint(client: ClusterClient, scope: string, partition: number, partitions: number, index = STATE_INDEX): Promise<Checkpoint> {
  const res = await client.request<{ found?: boolean; _source?: CheckpointDoc; _seq_no?: number; _primary_term?: number }>({
    method: 'GET',
    path: encodePath(index, '_doc', checkpointId(scope, partition, partitions)),
    ignore: [404],
  });
  if (res.status === 404 || !res.body.found || !res.body._source) return { partition };
  const time = Date.parse(res.body._source.checkpoint);
  return { partition, time: Number.isFinite(time) ? time : undefined, seqNo: res.body._seq_no, primaryTerm: res.body._primary_term };
}

/**
 * Moves a checkpoint over the revision read at the start of the run. Returns false when another
 * process moved it meanwhile (409): its value is kept.
 */
export async function writeCheckpoint(
  client: ClusterClient,
  read: Checkpoint,
  next: { scope: string; partitions: number; time: number; runId: string; owner: string; now: number },
  index = STATE_INDEX,
): Promise<boolean> {
  const doc: CheckpointDoc = {
    kind: 'correlator-checkpoint',
    scope: next.scope,
    partition: read.partition,
    partitions: next.partitions,
    checkpoint: new Date(next.time).toISOString(),
    run_id: next.runId,
    owner: next.owner,
    updated_at: new Date(next.now).toISOString(),
  };
  const concurrency = read.seqNo !== undefined ? { if_seq_no: read.seqNo, if_primary_term: read.primaryTerm } : { op_type: 'create' };
  const res = await client.request({
    method: 'PUT',
    path: encodePath(index, '_doc', checkpointId(next.scope, read.partition, next.partitions)),
    query: { ...concurrency, refresh: 'true' },
    body: doc,
    ignore: [409],
  });
  return res.status !== 409;
}

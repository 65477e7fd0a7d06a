/**
 * A stand-in for the few Kibana endpoints the deployer calls (Kibana cannot run here). It is a
 * contract check, not a simulation: every rule body is validated against Kibana's own published
 * rule schema (../shared/reference, through src/content/kibana-rule-schema), every write must carry
 * `kbn-xsrf`, and every request is recorded so tests can assert what was sent. Storage is a map.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatRuleSchemaProblems, ruleSchemaValidator } from '../../../src/content/kibana-rule-schema';

export interface RecordedRequest {
  method: string;
  /** The path as sent, space prefix included. */
  rawPath: string;
  /** The path without the space prefix. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  problem?: string;
}

interface Stored {
  rules: Map<string, Record<string, unknown>>;
  lists: Map<string, Record<string, unknown>>;
  items: Map<string, Record<string, unknown>>;
  savedObjects: Map<string, Record<string, unknown>>;
}

export interface KibanaStub {
  url: string;
  requests: RecordedRequest[];
  stored: Stored;
  /** Requests the stub refused as contract violations (schema, missing kbn-xsrf, unknown endpoint). */
  violations(): RecordedRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

/** The NDJSON file of a multipart/form-data upload (the saved-objects import). */
function multipartFile(body: string, contentType: string): string | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return undefined;
  for (const part of body.split(`--${b}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0 || !/filename=/.test(part.slice(0, split))) continue;
    return part.slice(split + 4).replace(/\r\n$/, '');
  }
  return undefined;
}

export async function startKibanaStub(): Promise<KibanaStub> {
  const validator = ruleSchemaValidator();
  const stored: Stored = { rules: new Map(), lists: new Map(), items: new Map(), savedObjects: new Map() };
  const requests: RecordedRequest[] = [];
  let nextId = 1;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const query = Object.fromEntries(url.searchParams.entries());
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    let body: unknown = raw;
    if (contentType.startsWith('application/json') && raw) body = JSON.parse(raw);
    const path = url.pathname.replace(/^\/s\/[^/]+/, '');
    const record: RecordedRequest = { method: req.method ?? 'GET', rawPath: url.pathname, path, query, body, status: 200 };
    requests.push(record);
    const send = (status: number, payload: unknown, problem?: string) => {
      record.status = status;
      record.problem = problem;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const refuse = (problem: string) => send(400, { statusCode: 400, error: 'Bad Request', message: problem }, problem);
    const notFound = (what: string) => send(404, { statusCode: 404, error: 'Not Found', message: `${what} not found` });

    if (record.method !== 'GET' && req.headers['kbn-xsrf'] === undefined) return refuse('Request must contain a kbn-xsrf header.');

    // Detection rules.
    if (path === '/api/detection_engine/rules') {
      const ruleId = record.method === 'GET' || record.method === 'DELETE' ? query.rule_id : (body as { rule_id?: string }).rule_id;
      if (!ruleId) return refuse('rule_id is required');
      if (record.method === 'GET') return stored.rules.has(ruleId) ? send(200, stored.rules.get(ruleId)) : notFound(`rule_id: "${ruleId}"`);
      if (record.method === 'DELETE') return stored.rules.delete(ruleId) ? send(200, { rule_id: ruleId }) : notFound(`rule_id: "${ruleId}"`);
      const problems = record.method === 'PUT' ? validator.validateUpdate(body) : validator.validate(body);
      if (problems.length) return refuse(formatRuleSchemaProblems(problems));
      if (record.method === 'POST') {
        if (stored.rules.has(ruleId)) return send(409, { statusCode: 409, error: 'Conflict', message: `rule_id: "${ruleId}" already exists` });
        const rule = { ...(body as object), id: `rule-${nextId++}`, enabled: (body as { enabled?: boolean }).enabled ?? true };
        stored.rules.set(ruleId, rule);
        return send(200, rule);
      }
      if (record.method === 'PUT') {
        const existing = stored.rules.get(ruleId);
        if (!existing) return notFound(`rule_id: "${ruleId}"`);
        const rule = { ...(body as object), id: existing.id };
        stored.rules.set(ruleId, rule);
        return send(200, rule);
      }
    }

    // Exception lists and their items.
    if (path === '/api/exception_lists') {
      const listId = record.method === 'GET' || record.method === 'DELETE' ? query.list_id : (body as { list_id?: string }).list_id;
      if (!listId) return refuse('list_id is required');
      if (record.method === 'GET') return stored.lists.has(listId) ? send(200, stored.lists.get(listId)) : notFound(`exception list list_id: "${listId}"`);
      if (record.method === 'DELETE') {
        for (const [k, item] of stored.items) if (item.list_id === listId) stored.items.delete(k);
        return stored.lists.delete(listId) ? send(200, { list_id: listId }) : notFound(`exception list list_id: "${listId}"`);
      }
      const b = body as Record<string, unknown>;
      for (const field of ['name', 'description', 'type']) if (typeof b[field] !== 'string') return refuse(`${field} is required`);
      if (!['detection', 'rule_default', 'endpoint', 'endpoint_trusted_apps', 'endpoint_events', 'endpoint_host_isolation_exceptions', 'endpoint_blocklists'].includes(String(b.type))) return refuse(`invalid type ${String(b.type)}`);
      if (record.method === 'POST' && stored.lists.has(listId)) return send(409, { statusCode: 409, error: 'Conflict', message: `exception list id: "${listId}" already exists` });
      const list = { ...b, id: `list-${nextId++}`, namespace_type: b.namespace_type ?? 'single' };
      stored.lists.set(listId, list);
      return send(200, list);
    }
    if (path === '/api/exception_lists/items/_find') {
      const items = [...stored.items.values()].filter((i) => i.list_id === query.list_id);
      return send(200, { data: items, page: 1, per_page: items.length, total: items.length });
    }
    if (path === '/api/exception_lists/items') {
      if (record.method === 'DELETE') return stored.items.delete(query.item_id ?? '') ? send(200, {}) : notFound(`item_id: "${query.item_id}"`);
      const b = body as Record<string, unknown>;
      if (!stored.lists.has(String(b.list_id))) return notFound(`exception list list_id: "${String(b.list_id)}"`);
      if (!Array.isArray(b.entries) || b.entries.length === 0) return refuse('entries must be a non-empty array');
      for (const e of b.entries as Array<Record<string, unknown>>) {
        if (typeof e.field !== 'string' || !['match', 'match_any', 'wildcard', 'exists', 'list', 'nested'].includes(String(e.type)) || !['included', 'excluded'].includes(String(e.operator))) return refuse(`invalid entry ${JSON.stringify(e)}`);
      }
      if (record.method === 'POST' && stored.items.has(String(b.item_id))) return send(409, { statusCode: 409, error: 'Conflict', message: `item_id: "${String(b.item_id)}" already exists` });
      stored.items.set(String(b.item_id), { ...b, id: `item-${nextId++}` });
      return send(200, stored.items.get(String(b.item_id)));
    }

    // Saved objects.
    if (path === '/api/saved_objects/_import' && record.method === 'POST') {
      const file = multipartFile(raw, contentType);
      if (file === undefined) return refuse('expected a multipart/form-data upload with an NDJSON file');
      let count = 0;
      for (const line of file.split('\n').filter((l) => l.trim())) {
        const obj = JSON.parse(line) as { type?: string; id?: string; attributes?: unknown };
        if (!obj.type || !obj.id || typeof obj.attributes !== 'object') return refuse(`not a saved object: ${line.slice(0, 80)}`);
        if (stored.savedObjects.has(`${obj.type}/${obj.id}`) && query.overwrite !== 'true') continue;
        stored.savedObjects.set(`${obj.type}/${obj.id}`, obj as Record<string, unknown>);
        count += 1;
      }
      return send(200, { success: true, successCount: count });
    }
    if (path === '/api/saved_objects/_bulk_get' && record.method === 'POST') {
      const wanted = body as Array<{ type: string; id: string }>;
      return send(200, {
        saved_objects: wanted.map((w) => stored.savedObjects.get(`${w.type}/${w.id}`) ?? { type: w.type, id: w.id, error: { statusCode: 404, error: 'Not Found', message: 'Saved object not found' } }),
      });
    }
    const so = /^\/api\/saved_objects\/([^/]+)\/([^/]+)$/.exec(path);
    if (so && record.method === 'DELETE') return stored.savedObjects.delete(`${so[1]}/${decodeURIComponent(so[2]!)}`) ? send(200, {}) : notFound('saved object');
    if (path === '/api/status') return send(200, { version: { number: '8.19.0' }, status: { overall: { level: 'available' } } });

    return send(404, { statusCode: 404, error: 'Not Found', message: `the stub does not know ${record.method} ${path}` }, `unknown endpoint ${record.method} ${path}`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 500, error: 'Internal Server Error', message: err.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stored,
    violations: () => requests.filter((r) => r.problem !== undefined),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

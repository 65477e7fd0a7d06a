/**
 * An HTTP proxy on loopback in front of the real engine that injects faults into the next
 * requests: an error status, or a connection reset. Everything else is forwarded unchanged,
 * so the engine's real answers reach the client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = { status: number; body?: unknown } | 'reset';

export interface SeenRequest {
  method: string;
  path: string;
  authorization?: string;
  faulted: boolean;
}

export class FaultProxy {
  private readonly server: http.Server;
  private readonly faults: Fault[] = [];
  readonly seen: SeenRequest[] = [];

  private constructor(private readonly target: URL) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  static async start(targetUrl: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(new URL(targetUrl));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next requests get these faults, in order; later ones pass through. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const fault = this.faults.shift();
    this.seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, faulted: fault !== undefined });
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault) {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(fault.body ?? { error: { type: 'injected', reason: `injected ${fault.status}` }, status: fault.status }));
      return;
    }
    const upstream = http.request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  }
}

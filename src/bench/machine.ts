import os from 'node:os';
import type { ClusterClient } from '../cluster';

export interface MachineInfo {
  cpus: number;
  cpu_model: string;
  memory_gb: number;
  platform: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpu_model: cpus[0]?.model.trim() ?? 'unknown', memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, platform: `${os.platform()} ${os.release()} ${os.arch()}`, node: process.version };
}

export async function engineVersion(client: ClusterClient): Promise<{ flavor: string; version: string }> {
  const { body } = await client.request<{ version?: { number?: string; distribution?: string } }>({ method: 'GET', path: '/', idempotent: true });
  return { flavor: client.flavor, version: body.version?.number ?? 'unknown' };
}

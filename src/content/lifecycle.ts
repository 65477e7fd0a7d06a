/**
 * Lifecycle policies as content: ILM for Elasticsearch, ISM for OpenSearch (where `index.lifecycle.*`
 * is an unknown setting). Installed as `logs-cryptochannel-<name>`.
 */
import path from 'node:path';
import { readYaml } from './files';
import { PRODUCT } from './sources';

export type LifecyclePolicies = Record<string, { policy: Record<string, unknown> }>;

export function loadLifecycle(integrationRoot: string, flavor: 'elasticsearch' | 'opensearch'): LifecyclePolicies {
  return readYaml<LifecyclePolicies>(path.join(integrationRoot, 'lifecycle', flavor === 'elasticsearch' ? 'elasticsearch-ilm.yml' : 'opensearch-ism.yml'));
}

export function lifecyclePolicyName(name: string): string {
  return `logs-${PRODUCT}-${name}`;
}

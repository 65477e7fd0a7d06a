/**
 * The generated fleet. Every internal host the scenario templates name (test/fixtures/correlator/
 * <an>/raw) is an identity: its names as the fixtures write them and its address. The fleet holds
 * clones of each identity, in the same /24 (so InternalNetworks and every subnet fact stay as the
 * template had them) with a new last octet and a name numbered after it. Attack clones and benign
 * clones are disjoint, so a benign host never carries an attack. Sensors and shared infrastructure
 * (the vCenter, a domain controller, the VPN portal, the backup server, the NetFlow exporters, the
 * Suricata sensor) are not cloned: every scenario sees the same ones.
 */

export type Os = 'windows' | 'linux' | 'macos' | 'esxi' | 'unknown';

export interface Identity {
  key: string;
  os: Os;
  /** The address in the templates. */
  ip: string;
  /** Host-name tokens as the templates write them (matched case-insensitively, whole tokens). */
  names: string[];
  /** The clone's short name, from its number. */
  cloneName: (n: number) => string;
  /** Domain suffixes the templates append to the name. */
  suffixes: string[];
}

const n3 = (n: number): string => String(n).padStart(3, '0');

export const IDENTITIES: readonly Identity[] = [
  { key: 'wks-fin', os: 'windows', ip: '10.20.30.42', names: ['WKS-FIN-042'], cloneName: (n) => `WKS-FIN-${n3(n)}`, suffixes: ['.corp.example.com'] },
  { key: 'wks-eng', os: 'windows', ip: '10.20.40.117', names: ['WKS-ENG-117'], cloneName: (n) => `WKS-ENG-${n3(n)}`, suffixes: ['.corp.example.com'] },
  { key: 'wks-ops', os: 'windows', ip: '10.20.30.43', names: [], cloneName: (n) => `WKS-OPS-${n3(n)}`, suffixes: ['.corp.example.com'] },
  { key: 'wks-hr', os: 'windows', ip: '10.20.30.55', names: [], cloneName: (n) => `WKS-HR-${n3(n)}`, suffixes: ['.corp.example.com'] },
  { key: 'wks-sal', os: 'windows', ip: '10.20.30.77', names: [], cloneName: (n) => `WKS-SAL-${n3(n)}`, suffixes: ['.corp.example.com'] },
  { key: 'wks-mkt', os: 'windows', ip: '10.20.30.90', names: [], cloneName: (n) => `WKS-MKT-${n3(n)}`, suffixes: ['.corp.example.com'] },
  { key: 'web', os: 'linux', ip: '10.20.30.41', names: ['web-01'], cloneName: (n) => `web-${n3(n)}`, suffixes: ['.corp.example'] },
  { key: 'app', os: 'linux', ip: '192.168.1.20', names: ['app-07'], cloneName: (n) => `app-${n3(n)}`, suffixes: ['.corp.example'] },
  { key: 'db', os: 'linux', ip: '10.40.0.22', names: ['db-02'], cloneName: (n) => `db-${n3(n)}`, suffixes: ['.corp.example'] },
  { key: 'gke', os: 'linux', ip: '10.48.3.17', names: ['gke-prod-pool-1-7041cac0-9s95'], cloneName: (n) => `gke-prod-pool-1-7041cac0-n${n3(n)}`, suffixes: [] },
  { key: 'runner', os: 'linux', ip: '192.168.40.14', names: ['build-runner-04'], cloneName: (n) => `build-runner-${n3(n)}`, suffixes: [] },
  { key: 'mac', os: 'macos', ip: '192.168.1.23', names: [], cloneName: (n) => `mbp-${n3(n)}`, suffixes: ['.corp.example'] },
  { key: 'mac-jdoe', os: 'macos', ip: '192.168.1.40', names: ['mbp-jdoe'], cloneName: (n) => `mbp-dev-${n3(n)}`, suffixes: ['.corp.example'] },
  { key: 'esx', os: 'esxi', ip: '10.10.20.31', names: ['esx01'], cloneName: (n) => `esx${n3(n)}`, suffixes: ['.corp.local'] },
];

/** Shared infrastructure the scenarios keep as they are (also the sensors'). */
export const VCENTER = 'vcsa01.corp.local';
export const INFRASTRUCTURE = [VCENTER, '10.10.30.5', 'dc01.corp.example.com', '10.1.1.10', 'ids-dmz-01', '10.255.0.1', '10.255.0.2'];

export const ATTACK_CLONES = 6;
export const BENIGN_CLONES = 12;
const FIRST_OCTET = 100;

export interface FleetHost {
  identity: Identity;
  name: string;
  ip: string;
  kind: 'attack' | 'benign';
}

/** Every clone, numbered per /24 in a fixed order, so the fleet is the same for every seed. */
export function buildFleet(): { attack: Map<string, FleetHost[]>; benign: Map<string, FleetHost[]> } {
  const nextOctet = new Map<string, number>();
  const attack = new Map<string, FleetHost[]>();
  const benign = new Map<string, FleetHost[]>();
  for (const kind of ['attack', 'benign'] as const) {
    for (const identity of IDENTITIES) {
      const subnet = identity.ip.split('.').slice(0, 3).join('.');
      const hosts: FleetHost[] = [];
      for (let i = 0; i < (kind === 'attack' ? ATTACK_CLONES : BENIGN_CLONES); i++) {
        const octet = nextOctet.get(subnet) ?? FIRST_OCTET;
        if (octet > 254) throw new Error(`fleet: ${subnet}.0/24 is full`);
        nextOctet.set(subnet, octet + 1);
        hosts.push({ identity, name: identity.cloneName(octet), ip: `${subnet}.${octet}`, kind });
      }
      (kind === 'attack' ? attack : benign).set(identity.key, hosts);
    }
  }
  return { attack, benign };
}

/** The names and addresses an alert's host.* may carry for a fleet host. */
export function hostAliases(host: FleetHost): string[] {
  const names = [host.name, ...host.identity.suffixes.map((s) => `${host.name}${s}`)];
  return [...new Set([...names, ...names.map((n) => n.toLowerCase()), host.ip])];
}

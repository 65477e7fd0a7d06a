import { defaultRoots, loadContent, loadDetectionContent } from '../../../src/content';
import { BundleError, bundleFiles, desiredFromBundle } from '../../../src/plan/bundle';
import { offlineAssets } from '../../../src/plan/desired';

describe('bundles', () => {
  const content = loadContent(defaultRoots());
  const detection = loadDetectionContent(content.roots);

  it.each(['opensearch', 'elasticsearch'] as const)('round-trip the %s assets: what is read back is what was written', (flavor) => {
    const desired = offlineAssets(content, detection, { flavor, packageVersion: '9.9.9', now: '2026-12-01T00:00:00Z' });
    const files = bundleFiles(desired, { package_version: '9.9.9', flavor, created: '2026-12-01T00:00:00Z' });
    const byPath = new Map(files.map((f) => [f.path, f.content]));
    expect(new Set(files.map((f) => f.path)).size).toBe(files.length);
    const back = desiredFromBundle(byPath.get('manifest.json')!, (p) => byPath.get(p)!);
    expect(back.manifest.flavor).toBe(flavor);
    expect(back.desired).toEqual(JSON.parse(JSON.stringify(desired.filter((d) => d.body !== undefined))));
    // Kibana's share belongs to the Elasticsearch flavour only; OpenSearch gets monitors instead.
    expect(back.desired.some((d) => d.kind === 'rule')).toBe(flavor === 'elasticsearch');
    expect(back.desired.some((d) => d.kind === 'monitor')).toBe(flavor === 'opensearch');
  });

  it('refuses what is not a bundle, and names a broken file', () => {
    expect(() => desiredFromBundle('not json', () => '')).toThrow(BundleError);
    expect(() => desiredFromBundle('{"product":"x","format":1,"assets":[]}', () => '')).toThrow('not a cryptochannel bundle');
    const manifest = JSON.stringify({ product: 'cryptochannel', format: 1, assets: [{ kind: 'pipeline', name: 'p', target: 'engine', sha256: 'x', file: 'assets/p.json' }] });
    expect(() => desiredFromBundle(manifest, () => '{broken')).toThrow('assets/p.json');
  });
});

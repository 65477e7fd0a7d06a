import { readFileSync } from 'node:fs';

/** The ECS version of the @elastic/ecs definitions in use (its releases follow ECS's). */
export const EcsVersion: string = (JSON.parse(readFileSync(require.resolve('@elastic/ecs/package.json'), 'utf8')) as { version: string }).version;

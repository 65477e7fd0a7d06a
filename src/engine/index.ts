export * from './errors';
export * from './flavors';
export * from './progress';
export * from './provision';
export * from './node-process';
export { parseJavaVersion } from './tools';

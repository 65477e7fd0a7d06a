export * from './client';
export * from './connection';
export * from './errors';
export * from './connect';
export * from './api';
export * from './capabilities';
export { shouldRetry, type RetryEvent } from './retry';
export * from './kibana';

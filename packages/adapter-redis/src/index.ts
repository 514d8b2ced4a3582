export type { RedisAdapterOptions } from './options.js';
export { createRedisAdapter, type RedisAdapter } from './redis-adapter.js';

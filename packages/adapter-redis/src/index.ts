export type { ClientSideCacheOptions, RedisAdapterOptions } from './options.js';
export { createRedisAdapter, type RedisAdapter } from './redis-adapter.js';

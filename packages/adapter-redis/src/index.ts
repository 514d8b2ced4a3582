export {
  createRedisAdapter,
  type RedisAdapter,
  type RedisAdapterOptions,
} from './redis-adapter.js';

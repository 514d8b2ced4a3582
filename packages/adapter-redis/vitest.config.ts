import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// `REDIS_CLIENT=5` runs the same tests on the `redis` 5 client, installed as `redis-v5`:
// the adapter and the tests then get it wherever they import `redis`, which is 6.
export default process.env.REDIS_CLIENT === '5'
  ? mergeConfig(shared, {
      resolve: { alias: [{ find: /^redis$/, replacement: 'redis-v5' }] },
    })
  : shared;

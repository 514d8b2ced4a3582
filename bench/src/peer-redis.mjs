// A module hook for the benchmark's Redis servers: every `import 'redis'` resolves to the
// benchmark's own copy, as an app's does once it installs @sessionfs/adapter-redis (whose
// `redis` is a peer dependency). In this repository the adapter's own `redis` is its
// development copy, another major; a client the adapter creates (`url`, as
// `clientSideCache` needs) would otherwise run on another client than connect-redis.
const bench = import.meta.url;

export function resolve(specifier, context, nextResolve) {
  if (specifier !== 'redis') return nextResolve(specifier, context);
  return nextResolve(specifier, { ...context, parentURL: bench });
}

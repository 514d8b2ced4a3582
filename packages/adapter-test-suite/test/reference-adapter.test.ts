import { runAdapterSuite } from '../src/index.js';
import { createReferenceAdapter } from '../src/reference-adapter.js';

// The suite checks itself against the smallest complete adapter, in both expiry modes.
runAdapterSuite('reference', { create: () => createReferenceAdapter() });
runAdapterSuite('reference with native expiry', {
  create: () => createReferenceAdapter({ nativeExpiry: true }),
});

export {
  createReferenceAdapter,
  type ReferenceAdapterOptions,
} from './reference-adapter.js';
export { type AdapterSuiteOptions, runAdapterSuite } from './suite.js';

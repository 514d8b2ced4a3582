export {
  type AdapterOperation,
  createFaultyAdapter,
  type Fault,
  type FaultKind,
  type FaultyAdapter,
  type FaultyAdapterOptions,
} from './faulty-adapter.js';
export {
  createMemoryAdapter,
  type MemoryAdapter,
  type MemoryAdapterOptions,
} from './memory-adapter.js';

// Stores a small session in ./sessions through the node adapter, reads it back, and
// counts the visits across runs: run it twice and the counter goes up.
import { fileURLToPath } from 'node:url';
import { createNodeAdapter } from '@sessionfs/adapter-node';

const dir = process.env.SESSIONS_DIR ?? fileURLToPath(new URL('./sessions', import.meta.url));
const adapter = createNodeAdapter({ dir });
const key = 'demo';

const stored = await adapter.read(key);
const session = stored ? JSON.parse(new TextDecoder().decode(stored.data)) : { visits: 0 };
session.visits += 1;
session.lastVisit = new Date().toISOString();

const expiresAt = Date.now() + 60 * 60 * 1000;
await adapter.write(key, new TextEncoder().encode(JSON.stringify(session)), { expiresAt });

const readBack = await adapter.read(key);
const { visits } = JSON.parse(new TextDecoder().decode(readBack.data));
console.log(`sessionfs demo: session "${key}" stored in ${dir}`);
console.log(`  visits: ${visits}`);
console.log(`  expires: ${new Date(readBack.expiresAt).toISOString()}`);
console.log('Run it again and the visit counter goes up.');
await adapter.close();

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../src/index.js';
import { Client, expressVersions, type RunningApp, startApp } from './http-app.js';

describe.each(expressVersions)(
  'log out everywhere through express-session on $name',
  ({ create }) => {
    let root: string;
    const running: Array<RunningApp | FileStore> = [];

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'sessionfs-express-owner-'));
    });

    afterEach(async () => {
      for (const resource of running.splice(0).reverse()) await resource.close();
      await rm(root, { recursive: true, force: true });
    });

    async function serveOwned(): Promise<{ store: FileStore; url: string }> {
      const store = new FileStore({
        dir: join(root, 'sessions'),
        reapInterval: false,
        owner: (session) => session.user,
      });
      running.push(store);
      const app = await startApp(create, store);
      running.push(app);
      return { store, url: app.url };
    }

    it('ends the other devices of a user, keeps this one and other users logged in', async () => {
      const { store, url } = await serveOwned();
      const laptop = new Client(url);
      const phone = new Client(url);
      const colleague = new Client(url);
      await laptop.request('/login/ada', 'POST');
      await phone.request('/login/ada', 'POST');
      await colleague.request('/login/grace', 'POST');
      const ids: string[] = [];
      for await (const [id] of store.sessionsOf('ada')) ids.push(id);
      expect(ids).toHaveLength(2);

      const { body } = await laptop.request('/logout-others', 'POST');
      expect(body).toEqual({ ended: 1 });
      expect((await phone.request('/whoami')).body.user).toBeNull();
      expect((await laptop.request('/whoami')).body.user).toBe('ada');
      expect((await colleague.request('/whoami')).body.user).toBe('grace');
      expect(await store.destroyOwner('ada')).toBe(1);
      expect((await laptop.request('/whoami')).body.user).toBeNull();
    });
  },
);

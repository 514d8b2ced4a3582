import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { fastifySessionFile } from '../src/index.js';
import { type Backend, backends, Client, SECRET } from './build-app.js';

describe.each(Object.entries(backends))('log out everywhere over the %s backend', (_, create) => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function ownedApp(backend: Backend): Promise<FastifyInstance> {
    const app = Fastify();
    await app.register(fastifySessionFile, {
      secret: SECRET,
      cookie: { secure: false },
      store: { ...backend.store, owner: (session) => session.user },
    });
    app.post<{ Params: { user: string } }>('/login/:user', async (request) => {
      await request.session.regenerate();
      request.session.user = request.params.user;
      return { user: request.session.user };
    });
    app.get('/whoami', async (request) => ({ user: request.session.user ?? null }));
    app.post('/logout-others', async (request, reply) => {
      const user = request.session.user;
      if (user === undefined) return reply.code(401).send({ error: 'not logged in' });
      const ended = await app.sessions.destroyOwner(user, { except: request.session.sessionId });
      return { ended };
    });
    await app.ready();
    cleanups.push(() => app.close());
    return app;
  }

  it('ends the other devices of a user, keeps this one and other users logged in', async () => {
    const backend = await create();
    cleanups.push(() => backend.cleanup());
    const app = await ownedApp(backend);
    const laptop = new Client(app);
    const phone = new Client(app);
    const colleague = new Client(app);
    await laptop.json('POST', '/login/ada');
    await phone.json('POST', '/login/ada');
    await colleague.json('POST', '/login/grace');
    const devices: string[] = [];
    for await (const [id] of app.sessions.sessionsOf('ada')) devices.push(id);
    expect(devices).toHaveLength(2);

    expect(await laptop.json('POST', '/logout-others')).toEqual({ ended: 1 });
    expect(await phone.json('GET', '/whoami')).toEqual({ user: null });
    expect(await laptop.json('GET', '/whoami')).toEqual({ user: 'ada' });
    expect(await colleague.json('GET', '/whoami')).toEqual({ user: 'grace' });
  });

  it('refuses log out everywhere without the owner option, with a typed error', async () => {
    const backend = await create();
    cleanups.push(() => backend.cleanup());
    const app = Fastify();
    await app.register(fastifySessionFile, { secret: SECRET, store: backend.store });
    await app.ready();
    cleanups.push(() => app.close());
    await expect(app.sessions.destroyOwner('ada')).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
  });
});

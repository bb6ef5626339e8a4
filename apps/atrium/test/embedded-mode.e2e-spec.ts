import { uniqueName } from '@atrium/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { freePort, startEmbedded, stopProcess as stop } from './test-stack';

/** The default way to run: PGlite and the in-process bus, no servers involved. */
describe('embedded mode (npm start: PGlite + in-process bus)', () => {
  it('serves the API with no servers and keeps data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atrium-embedded-'));
    const port = await freePort();
    try {
      let run = await startEmbedded(dataDir, port);
      await request(run.url).get('/health/ready').expect(200);
      const username = uniqueName('emb');
      const signup = await request(run.url)
        .post('/v2/auth/signup')
        .send({ email: `${username}@example.com`, username, password: 'embedded password' })
        .expect(201);
      const auth = { authorization: `Bearer ${signup.body.data.accessToken}` };
      const id = (await request(run.url).post('/v2/datasets?name=kept').set(auth).expect(201)).body.data.id;
      await request(run.url)
        .post(`/v2/datasets/${id}/items`)
        .set(auth)
        .send([{ a: 1 }, { a: 2 }])
        .expect(201);
      await request(run.url).get(`/v2/datasets/${id}`).expect(200);
      await request(run.url)
        .put('/v2/users/me/settings')
        .set(auth)
        .send({ generalResourceAccess: 'RESTRICTED' })
        .expect(200);
      await request(run.url).get(`/v2/datasets/${id}`).expect(404);
      await stop(run.child);

      run = await startEmbedded(dataDir, port);
      // Same data, same signing secret: the access token from before the restart still works.
      const items = await request(run.url).get(`/v2/datasets/${id}/items`).set(auth).expect(200);
      expect(items.body).toEqual([{ a: 1 }, { a: 2 }]);
      await request(run.url).get(`/v2/datasets/${id}`).expect(404);
      await stop(run.child);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

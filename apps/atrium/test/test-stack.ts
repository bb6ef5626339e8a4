import { createTestDatabase, resetBroker, testGatewayConfig, testServiceConfig, TestDatabase } from '@atrium/testing';
import request from 'supertest';
import { AtriumStack, startAtriumStack } from '../src/atrium-stack';

export interface TestStack {
  stack: AtriumStack;
  db: TestDatabase;
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

/** All services on real RabbitMQ and a fresh PostgreSQL database, the gateway served in-process to supertest. */
export async function startTestStack(gatewayOverrides: Record<string, string> = {}): Promise<TestStack> {
  await resetBroker();
  const db = await createTestDatabase();
  const stack = await startAtriumStack(testServiceConfig(db.url), testGatewayConfig(gatewayOverrides));
  await stack.gateway.getHttpAdapter().getInstance().ready();
  return {
    stack,
    db,
    http: () => request(stack.gateway.getHttpServer()),
    async close() {
      await stack.close();
      await db.drop();
    },
  };
}

export interface SignedUpUser {
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

export async function signUp(t: TestStack, username: string): Promise<SignedUpUser> {
  const res = await t
    .http()
    .post('/v2/auth/signup')
    .send({ email: `${username}@example.com`, username, password: 'correct horse battery' })
    .expect(201);
  const { user, accessToken, refreshToken } = res.body.data;
  return { id: user.id, username, accessToken, refreshToken, auth: { authorization: `Bearer ${accessToken}` } };
}

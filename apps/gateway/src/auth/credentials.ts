import { looksLikeJwt } from '@atrium/auth';
import type { FastifyRequest } from 'fastify';

/** The credential a request presents: `Authorization: Bearer …` or `?token=…` (as Apify clients send). */
export function presentedCredential(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : header;
  }
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token.length > 0 ? token : null;
}

export function presentedJwt(request: FastifyRequest): string | null {
  const credential = presentedCredential(request);
  return credential && looksLikeJwt(credential) ? credential : null;
}

import { AppError } from '@atrium/contracts';
import type { FastifyInstance } from 'fastify';
import { Transform } from 'node:stream';
import * as zlib from 'node:zlib';

const DECODERS: Record<string, () => Transform> = {
  br: () => zlib.createBrotliDecompress(),
  gzip: () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
};

/**
 * Accepts compressed request bodies (apify-client sends bodies over 1 KB brotli-compressed).
 * The body limit applies to the decompressed stream, so a small bomb cannot expand unbounded.
 */
export function registerRequestDecompression(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') return payload;
    const decoder = DECODERS[encoding];
    if (!decoder) throw new AppError('invalid-input', `Content-Encoding "${encoding}" is not supported`);
    const decoded = decoder() as Transform & { receivedEncodedLength: number };
    decoded.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => (decoded.receivedEncodedLength += chunk.length));
    payload.on('error', (err) => decoded.destroy(err));
    decoded.on('error', () => undefined);
    return payload.pipe(decoded);
  });
}

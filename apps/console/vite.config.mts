import react from '@vitejs/plugin-react';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

/**
 * The web console, built into <repo>/dist/console and served by the gateway at `/` and at every
 * `consoleUrl` (apps/gateway/src/http/console.ts). `npm run console:dev` serves it with hot reload,
 * proxying the API to a running Atrium (ATRIUM_URL, default http://localhost:3000).
 */
export default defineConfig({
  root: here,
  plugins: [react()],
  resolve: { alias: { '@atrium/client': resolve(repo, 'libs/client/src/index.ts') } },
  build: {
    outDir: resolve(repo, 'dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts: the Content-Security-Policy has no 'unsafe-inline' for scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: Object.fromEntries(
      ['/v2', '/health', '/docs'].map((path) => [path, process.env.ATRIUM_URL ?? 'http://localhost:3000']),
    ),
  },
});

import react from '@vitejs/plugin-react';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

/**
 * Each text file of the build also as `.br` and `.gz`: the gateway sends the one the browser
 * accepts (http/console.ts), compressed once here at maximum level instead of at every request.
 */
function precompress(): Plugin {
  return {
    name: 'atrium-precompress',
    apply: 'build',
    writeBundle(options) {
      const dir = options.dir!;
      for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !/\.(?:js|css|html|svg|json)$/.test(entry.name)) continue;
        const path = resolve(entry.parentPath, entry.name);
        const body = readFileSync(path);
        writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
        writeFileSync(
          `${path}.br`,
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

/**
 * The web console, built into <repo>/dist/console and served by the gateway at `/` and at every
 * `consoleUrl` (apps/gateway/src/http/console.ts). `npm run console:dev` serves it with hot reload,
 * proxying the API to a running Atrium (ATRIUM_URL, default http://localhost:3000).
 */
export default defineConfig({
  root: here,
  plugins: [react(), precompress()],
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

// Builds the web console (apps/console, Vite) into dist/console, where the gateway serves it.
// Run by `npm ci`/`npm install` (the root `postinstall`), by `npm run console:build`, and by
// `npm start` when dist/console/index.html is missing. Plain CommonJS: it runs before anything
// else is set up, and with only the production dependencies installed (`npm ci --omit=dev`, the
// Docker image's dependencies stage) it says why it does nothing instead of failing the install.
const { spawn } = require('node:child_process');
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');

const ROOT = join(__dirname, '..');
const CONFIG = join(ROOT, 'apps', 'console', 'vite.config.mts');
const CONSOLE_INDEX = join(ROOT, 'dist', 'console', 'index.html');

/** Why the console cannot be built here, or null when it can. */
function cannotBuild() {
  if (!existsSync(CONFIG)) return 'apps/console is not in this tree';
  try {
    require.resolve('vite/package.json', { paths: [ROOT] });
  } catch {
    return 'vite is not installed (production-only install)';
  }
  return null;
}

/** Runs `vite build`; resolves with its exit code (0 when done). */
function buildConsole({ quiet = false } = {}) {
  const vite = join(dirname(require.resolve('vite/package.json', { paths: [ROOT] })), 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [vite, 'build', '--config', CONFIG, ...(quiet ? ['--logLevel', 'warn'] : [])],
      {
        cwd: ROOT,
        stdio: 'inherit',
      },
    );
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

module.exports = { buildConsole, cannotBuild, CONSOLE_INDEX };

if (require.main === module) {
  const why = cannotBuild();
  if (why) {
    process.stdout.write(`atrium: the web console is not built (${why}); the API works without it.\n`);
  } else {
    buildConsole().then(
      (code) => {
        if (code !== 0) process.stderr.write('atrium: building the web console failed (see above).\n');
        process.exitCode = code;
      },
      (err) => {
        process.stderr.write(`atrium: building the web console failed: ${err.message}\n`);
        process.exitCode = 1;
      },
    );
  }
}

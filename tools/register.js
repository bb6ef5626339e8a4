// Runs TypeScript sources directly (`node -r ./tools/register.js file.ts`). Each .ts file is
// compiled by SWC exactly as @swc-node/register compiles it (tsconfig paths, decorator metadata),
// and the output is kept under dist/server, next to a hash of its source: a later start whose
// files are unchanged loads neither SWC nor TypeScript (some 0.4 s and 70 MB of a start). The
// install (`postinstall`: `node tools/register.js --build`) compiles every server source once,
// and `--prepare-embedded` makes the embedded database's pristine data directory.
// Stack traces point into the .ts sources (source maps, read only when a stack is formatted).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'server');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(ROOT, 'tsconfig.base.json');

let compiler = null;
/** SWC with @swc-node/register's options for the project's tsconfig, loaded on the first miss. */
function loadCompiler() {
  if (compiler) return compiler;
  const from = { paths: [path.dirname(require.resolve('@swc-node/register'))] };
  const {
    readDefaultTsConfig,
    tsCompilerOptionsToSwcConfig,
  } = require('@swc-node/register/read-default-tsconfig');
  const { transformSync } = require(require.resolve('@swc-node/core', from));
  const options = { ...readDefaultTsConfig(process.env.SWC_NODE_PROJECT), module: 1 /* CommonJS */ };
  compiler = {
    compile: (source, filename) =>
      transformSync(source, filename, tsCompilerOptionsToSwcConfig(options, filename)),
  };
  return compiler;
}

let settings = null;
/** What a compiled file's first line must say: the hash of its source and of the compiler's settings. */
function stamp(source) {
  // The tsconfig, the installed SWC and this file change the output too: they are in the hash.
  settings ??= [
    fs.readFileSync(process.env.SWC_NODE_PROJECT, 'utf8'),
    require('@swc/core/package.json').version,
    fs.readFileSync(path.join(path.dirname(require.resolve('@swc-node/register')), 'package.json'), 'utf8'),
    fs.readFileSync(path.join(__dirname, 'register.js'), 'utf8'),
  ].join('\0');
  const hash = crypto.createHash('sha256').update(`${settings}\0${source}`).digest('hex');
  return `//atrium-ts ${hash.slice(0, 32)}\n`;
}

/** The output file of a source under the repository, or null for one outside it. */
function outputFile(filename) {
  const relative = path.relative(ROOT, filename);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  return path.join(OUT, relative.replace(/\.ts$/, '.js'));
}

/** The compiled code of a .ts file: the kept output when it is of this source, else compiled (and kept). */
function compiledCode(source, filename) {
  const header = stamp(source);
  const out = outputFile(filename);
  if (out) {
    try {
      const kept = fs.readFileSync(out, 'utf8');
      if (kept.startsWith(header)) return kept;
    } catch {
      // not compiled yet
    }
  }
  const { code, map } = loadCompiler().compile(source, filename);
  const output = `${header}${code}`;
  if (out) {
    // Best effort (a read-only install compiles in memory); a rename never leaves half a file.
    try {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const temp = `${out}.${process.pid}.tmp`;
      if (map) fs.writeFileSync(`${out}.map`, map);
      fs.writeFileSync(temp, output);
      fs.renameSync(temp, out);
    } catch {
      // not kept
    }
  }
  return output;
}

function installSourceMaps() {
  const from = { paths: [path.dirname(require.resolve('@swc-node/register'))] };
  const sourceMapSupport = require(
    require.resolve('source-map-support', {
      paths: [path.dirname(require.resolve('@swc-node/sourcemap-support', from))],
    }),
  );
  sourceMapSupport.install({
    handleUncaughtExceptions: false,
    environment: 'node',
    retrieveSourceMap(file) {
      const out = file.endsWith('.ts') ? outputFile(file) : null;
      if (!out) return null;
      try {
        return { url: file, map: fs.readFileSync(`${out}.map`, 'utf8') };
      } catch {
        return null;
      }
    },
  });
}

/** Compiles every server source (apps, libs, tools, bench; not the console or tests) ahead of a start. */
function buildAll() {
  const skip = /(\.spec|\.e2e-spec|\.reliability-spec|\.d)\.ts$/;
  let count = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['node_modules', 'console', 'test', 'reliability'].includes(entry.name)) walk(full);
      } else if (entry.name.endsWith('.ts') && !skip.test(entry.name)) {
        compiledCode(fs.readFileSync(full, 'utf8'), full);
        count++;
      }
    }
  };
  for (const dir of ['apps', 'libs', 'tools', 'bench'])
    if (fs.existsSync(path.join(ROOT, dir))) walk(path.join(ROOT, dir));
  return count;
}

/** Installs the .ts loader (and source maps, and decorator metadata). */
function install() {
  require('reflect-metadata');
  installSourceMaps();
  Module._extensions['.ts'] = function loadTypeScript(module, filename) {
    module._compile(compiledCode(fs.readFileSync(filename, 'utf8'), filename), filename);
  };
}

/** Makes the embedded database's pristine data directory (dist/pglite), which a first start copies. */
async function prepareEmbedded() {
  const source = path.join(ROOT, 'libs', 'persistence', 'src', 'embedded-postgres.ts');
  if (!fs.existsSync(source)) return 'no embedded database in this tree';
  install();
  const dir = await require(source).pristineDataDir();
  return dir ? `${path.relative(ROOT, dir)} ready` : 'the pristine data directory not kept (read-only tree)';
}

if (require.main === module) {
  const steps = {
    '--build': async () => `${buildAll()} server sources compiled into dist/server`,
    '--prepare-embedded': prepareEmbedded,
  };
  const step = steps[process.argv[2]];
  if (!step) {
    process.stderr.write(
      'usage: node tools/register.js --build | --prepare-embedded  (or: node -r ./tools/register.js file.ts)\n',
    );
    process.exit(2);
  }
  const started = Date.now();
  // Not fatal (an install goes on): a start compiles what it loads and makes what it needs.
  step().then(
    (done) => process.stdout.write(`atrium: ${done} (${Date.now() - started} ms)\n`),
    (err) =>
      process.stdout.write(
        `atrium: ${process.argv[2]} did not complete (${err.message}); npm start does it\n`,
      ),
  );
} else {
  install();
}

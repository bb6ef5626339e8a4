// Runs TypeScript sources directly (`node -r ./tools/register.js file.ts`). Each .ts file is
// compiled by SWC exactly as @swc-node/register compiles it (tsconfig paths, decorator metadata),
// and the output is kept under dist/server, next to a hash of its source: a later start whose
// files are unchanged loads neither SWC nor TypeScript (some 0.4 s and 70 MB of a start). The
// install (`postinstall`: `node tools/register.js --build`) compiles every server source once.
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

if (require.main === module) {
  if (process.argv[2] !== '--build') {
    process.stderr.write(
      'usage: node tools/register.js --build  (or: node -r ./tools/register.js file.ts)\n',
    );
    process.exit(2);
  }
  try {
    const started = Date.now();
    const count = buildAll();
    process.stdout.write(
      `atrium: ${count} server sources compiled into dist/server (${Date.now() - started} ms)\n`,
    );
  } catch (err) {
    // Not fatal: a start compiles what it loads.
    process.stdout.write(
      `atrium: the server sources were not compiled ahead (${err.message}); npm start compiles them\n`,
    );
  }
} else {
  require('reflect-metadata');
  installSourceMaps();
  Module._extensions['.ts'] = function loadTypeScript(module, filename) {
    module._compile(compiledCode(fs.readFileSync(filename, 'utf8'), filename), filename);
  };
}

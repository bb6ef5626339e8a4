#!/usr/bin/env node
// The `atrium` command (apps/cli): TypeScript run directly, as `npm start` runs the services.
require('../tools/register.js');
require('../apps/cli/src/main.ts').run();

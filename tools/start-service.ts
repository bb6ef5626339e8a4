/**
 * Runs one Atrium app as its own process (distributed mode; needs DATABASE_URL and AMQP_URL):
 *   npm run start:service -- identity|resources|permissions|issues|gateway
 */
import { SERVICES } from '@atrium/contracts';

const name = process.argv[2];
const apps: readonly string[] = [...SERVICES, 'gateway'];
if (!apps.includes(name)) {
  console.error(`usage: npm run start:service -- <${apps.join('|')}>`);
  process.exit(1);
}
// The app is chosen at run time, and its main module starts it when loaded.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(`../apps/${name}/src/main`);

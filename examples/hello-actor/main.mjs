// An ordinary Apify Actor: nothing in it knows about Atrium. `atrium run` and `atrium worker`
// give it the platform's environment (APIFY_TOKEN, APIFY_API_BASE_URL, ACTOR_DEFAULT_*…).
import { Actor } from 'apify';

await Actor.init();
const { greeting = 'Hello', names = ['world'] } = (await Actor.getInput()) ?? {};
for (const name of names) {
  const message = `${greeting}, ${name}!`;
  console.log(message);
  await Actor.pushData({ name, message });
}
await Actor.setValue('OUTPUT', { greeted: names.length });
await Actor.exit();

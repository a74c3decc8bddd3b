/** `npm stop`: stops the worker, the Temporal dev server and the Postgres cluster `npm start` started. */
import { loadServiceSettings } from '../src/config';
import { stopPlatform } from '../src/platform';

stopPlatform(loadServiceSettings(), (line) => console.log(`baton: ${line}`)).catch((err: Error) => {
  console.error(`baton: npm stop failed: ${err.message}`);
  process.exit(1);
});

/**
 * `npm run test:chaos [-- Jest options]`: the fault-injection tier in its full form
 * (1M-row runs, 20 worker kills); `npm test` runs it bounded. See README, "Nothing lost".
 */
import { loadServiceSettings } from '../src/config';
import { runTests } from '../src/test-runner';

runTests(loadServiceSettings(), (line) => console.log(`baton test:chaos: ${line}`), 'test/chaos/', process.argv.slice(2), { BATON_CHAOS: 'full' })
  .then((code) => process.exit(code))
  .catch((err: Error) => {
    console.error(`baton test:chaos: ${err.message}`);
    process.exit(1);
  });

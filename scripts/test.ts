/** `npm test [-- <file filter> [Jest options]]`: every tier, on the real platform; see src/test-runner/index.ts. */
import { loadServiceSettings } from '../src/config';
import { runTests } from '../src/test-runner';

runTests(loadServiceSettings(), (line) => console.log(`baton test: ${line}`), process.argv[2], process.argv.slice(3))
  .then((code) => process.exit(code))
  .catch((err: Error) => {
    console.error(`baton test: ${err.message}`);
    process.exit(1);
  });

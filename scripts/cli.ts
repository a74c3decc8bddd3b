/** The `baton` command's entry (scripts/baton.js runs it under tsx). */
import { main } from '../src/cli';

main().then((code) => process.exit(code));

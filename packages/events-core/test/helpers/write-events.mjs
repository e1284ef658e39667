// Child process used by the concurrency tests: writes N events through the
// built library and prints how many calls returned true.
import { logEvent } from '../../dist/index.js';

const [, , countArg, tag] = process.argv;
const count = Number(countArg);
let ok = 0;
for (let i = 0; i < count; i++) {
  if (
    logEvent('container.start', { user: tag, source: 'concurrency-test', details: { container: `${tag}-${i}`, container_id: String(i) } })
  )
    ok++;
}
process.stdout.write(String(ok));

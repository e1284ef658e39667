/**
 * The command line the wrapper runs for every `docker run --gpus`, exactly:
 * it is run without building the yargs parser (some 30 ms of the allocator's
 * start-up, which is on that command's critical path), and its GPU query
 * starts before the rest of the bin loads (bin/start-gpu-query.ts). Any other
 * argv, however close, goes through yargs.
 */
export function runsSessionDirectly(argv: readonly string[]): boolean {
  return argv.length === 3 && argv[0] === 'allocate' && argv[1] === '--stdin' && argv[2] === '--json';
}

/**
 * `@sessionfs/cli`: the `sessionfs` command line, and `main` to run it from a script with
 * the arguments it would get.
 */
export { ExitCodes, main } from './program.js';

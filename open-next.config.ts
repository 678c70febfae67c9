/**
 * OpenNext, which `sst.aws.Nextjs` builds the console with (stacks/console.ts pins its version): by default it runs
 * `npm run build`, which this package does not have; the console's build is `build:console`.
 */
export default {
  default: {},
  buildCommand: 'npm run build:console',
};

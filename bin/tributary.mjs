#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so there is no build step between `npm ci` and `tributary`.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// On a laptop, info logs would drown the CLI's own output.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

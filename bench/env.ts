/**
 * Environment of a bench run, set before any other module is evaluated (import this first): like `tributary dev`
 * (bin/tributary.mjs), metrics (EMF on stdout) are off and logs down, so stdout holds only the bench's own table and
 * JSON line. Explicit settings win.
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};

/**
 * Offline `sst deploy` for tests: `await deployStage('ci')` evaluates sst.config.ts and runs its stacks the way the SST
 * CLI (v4, pkg/project + pkg/js) does, against mocked AWS, and returns every resource the stacks register with its
 * inputs fully resolved.
 *
 * Steps (each mirrors the CLI):
 * 1. `app(input)`: sst.config.ts bundled with `function $config(input) { return input }` as banner and `$input` defined,
 *    top-level imports refused (the CLI's DisallowImports), run with node, the `~j` line parsed and normalized
 *    (removal defaults to "retain", the home provider is added).
 * 2. `run()`: the CLI's entry (`import { run } from ".sst/platform/src/auto/run.ts"; import mod from sst.config.ts;
 *    export default await run(mod.run)`) bundled with `$app` / `$cli` / `$dev` defined, the platform's shim injected and
 *    the provider globals (`aws` from .sst/provider-lock.json, `sst` from the platform's components) prepended to
 *    every .js/.ts/.jsx/.tsx file outside `.sst`, `@pulumi/*` & co. external (resolved from .sst/platform/node_modules).
 * 3. That bundle runs in a child node process under tests/infra/runtime.ts (Pulumi mocks + a stub of the CLI's RPC
 *    server), which reports the registered resources as JSON.
 *
 * Needs `.sst/platform` (`npx sst install`, which `npm run test:infra` runs first).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RecordedResource, RuntimeJob, RuntimeResult } from './runtime.ts';
import { writeFakeOpenNextOutput, type RuntimeBuildInput } from './fakes.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PLATFORM = path.join(REPO, '.sst', 'platform');
const RUNTIME_SOURCE = path.join(REPO, 'tests', 'infra', 'runtime.ts');

/** The app as the CLI passes it to the program (`$app`), fields in the CLI's order. */
export interface AppConfig {
  name: string;
  stage: string;
  removal: 'remove' | 'retain' | 'retain-all';
  providers: Record<string, Record<string, unknown>>;
  home: string;
  version: string;
  protect: boolean;
  backend: string;
  removalPolicy: string;
}

export interface DeployOptions {
  /** Defaults to the repository's sst.config.ts; the app root is its directory, as in the CLI. */
  config?: string;
  /** Extra environment of the program (TRIBUTARY_* variables of the calling process are NOT inherited). */
  env?: Record<string, string>;
  /** Values of `sst.Secret`s (the CLI passes them as SST_SECRET_<name>). */
  secrets?: Record<string, string>;
  /** Kill the program after this long (default 100 s, under the test timeout so the failure names the deploy). */
  timeoutMs?: number;
}

export type Resource = RecordedResource;

/** An IAM statement in a comparable shape: actions and resources sorted. */
export interface Statement {
  effect: string;
  actions: string[];
  resources: string[];
  conditions?: unknown;
  /** The statement lists NotAction (then `actions` are the ones it does not grant) / NotResource. */
  notAction?: true;
  notResource?: true;
}

/** Values for the stacks' `sst.Secret`s (set per stage with `npx sst secret set` in real deploys). */
export const DEFAULT_SECRETS: Record<string, string> = {
  IngestApiKey: 'infra-test-key',
  ConsolePassword: 'infra-test-password',
};

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ errors: { text: string }[]; warnings: { text: string }[] }>;
}
type EsbuildPlugin = { name: string; setup(build: EsbuildPluginBuild): void };
interface EsbuildPluginBuild {
  onLoad(
    options: { filter: RegExp },
    cb: (args: { path: string }) => { contents: string; loader: string } | undefined,
  ): void;
  onResolve(
    options: { filter: RegExp },
    cb: (args: { importer: string; kind: string; path: string }) => { errors: { text: string }[] } | undefined,
  ): void;
}

function esbuild(): Esbuild {
  if (!fs.existsSync(path.join(PLATFORM, 'package.json'))) {
    throw new Error(
      `${PLATFORM} is missing: run \`SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 npx sst install --stage ci\` (npm run test:infra does)`,
    );
  }
  // SST's own esbuild, installed into the platform by `sst install` (the CLI embeds the Go build of the same tool).
  return createRequire(path.join(PLATFORM, 'package.json'))('esbuild') as Esbuild;
}

/** pkg/js/js.go `Build`: the options every CLI bundle shares. */
function cliBuildOptions(
  root: string,
  code: string,
  outfile: string,
  extra: { banner?: string; globals: string; define: Record<string, string>; inject?: string[] },
) {
  const plugins: EsbuildPlugin[] = [
    {
      // Provider globals prepended to every source outside `.sst` (so nothing under a path containing ".sst" gets them).
      name: 'InjectGlobals',
      setup(build) {
        build.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, (args) => {
          let contents = fs.readFileSync(args.path, 'utf8');
          if (!args.path.includes('.sst')) contents = `${extra.globals}\n${contents}`;
          return { contents, loader: 'default' };
        });
      },
    },
    {
      // The app-evaluation build (no globals) refuses top-level imports in sst.config.ts.
      name: 'DisallowImports',
      setup(build) {
        build.onResolve({ filter: /.*/ }, (args) => {
          if (
            extra.globals === '' &&
            path.basename(args.importer) === 'sst.config.ts' &&
            args.kind === 'import-statement'
          ) {
            return {
              errors: [
                {
                  text: `ErrTopLevelImport: sst.config.ts imports "${args.path}" at the top level; SST evaluates app() before the platform exists, import inside run()`,
                },
              ],
            };
          }
          return undefined;
        });
      },
    },
  ];
  return {
    banner: {
      js:
        [
          '',
          "import { createRequire as topLevelCreateRequire } from 'module';",
          'const require = topLevelCreateRequire(import.meta.url);',
          'import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"',
          'const __filename = topLevelFileUrlToPath(import.meta.url)',
          'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
          '',
        ].join('\n') + (extra.banner ?? ''),
    },
    mainFields: ['module', 'main'],
    format: 'esm',
    platform: 'node',
    sourcemap: 'linked',
    stdin: { contents: code, resolveDir: root, sourcefile: 'eval.ts', loader: 'ts' },
    nodePaths: [path.join(PLATFORM, 'node_modules')],
    plugins,
    external: [
      '@pulumi/*',
      'undici',
      '@pulumiverse/*',
      '@sst-provider/*',
      '@aws-sdk/*',
      'esbuild',
      'archiver',
      'glob',
      'vite',
    ],
    define: extra.define,
    inject: extra.inject ?? [],
    outfile,
    write: true,
    bundle: true,
    metafile: true,
    logLevel: 'silent',
  };
}

let counter = 0;
let swept = false;
/** A bundle path in .sst/platform (where the CLI writes its own, so `@pulumi/*` & co. resolve from its node_modules). */
function scratch(label: string): string {
  if (!swept) {
    // Bundles of runs that were killed before cleaning up (older than an hour).
    swept = true;
    for (const f of fs.readdirSync(PLATFORM)) {
      const file = path.join(PLATFORM, f);
      if (f.startsWith('infra-test.') && Date.now() - fs.statSync(file).mtimeMs > 3_600_000)
        fs.rmSync(file, { force: true });
    }
  }
  return path.join(PLATFORM, `infra-test.${label}.${process.pid}.${Date.now()}.${counter++}.mjs`);
}
const removeBundle = (file: string) => {
  if (process.env.TRIBUTARY_INFRA_KEEP) return;
  for (const f of [file, `${file}.map`]) fs.rmSync(f, { force: true });
};

async function build(options: ReturnType<typeof cliBuildOptions>, what: string): Promise<void> {
  try {
    await esbuild().build(options);
  } catch (e) {
    const errors = (
      e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }
    ).errors;
    const text = errors
      ?.map((x) => (x.location ? `${x.location.file}:${x.location.line}:${x.location.column}: ${x.text}` : x.text))
      .join('\n');
    throw new Error(`building ${what} failed:\n${text ?? String(e)}`, { cause: e });
  }
}

/** Environment of the child processes: this process's, minus Tributary's own settings and test-runner noise. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      (k.startsWith('TRIBUTARY_') && k !== 'TRIBUTARY_INFRA_DEBUG') ||
      k.startsWith('SST_SECRET_') ||
      k.startsWith('VITEST') ||
      k === 'NODE_OPTIONS'
    )
      continue;
    env[k] = v;
  }
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}

/** pkg/project/project.go `New`: evaluate `app({ stage })` and normalize the result. */
export async function evaluateApp(stage: string, config = path.join(REPO, 'sst.config.ts')): Promise<AppConfig> {
  if (/[^a-zA-Z0-9-]/.test(stage)) throw new Error(`invalid stage name "${stage}"`);
  const root = path.dirname(config);
  const outfile = scratch(`app-${stage}`);
  const code = `import mod from '${config}';\nif (mod.stacks || mod.config) {\n  console.log("~v2")\n  process.exit(0)\n}\nconsole.log("~j" + JSON.stringify(await mod.app({\n  stage: $input.stage || undefined,\n})))`;
  await build(
    cliBuildOptions(root, code, outfile, {
      banner: 'function $config(input) { return input }',
      globals: '',
      define: { $input: JSON.stringify({ stage }) },
    }),
    `${config} (app)`,
  );
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(process.execPath, ['--no-warnings', outfile], {
      cwd: root,
      env: childEnv({}),
      timeout: 30_000,
    }));
  } catch (e) {
    throw new Error(`Error evaluating config: ${(e as Error).message}`, { cause: e });
  } finally {
    removeBundle(outfile);
  }
  const line = stdout.split('\n').find((l) => l.startsWith('~j'));
  if (!line) throw new Error(`app() printed no result:\n${stdout}`);
  const parsed = JSON.parse(line.slice(2)) as Partial<Omit<AppConfig, 'providers'>> & {
    providers?: Record<string, unknown>;
  };
  const providers: Record<string, Record<string, unknown>> = {};
  for (const [name, args] of Object.entries(parsed.providers ?? {})) {
    providers[name] =
      args === true ? {} : typeof args === 'string' ? { version: args } : (args as Record<string, unknown>);
  }
  if (!parsed.name) throw new Error('Project name is required');
  if (/[^a-zA-Z0-9-]/.test(parsed.name)) throw new Error(`invalid app name "${parsed.name}"`);
  if (!parsed.home) throw new Error('You must specify a "home" provider in the project configuration file.');
  if (!(parsed.home in providers) && parsed.home !== 'local') providers[parsed.home] = {};
  const removal = parsed.removal || 'retain';
  if (!['remove', 'retain', 'retain-all'].includes(removal))
    throw new Error('Removal must be one of: remove, retain, retain-all');
  return {
    name: parsed.name,
    stage,
    removal,
    providers,
    home: parsed.home,
    version: parsed.version ?? '',
    protect: Boolean(parsed.protect),
    backend: parsed.backend ?? '',
    removalPolicy: parsed.removalPolicy ?? '',
  };
}

/**
 * The app root the program sees: every entry of the real root linked, except the build outputs of the Next.js console
 * (`.next`, `.open-next`), which hold a stand-in OpenNext build instead (the real deploy runs `open-next build` there
 * first; under mocks that command never runs, and the repository's own `.next` must not be touched).
 */
function shadowRoot(real: string, shadow: string): string {
  fs.mkdirSync(shadow, { recursive: true });
  for (const entry of fs.readdirSync(real)) {
    if (entry === '.next' || entry === '.open-next') continue;
    fs.symlinkSync(path.join(real, entry), path.join(shadow, entry));
  }
  writeFakeOpenNextOutput(shadow);
  return shadow;
}

/** Run the app's `run()` for a stage against mocked AWS. */
export async function deployStage(stage: string, options: DeployOptions = {}): Promise<Infra> {
  const realConfig = options.config ?? path.join(REPO, 'sst.config.ts');
  const app = await evaluateApp(stage, realConfig);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `tributary-infra-${stage}-`));
  const root = shadowRoot(path.dirname(realConfig), path.join(work, 'root'));
  const config = path.join(root, path.basename(realConfig));
  const cli = {
    command: 'deploy',
    dev: false,
    paths: { home: path.join(work, 'home'), root, work, platform: PLATFORM },
    state: { version: {} },
  };
  const lock = JSON.parse(fs.readFileSync(path.join(PLATFORM, '..', 'provider-lock.json'), 'utf8')) as {
    alias: string;
    package: string;
  }[];
  const globals = [
    ...lock.map((e) => `import * as ${e.alias} from "${e.package}";`),
    `import * as sst from "${path.posix.join(PLATFORM, 'src/components')}";`,
  ].join('\n');

  const program = scratch(`run-${stage}`);
  const runtime = scratch('runtime');
  const resultFile = path.join(work, 'result.json');
  try {
    const code = `\n      import { run } from "${path.join(PLATFORM, 'src/auto/run.ts')}";\n\t\t\timport mod from '${config}';\n      const result = await run(mod.run);\n      export default result;\n    `;
    await build(
      cliBuildOptions(root, code, program, {
        globals,
        define: { $app: JSON.stringify(app), $cli: JSON.stringify(cli), $dev: 'false' },
        inject: [path.join(PLATFORM, 'src/shim/run.js')],
      }),
      `${config} (run)`,
    );
    await esbuild().build({
      entryPoints: [RUNTIME_SOURCE],
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile: runtime,
      external: ['@pulumi/*'],
      sourcemap: 'inline',
      logLevel: 'silent',
      banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
    });

    const job: RuntimeJob = {
      program,
      result: resultFile,
      platform: PLATFORM,
      root,
      work,
      project: app.name,
      stack: app.stage,
      secrets: { ...DEFAULT_SECRETS, ...options.secrets },
    };
    const { code: exitCode, output } = await runChild(
      runtime,
      childEnv({ ...options.env, TRIBUTARY_INFRA_JOB: JSON.stringify(job) }),
      root,
      options.timeoutMs ?? 100_000,
    );
    const result = fs.existsSync(resultFile)
      ? (JSON.parse(fs.readFileSync(resultFile, 'utf8')) as RuntimeResult)
      : undefined;
    if (!result?.ok || exitCode !== 0) {
      const failures = result?.failures.join('\n\n') ?? '(no result written)';
      throw new DeployError(
        `offline deploy of stage "${stage}" failed (exit ${exitCode}):\n${failures}\n--- program output ---\n${output.slice(-8000)}`,
        result,
      );
    }
    return new Infra(app, result);
  } finally {
    removeBundle(program);
    removeBundle(runtime);
    if (!process.env.TRIBUTARY_INFRA_KEEP) fs.rmSync(work, { recursive: true, force: true });
  }
}

export class DeployError extends Error {
  /** What the program registered before it failed (not enumerable: test runners would print all of it). */
  declare readonly result: RuntimeResult | undefined;

  constructor(message: string, result: RuntimeResult | undefined) {
    super(message);
    this.name = 'DeployError';
    Object.defineProperty(this, 'result', { value: result, enumerable: false });
  }
}

/** Programs still running, killed if this process exits first (a test runner timing out, Ctrl-C). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function runChild(
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--enable-source-maps', '--no-deprecation', '--no-warnings', script], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      output += `\n[killed after ${timeoutMs} ms]`;
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The registered resources of one offline deploy, with lookups that follow the real wiring (parents, ARNs). */
export class Infra {
  readonly resources: Resource[];
  readonly outputs: Record<string, unknown>;

  constructor(
    readonly app: AppConfig,
    readonly result: RuntimeResult,
  ) {
    this.resources = result.resources;
    this.outputs = result.outputs;
  }

  get stage(): string {
    return this.app.stage;
  }

  /** Inputs of the `Runtime.Build` calls (one per built function): handler, runtime, links, copyFiles, nodejs options. */
  get builds(): RuntimeBuildInput[] {
    return this.result.builds;
  }

  byType(type: string): Resource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The one resource of `type` whose name is `name` (or matches it); throws listing the candidates otherwise. */
  one(type: string, name: string | RegExp, within?: Resource[]): Resource {
    const pool = within ?? this.byType(type);
    const hits = pool.filter(
      (r) => r.type === type && (typeof name === 'string' ? r.name === name : name.test(r.name)),
    );
    if (hits.length !== 1) {
      const names = pool.filter((r) => r.type === type).map((r) => r.name);
      throw new Error(
        `expected exactly one ${type} named ${String(name)}, found ${hits.length}; registered: ${names.join(', ') || '(none)'}`,
      );
    }
    return hits[0] as Resource;
  }

  byUrn(urn: string): Resource | undefined {
    return this.resources.find((r) => r.urn === urn);
  }

  /** Everything registered under `parent` (children, grandchildren, …). */
  descendants(parent: Resource): Resource[] {
    const out: Resource[] = [];
    const queue = [parent.urn];
    while (queue.length) {
      const urn = queue.shift();
      for (const r of this.resources) {
        if (r.parent === urn) {
          out.push(r);
          queue.push(r.urn);
        }
      }
    }
    return out;
  }

  /** The one `childType` resource inside the component `componentType` named `name` (e.g. a Bucket's aws:s3 bucket). */
  part(componentType: string, name: string | RegExp, childType: string): Resource {
    return this.one(childType, /.*/, this.descendants(this.one(componentType, name)));
  }

  /** The resource whose (fake) ARN is `arn`. */
  byArn(arn: unknown): Resource {
    const hits = this.resources.filter((r) => r.custom && r.state.arn === arn);
    if (hits.length !== 1) throw new Error(`expected one resource with ARN ${String(arn)}, found ${hits.length}`);
    return hits[0] as Resource;
  }

  /** The Lambda function (`aws:lambda/function:Function`) of the `sst.aws.Function` named `name`. */
  lambda(name: string | RegExp): Resource {
    const component = this.one('sst:aws:Function', name);
    return this.one('aws:lambda/function:Function', /.*/, this.descendants(component));
  }

  /** The execution role of a Lambda function: the role whose ARN the function's `role` input holds. */
  roleOf(fn: Resource): Resource {
    const role = this.byArn(fn.inputs.role);
    if (role.type !== 'aws:iam/role:Role') throw new Error(`${fn.name}.role points at a ${role.type}`);
    return role;
  }

  /**
   * Every statement the role grants: SST puts a function's `permissions` and its links' permissions in one inline
   * policy named "inline" on the role (platform/src/components/aws/function.ts, createRole); separate
   * `aws:iam/rolePolicy` resources naming the role are included too. Managed policies are in `managedPolicies`.
   */
  statementsOf(role: Resource): Statement[] {
    const documents: string[] = [];
    for (const p of (role.inputs.inlinePolicies ?? []) as { name?: string; policy?: string }[])
      if (p.policy) documents.push(p.policy);
    const roleName = role.state.name;
    for (const rp of this.byType('aws:iam/rolePolicy:RolePolicy'))
      if (rp.inputs.role === roleName || rp.inputs.role === role.state.arn) documents.push(String(rp.inputs.policy));
    return documents.flatMap(parseStatements);
  }

  managedPolicies(role: Resource): string[] {
    const attached = this.byType('aws:iam/rolePolicyAttachment:RolePolicyAttachment')
      .filter((a) => a.inputs.role === role.state.name)
      .map((a) => String(a.inputs.policyArn));
    return [...((role.inputs.managedPolicyArns ?? []) as string[]), ...attached].sort();
  }

  /** The statements granted to the `sst.aws.Function` named `name`. */
  functionStatements(name: string | RegExp): Statement[] {
    return this.statementsOf(this.roleOf(this.lambda(name)));
  }

  /** The `Runtime.Build` input of the function `functionID` (the sst.aws.Function's name). */
  build(functionID: string | RegExp): RuntimeBuildInput {
    const hits = this.builds.filter((b) =>
      typeof functionID === 'string' ? b.functionID === functionID : functionID.test(b.functionID),
    );
    if (hits.length !== 1)
      throw new Error(
        `expected one build of ${String(functionID)}, found ${hits.length}: ${this.builds.map((b) => b.functionID).join(', ')}`,
      );
    return hits[0] as RuntimeBuildInput;
  }
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** IAM policy JSON → comparable statements (each statement's actions and resources sorted). */
export function parseStatements(policy: string): Statement[] {
  const doc = JSON.parse(policy) as { Statement?: Record<string, unknown>[] | Record<string, unknown> };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  return statements.map((s) => ({
    effect: String(s.Effect),
    actions: list(s.Action ?? s.NotAction).sort(),
    resources: list(s.Resource ?? s.NotResource).sort(),
    ...(s.Condition ? { conditions: s.Condition } : {}),
    ...(s.NotAction ? { notAction: true } : {}),
    ...(s.NotResource ? { notResource: true } : {}),
  }));
}

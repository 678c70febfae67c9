/**
 * The child process of an offline deploy (tests/infra/harness.ts bundles this file into .sst/platform and runs it with
 * node): it stands in for the Pulumi engine and for the SST CLI around the program bundle the harness built exactly as
 * `sst deploy` builds it.
 *
 * - Pulumi: `pulumi.runtime.setMocks` (Pulumi's own unit-test API) with the platform's own @pulumi/pulumi instance, so
 *   every resource the components register reaches `newResource` with its inputs already resolved. The mock monitor's
 *   `registerResource` is wrapped to also record the resource options the engine would see (parent, protect,
 *   retainOnDelete, dependsOn, ignoreChanges), which `newResource` is not given.
 * - SST CLI: a loopback JSON-RPC server at `SST_SERVER` (what platform/src/components/rpc/rpc.ts posts to) answering
 *   `Runtime.Build` and `Provider.Aws.Bootstrap`; any other method is recorded and answered with an error that names it.
 * - The program runs inside `runtime.runInPulumiStack`, as Pulumi's language host runs it, so the stack
 *   transformations of platform/src/auto/run.ts apply.
 *
 * Everything is written to the job's result file as JSON; the harness turns it into the `Infra` model.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BOOTSTRAP, fakeInvoke, fakeResource, fakeRuntimeBuild, type RuntimeBuildInput } from './fakes.ts';

export interface RuntimeJob {
  /** The program bundle (sst.config.ts + stacks + platform, built like the CLI's run step). */
  program: string;
  /** Where the JSON result goes. */
  result: string;
  platform: string;
  root: string;
  work: string;
  project: string;
  stack: string;
  secrets: Record<string, string>;
}

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  provider: string;
  id: string | null;
  inputs: Record<string, unknown>;
  /** Paths (`a.b[0].c`) of inputs that were secrets. */
  secrets: string[];
  /** What the fake provider returned (ids, ARNs, auto-names). */
  state: Record<string, unknown>;
  options: {
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    dependsOn: string[];
    importId: string;
  };
}

export interface RuntimeResult {
  ok: boolean;
  failures: string[];
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  rpc: { method: string; params: unknown }[];
  invokes: { token: string; inputs: unknown }[];
  builds: RuntimeBuildInput[];
  unknownRpc: string[];
  unknownInvokes: string[];
  millis: number;
}

// ---- the parts of @pulumi/pulumi used here (it lives in .sst/platform/node_modules, outside this project's types) ----
interface Output<T> {
  promise(): Promise<T>;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getCustom(): boolean;
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getImportid(): string;
}
type Callback = (err: unknown, resp?: { getUrn(): string }) => void;
interface MockArgs {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
  custom?: boolean;
  id?: string;
}
interface Pulumi {
  runtime: {
    setMocks(
      mocks: {
        newResource(a: MockArgs): { id: string | undefined; state: Record<string, unknown> };
        call(a: { token: string; inputs: Record<string, unknown> }): Record<string, unknown>;
      },
      project: string,
      stack: string,
      preview: boolean,
    ): Promise<void>;
    runInPulumiStack(init: () => Promise<unknown>): Promise<Record<string, unknown> | undefined>;
    waitForRPCs?: () => Promise<void>;
    specialSigKey: string;
    specialSecretSig: string;
  };
  log: { hasErrors(): boolean };
}
interface MockMonitorClass {
  prototype: { registerResource(req: RegisterRequest, cb: Callback): Promise<void> };
}

function readJob(): RuntimeJob {
  const text = process.env.TRIBUTARY_INFRA_JOB;
  if (!text)
    throw new Error('tests/infra/runtime: TRIBUTARY_INFRA_JOB is not set (this file is run by tests/infra/harness.ts)');
  return JSON.parse(text) as RuntimeJob;
}
const job = readJob();

const started = Date.now();
const requireFromPlatform = createRequire(path.join(job.platform, 'package.json'));
const pulumi = requireFromPlatform('@pulumi/pulumi') as Pulumi;
const { MockMonitor } = requireFromPlatform('@pulumi/pulumi/runtime/mocks.js') as { MockMonitor: MockMonitorClass };

const failures: string[] = [];
const raw: {
  args: MockArgs;
  id: string | null;
  state: Record<string, unknown>;
  options: RecordedResource['options'] & { parent: string; provider: string };
  urn: string;
}[] = [];
const rpcCalls: RuntimeResult['rpc'] = [];
const invokes: RuntimeResult['invokes'] = [];
const builds: RuntimeBuildInput[] = [];
const unknownRpc: string[] = [];
const unknownInvokes: string[] = [];

const debug = process.env.TRIBUTARY_INFRA_DEBUG ? (...args: unknown[]) => console.error('[infra]', ...args) : () => {};
const describe = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));
function fail(message: string): void {
  if (!failures.includes(message)) failures.push(message);
}
process.on('unhandledRejection', (e) => fail(`unhandled rejection: ${describe(e)}`));
process.on('uncaughtException', (e) => fail(`uncaught exception: ${describe(e)}`));

// ---- the options of each registration, which `newResource` does not receive ----
let registering: (typeof raw)[number]['options'] | undefined;
const registerResource = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (req, cb) {
  const options = {
    parent: req.getParent(),
    provider: req.getProvider(),
    protect: req.getProtect(),
    retainOnDelete: req.getRetainondelete(),
    deleteBeforeReplace: req.getDeletebeforereplace(),
    ignoreChanges: req.getIgnorechangesList(),
    dependsOn: req.getDependenciesList(),
    importId: req.getImportid(),
  };
  registering = options;
  const index = raw.length;
  try {
    // The mock monitor calls `newResource` synchronously before its first await, so `registering` is seen there.
    return registerResource.call(this, req, (err, resp) => {
      const entry = raw[index];
      if (entry && resp) entry.urn = resp.getUrn();
      cb(err, resp);
    });
  } finally {
    registering = undefined;
  }
};

await pulumi.runtime.setMocks(
  {
    newResource(args) {
      const options = registering ?? {
        parent: '',
        provider: '',
        protect: false,
        retainOnDelete: false,
        deleteBeforeReplace: false,
        ignoreChanges: [],
        dependsOn: [],
        importId: '',
      };
      let result: { id: string | undefined; state: Record<string, unknown> };
      if (!args.custom) result = { id: undefined, state: {} };
      else if (args.type.startsWith('pulumi:providers:')) result = { id: `${args.name}_id`, state: args.inputs };
      else if (args.type.startsWith('pulumi-nodejs:dynamic'))
        result = { id: `${args.name}_id`, state: { ...args.inputs } };
      else result = fakeResource(args.type, args.name, args.inputs);
      raw.push({ args, id: result.id ?? null, state: result.state, options, urn: '' });
      debug('resource', args.type, args.name);
      return result;
    },
    call(args) {
      invokes.push({ token: args.token, inputs: args.inputs });
      debug('invoke', args.token);
      try {
        return fakeInvoke(args.token, args.inputs);
      } catch (e) {
        unknownInvokes.push(args.token);
        fail(describe(e));
        throw e;
      }
    },
  },
  job.project,
  job.stack,
  false,
);

// ---- the SST CLI's JSON-RPC server at SST_SERVER (platform/src/components/rpc/rpc.ts is the client) ----
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    let reply: { result?: unknown; error?: string | null };
    let method = '?';
    try {
      const msg = JSON.parse(body) as { method: string; params: unknown[] };
      method = msg.method;
      const params = msg.params?.[0];
      rpcCalls.push({ method, params });
      debug('rpc', method);
      switch (method) {
        case 'Runtime.Build': {
          const input = params as RuntimeBuildInput;
          builds.push(input);
          reply = { result: fakeRuntimeBuild(input, job.root, job.work, job.platform), error: null };
          break;
        }
        case 'Provider.Aws.Bootstrap':
          reply = { result: BOOTSTRAP, error: null };
          break;
        default: {
          unknownRpc.push(method);
          const message = `infra harness: CLI RPC method "${method}" is not stubbed (params ${JSON.stringify(params)}); add it to tests/infra/runtime.ts`;
          fail(message);
          reply = { result: null, error: message };
        }
      }
    } catch (e) {
      fail(`RPC ${method}: ${describe(e)}`);
      reply = { result: null, error: describe(e) };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: null, ...reply }));
  });
});
// The platform's RPC client (http.request on Node's keep-alive global agent) reuses idle sockets: a server closing
// them after its default 5 s can race a new request on a loaded machine, which then fails with ECONNRESET. So the
// server never closes an idle connection itself; its sockets are unref'd, like the agent's idle ones, so that they
// do not keep the program alive either (a request in flight is kept alive by the client's socket).
server.keepAliveTimeout = 0;
server.on('connection', (socket) => socket.unref());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
// Like the CLI's server, it must not be what keeps the program alive (see the end of this file).
server.unref();
process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
for (const [name, value] of Object.entries(job.secrets)) process.env[`SST_SECRET_${name}`] = value;

// ---- run the program the way Pulumi's language host does ----
// Pulumi's language host (@pulumi/pulumi/cmd/run/run.js) runs the program inside the root stack and then lets "the
// process remain alive until the message loop empties": resources are still registered from `apply` callbacks (after
// RPCs such as Runtime.Build) long after run() returned. So the result is taken when the event loop is empty
// (`beforeExit`), not when the stack's outputs resolve. An output that can never resolve (a failed apply) does not keep
// the loop alive, so a broken program ends too, with its failures recorded.
let outputs: Record<string, unknown> = {};
let finished = false;
const url = pathToFileURL(job.program).href;
debug('program start');
pulumi.runtime
  .runInPulumiStack(async () => ((await import(url)) as { default: unknown }).default)
  .then((o) => {
    outputs = o ?? {};
    finished = true;
    debug('stack outputs resolved');
  })
  .catch((e: unknown) => fail(`the program failed: ${describe(e)}`));

let reported = false;
process.on('beforeExit', () => {
  if (reported) return;
  reported = true;
  debug('event loop empty');
  report().catch((e: unknown) => {
    console.error(describe(e));
    process.exit(2);
  });
});

// ---- plain JSON out: secrets unwrapped (and listed), assets and resource references described ----
async function plain(value: unknown, at: string, secrets: string[]): Promise<unknown> {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Promise) return plain(await value, at, secrets);
  const v = value as Record<string, unknown>;
  if (v[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) {
    secrets.push(at || '.');
    return plain(v.value, at, secrets);
  }
  if (v.__pulumiResource) return { $resource: await (v.urn as Output<string>).promise() };
  if (v.__pulumiAsset || v.__pulumiArchive) {
    const kind = v.__pulumiAsset ? 'asset' : 'archive';
    const out: Record<string, unknown> = { [`$${kind}`]: v.constructor?.name ?? kind };
    for (const key of ['path', 'text', 'uri'] as const) if (key in v) out[key] = await v[key];
    return out;
  }
  if (Array.isArray(value)) return Promise.all(value.map((x, i) => plain(x, `${at}[${i}]`, secrets)));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = await plain(x, at ? `${at}.${k}` : k, secrets);
  return out;
}

async function report(): Promise<void> {
  if (!finished && failures.length === 0)
    fail('the stack never finished (its outputs never resolved) although nothing failed visibly');
  if (pulumi.log.hasErrors()) fail('Pulumi logged errors (see the program output)');
  const resources: RecordedResource[] = [];
  for (const r of raw) {
    const secrets: string[] = [];
    const inputs = { ...r.args.inputs };
    // A dynamic resource's serialized provider closure is noise for assertions.
    if (r.args.type.startsWith('pulumi-nodejs:dynamic')) delete inputs.__provider;
    const { parent, provider, ...options } = r.options;
    resources.push({
      urn: r.urn,
      type: r.args.type,
      name: r.args.name,
      custom: Boolean(r.args.custom),
      parent,
      provider,
      id: r.id,
      inputs: (await plain(inputs, '', secrets)) as Record<string, unknown>,
      secrets,
      state: (await plain(r.state, '', [])) as Record<string, unknown>,
      options,
    });
  }
  const result: RuntimeResult = {
    ok: failures.length === 0,
    failures,
    resources,
    outputs: (await plain(outputs, '', [])) as Record<string, unknown>,
    rpc: rpcCalls,
    invokes,
    builds,
    unknownRpc,
    unknownInvokes,
    millis: Date.now() - started,
  };
  fs.writeFileSync(job.result, JSON.stringify(result, null, 1));
  server.close();
  // Pulumi's promise-leak detector hooks `exit` and would override the code: the result file is the verdict.
  process.removeAllListeners('exit');
  process.exit(result.ok ? 0 : 1);
}

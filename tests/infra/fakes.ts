/**
 * What the mocked Pulumi engine and the stubbed SST CLI answer while the stacks run offline (tests/infra/runtime.ts).
 * Pure functions, no Pulumi: `fakeResource` plays the AWS provider on create (ids, ARNs, auto-names), `fakeInvoke` the
 * provider functions the components call (`aws.getRegion`, `aws.iam.getPolicyDocument`, …), `fakeRpc` the CLI's
 * JSON-RPC server (`Runtime.Build`, `Provider.Aws.Bootstrap`). Anything they do not know is an error that names
 * itself, so a new stack shows exactly what to add here instead of deploying half-mocked.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const PARTITION = 'aws';

/** The CLI's bootstrap data (SST's asset bucket per account/region). */
export const BOOTSTRAP = {
  asset: `sst-asset-${ACCOUNT}-mock`,
  assetEcrRegistryId: ACCOUNT,
  assetEcrUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/sst-asset`,
  state: `sst-state-${ACCOUNT}-mock`,
  appsyncHttp: `mock.appsync-api.${REGION}.amazonaws.com`,
  appsyncRealtime: `mock.appsync-realtime-api.${REGION}.amazonaws.com`,
} as const;

type Inputs = Record<string, unknown>;

const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** Pulumi's auto-naming (`<name>-<7 hex>`), deterministic so two runs of a stage agree. */
export function autoName(name: string, lower = false): string {
  const n = `${name}-${hex(name, 7)}`;
  return lower ? n.toLowerCase() : n;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * How each AWS resource type names itself and what its ARN looks like. `field` is the input that carries the physical
 * name (auto-named when absent); `arn` builds the ARN from that name (and the id / inputs where AWS uses them).
 */
interface TypeShape {
  field?: string;
  lower?: boolean;
  id?: (physical: string, name: string, inputs: Inputs) => string;
  arn?: (physical: string, id: string, inputs: Inputs) => string;
  extra?: (physical: string, id: string, inputs: Inputs) => Inputs;
}

const regional = (service: string, resource: string) => `arn:${PARTITION}:${service}:${REGION}:${ACCOUNT}:${resource}`;
const shortId = (name: string) => hex(name, 10);

const SHAPES: Record<string, TypeShape> = {
  'aws:s3/bucket:Bucket': {
    field: 'bucket',
    lower: true,
    arn: (p) => `arn:${PARTITION}:s3:::${p}`,
    extra: (p) => ({
      bucketDomainName: `${p}.s3.amazonaws.com`,
      bucketRegionalDomainName: `${p}.s3.${REGION}.amazonaws.com`,
      region: REGION,
    }),
  },
  'aws:s3/bucketV2:BucketV2': {
    field: 'bucket',
    lower: true,
    arn: (p) => `arn:${PARTITION}:s3:::${p}`,
    extra: (p) => ({
      bucketDomainName: `${p}.s3.amazonaws.com`,
      bucketRegionalDomainName: `${p}.s3.${REGION}.amazonaws.com`,
      region: REGION,
    }),
  },
  'aws:s3/bucketObjectv2:BucketObjectv2': {
    field: 'key',
    id: (p) => p,
    extra: () => ({ etag: 'mock-etag', versionId: 'mock-version' }),
  },
  'aws:kinesis/stream:Stream': { field: 'name', arn: (p) => regional('kinesis', `stream/${p}`) },
  'aws:lambda/function:Function': {
    field: 'name',
    arn: (p) => regional('lambda', `function:${p}`),
    extra: (p) => ({
      invokeArn: `arn:${PARTITION}:apigateway:${REGION}:lambda:path/2015-03-31/functions/${regional('lambda', `function:${p}`)}/invocations`,
      qualifiedArn: regional('lambda', `function:${p}:$LATEST`),
      version: '$LATEST',
    }),
  },
  'aws:lambda/functionUrl:FunctionUrl': {
    id: (_p, name) => shortId(name),
    extra: (_p, id) => ({
      functionUrl: `https://${id}.lambda-url.${REGION}.on.aws/`,
      urlId: id,
      functionArn: regional('lambda', `function:${id}`),
    }),
  },
  'aws:lambda/eventSourceMapping:EventSourceMapping': {
    id: (_p, name) => `${hex(name, 8)}-0000-4000-8000-${hex(`${name}uuid`, 12)}`,
    arn: (_p, id) => regional('lambda', `event-source-mapping:${id}`),
    extra: (_p, id) => ({ uuid: id, state: 'Enabled' }),
  },
  'aws:iam/role:Role': {
    field: 'name',
    arn: (p) => `arn:${PARTITION}:iam::${ACCOUNT}:role/${p}`,
    extra: (p) => ({ uniqueId: `AROA${hex(p, 16).toUpperCase()}` }),
  },
  'aws:iam/policy:Policy': { field: 'name', arn: (p) => `arn:${PARTITION}:iam::${ACCOUNT}:policy/${p}` },
  'aws:cloudwatch/logGroup:LogGroup': { field: 'name', arn: (p) => regional('logs', `log-group:${p}`) },
  'aws:cloudwatch/metricAlarm:MetricAlarm': { field: 'name', arn: (p) => regional('cloudwatch', `alarm:${p}`) },
  'aws:cloudwatch/dashboard:Dashboard': {
    field: 'dashboardName',
    arn: (p) => `arn:${PARTITION}:cloudwatch::${ACCOUNT}:dashboard/${p}`,
  },
  'aws:cloudwatch/eventRule:EventRule': { field: 'name', arn: (p) => regional('events', `rule/${p}`) },
  'aws:dynamodb/table:Table': {
    field: 'name',
    arn: (p) => regional('dynamodb', `table/${p}`),
    extra: (p) => ({ streamArn: regional('dynamodb', `table/${p}/stream/2024-01-01T00:00:00.000`) }),
  },
  'aws:cloudfront/distribution:Distribution': {
    id: (_p, name) => `E${hex(name, 13).toUpperCase()}`,
    arn: (_p, id) => `arn:${PARTITION}:cloudfront::${ACCOUNT}:distribution/${id}`,
    extra: (_p, id) => ({
      domainName: `d${hex(id, 13)}.cloudfront.net`,
      hostedZoneId: 'Z2FDTNDATAQYW2',
      status: 'Deployed',
      etag: 'mock-etag',
    }),
  },
  'aws:cloudfront/function:Function': {
    field: 'name',
    arn: (p) => `arn:${PARTITION}:cloudfront::${ACCOUNT}:function/${p}`,
    extra: () => ({ etag: 'mock-etag', liveStageEtag: 'mock-etag' }),
  },
  'aws:cloudfront/keyValueStore:KeyValueStore': {
    field: 'name',
    id: (p) => p,
    arn: (p) =>
      `arn:${PARTITION}:cloudfront::${ACCOUNT}:key-value-store/${hex(p, 8)}-0000-4000-8000-${hex(`${p}kvs`, 12)}`,
    extra: () => ({ etag: 'mock-etag' }),
  },
  'aws:cloudfront/cachePolicy:CachePolicy': {
    field: 'name',
    id: (_p, name) => `${hex(name, 8)}-0000-4000-8000-${hex(`${name}cp`, 12)}`,
    extra: () => ({ etag: 'mock-etag' }),
  },
  'aws:cloudfront/originAccessControl:OriginAccessControl': {
    field: 'name',
    id: (_p, name) => `E${hex(name, 13).toUpperCase()}`,
    extra: () => ({ etag: 'mock-etag' }),
  },
  'aws:sns/topic:Topic': { field: 'name', arn: (p) => regional('sns', p) },
  'aws:sqs/queue:Queue': {
    field: 'name',
    arn: (p) => regional('sqs', p),
    extra: (p) => ({ url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${p}` }),
  },
  'aws:apigatewayv2/api:Api': {
    field: 'name',
    id: (_p, name) => shortId(name),
    arn: (_p, id) => `arn:${PARTITION}:apigateway:${REGION}::/apis/${id}`,
    extra: (_p, id) => ({
      apiEndpoint: `https://${id}.execute-api.${REGION}.amazonaws.com`,
      executionArn: regional('execute-api', id),
    }),
  },
  'aws:apigatewayv2/stage:Stage': {
    field: 'name',
    arn: (p, _id, i) => `arn:${PARTITION}:apigateway:${REGION}::/apis/${String(i.apiId)}/stages/${p}`,
    extra: (p, _id, i) => ({
      invokeUrl: `https://${String(i.apiId)}.execute-api.${REGION}.amazonaws.com/${p === '$default' ? '' : p}`,
      executionArn: regional('execute-api', `${String(i.apiId)}/${p}`),
    }),
  },
  'aws:apigatewayv2/route:Route': { id: (_p, name) => shortId(name) },
  'aws:apigatewayv2/integration:Integration': { id: (_p, name) => shortId(name) },
  'aws:apigatewayv2/authorizer:Authorizer': { id: (_p, name) => shortId(name) },
  'aws:glue/catalogDatabase:CatalogDatabase': {
    field: 'name',
    id: (p) => `${ACCOUNT}:${p}`,
    arn: (p) => regional('glue', `database/${p}`),
  },
  'aws:glue/catalogTable:CatalogTable': {
    field: 'name',
    id: (p, _n, i) => `${ACCOUNT}:${String(i.databaseName)}:${p}`,
    arn: (p, _id, i) => regional('glue', `table/${String(i.databaseName)}/${p}`),
  },
  'aws:athena/workgroup:Workgroup': { field: 'name', id: (p) => p, arn: (p) => regional('athena', `workgroup/${p}`) },
  'aws:athena/namedQuery:NamedQuery': {
    field: 'name',
    id: (_p, name) => `${hex(name, 8)}-0000-4000-8000-${hex(`${name}q`, 12)}`,
  },
  'aws:scheduler/schedule:Schedule': { field: 'name', arn: (p) => regional('scheduler', `schedule/default/${p}`) },
  'aws:scheduler/scheduleGroup:ScheduleGroup': {
    field: 'name',
    arn: (p) => regional('scheduler', `schedule-group/${p}`),
  },
  // ---- the OLTP database (stacks/database.ts): VPC, endpoints, security groups, Aurora ----
  'aws:ec2/vpc:Vpc': {
    id: (_p, name) => `vpc-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `vpc/${id}`),
    extra: (_p, id) => ({
      defaultSecurityGroupId: `sg-${hex(`${id}default`, 17)}`,
      mainRouteTableId: `rtb-${hex(`${id}main`, 17)}`,
      defaultNetworkAclId: `acl-${hex(id, 17)}`,
      ownerId: ACCOUNT,
    }),
  },
  'aws:ec2/subnet:Subnet': {
    id: (_p, name) => `subnet-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `subnet/${id}`),
  },
  'aws:ec2/routeTable:RouteTable': {
    id: (_p, name) => `rtb-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `route-table/${id}`),
  },
  'aws:ec2/routeTableAssociation:RouteTableAssociation': { id: (_p, name) => `rtbassoc-${hex(name, 17)}` },
  'aws:ec2/internetGateway:InternetGateway': {
    id: (_p, name) => `igw-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `internet-gateway/${id}`),
  },
  'aws:ec2/securityGroup:SecurityGroup': {
    field: 'name',
    id: (_p, name) => `sg-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `security-group/${id}`),
  },
  'aws:ec2/defaultSecurityGroup:DefaultSecurityGroup': {
    id: (_p, name) => `sg-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `security-group/${id}`),
    extra: () => ({ name: 'default' }),
  },
  'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule': {
    id: (_p, name) => `sgr-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `security-group-rule/${id}`),
  },
  'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule': {
    id: (_p, name) => `sgr-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `security-group-rule/${id}`),
  },
  'aws:ec2/vpcEndpoint:VpcEndpoint': {
    id: (_p, name) => `vpce-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `vpc-endpoint/${id}`),
    // A gateway endpoint's routes target the service's managed prefix list; an interface endpoint gets DNS names.
    extra: (_p, id, i) =>
      i.vpcEndpointType === 'Gateway'
        ? { prefixListId: `pl-${hex(String(i.serviceName), 8)}`, state: 'available' }
        : {
            dnsEntries: [
              {
                dnsName: `${id}.${String(i.serviceName).split('.').pop()}.${REGION}.vpce.amazonaws.com`,
                hostedZoneId: 'Z7HUB22UULQXV',
              },
            ],
            networkInterfaceIds: ((i.subnetIds ?? []) as string[]).map((s) => `eni-${hex(id + s, 17)}`),
            state: 'available',
          },
  },
  'aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace': {
    field: 'name',
    id: (_p, name) => `ns-${hex(name, 16)}`,
    arn: (_p, id) => regional('servicediscovery', `namespace/${id}`),
    extra: (_p, id) => ({ hostedZone: `Z${hex(id, 20).toUpperCase()}` }),
  },
  'aws:ec2/instance:Instance': {
    id: (_p, name) => `i-${hex(name, 17)}`,
    arn: (_p, id) => regional('ec2', `instance/${id}`),
    extra: (_p, id) => ({
      publicIp: '198.51.100.10',
      privateIp: '10.0.0.10',
      primaryNetworkInterfaceId: `eni-${hex(id, 17)}`,
    }),
  },
  'aws:ec2/keyPair:KeyPair': { field: 'keyName', id: (p) => p, arn: (p) => regional('ec2', `key-pair/${p}`) },
  'aws:iam/instanceProfile:InstanceProfile': {
    field: 'name',
    arn: (p) => `arn:${PARTITION}:iam::${ACCOUNT}:instance-profile/${p}`,
  },
  'tls:index/privateKey:PrivateKey': {
    id: (_p, name) => hex(name, 40),
    extra: (_p, id) => ({
      privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\nmock-${id}\n-----END OPENSSH PRIVATE KEY-----\n`,
      publicKeyOpenssh: `ssh-rsa MOCK${id}`,
    }),
  },
  'aws:secretsmanager/secret:Secret': {
    field: 'name',
    arn: (p) => regional('secretsmanager', `secret:${p}-${hex(p, 6)}`),
  },
  'aws:secretsmanager/secretVersion:SecretVersion': {
    id: (_p, name) => `${hex(name, 8)}|mock-version`,
    extra: () => ({ versionId: 'mock-version' }),
  },
  'random:index/randomPassword:RandomPassword': {
    id: (_p, name) => name,
    extra: (_p, name, i) => ({ result: `pw${hex(`password:${name}`, Math.max(0, Number(i.length ?? 16) - 2))}` }),
  },
  'aws:rds/subnetGroup:SubnetGroup': { field: 'name', lower: true, arn: (p) => regional('rds', `subgrp:${p}`) },
  'aws:rds/parameterGroup:ParameterGroup': { field: 'name', lower: true, arn: (p) => regional('rds', `pg:${p}`) },
  'aws:rds/clusterParameterGroup:ClusterParameterGroup': {
    field: 'name',
    lower: true,
    arn: (p) => regional('rds', `cluster-pg:${p}`),
  },
  'aws:rds/cluster:Cluster': {
    field: 'clusterIdentifier',
    lower: true,
    arn: (p) => regional('rds', `cluster:${p}`),
    // What RDS reports after create: the writer and reader endpoints (DNS names), the engine's port, the resource id.
    extra: (p, _id, i) => ({
      endpoint: `${p}.cluster-${hex(ACCOUNT, 12)}.${REGION}.rds.amazonaws.com`,
      readerEndpoint: `${p}.cluster-ro-${hex(ACCOUNT, 12)}.${REGION}.rds.amazonaws.com`,
      port: String(i.engine).includes('postgres') ? 5432 : 3306,
      clusterResourceId: `cluster-${hex(p, 26).toUpperCase()}`,
      hostedZoneId: 'Z2R2ITUGPM61AM',
    }),
  },
  'aws:rds/clusterInstance:ClusterInstance': {
    field: 'identifier',
    lower: true,
    arn: (p) => regional('rds', `db:${p}`),
    extra: (p, _id, i) => ({
      endpoint: `${p}.${hex(ACCOUNT, 12)}.${REGION}.rds.amazonaws.com`,
      port: String(i.engine).includes('postgres') ? 5432 : 3306,
      writer: true,
    }),
  },
  'random:index/randomBytes:RandomBytes': {
    id: (_p, name) => name,
    extra: (_p, _id, i) => {
      const bytes = createHash('sha256')
        .update('random')
        .digest()
        .subarray(0, Number(i.length ?? 32));
      return { base64: bytes.toString('base64'), hex: bytes.toString('hex') };
    },
  },
  'random:index/randomString:RandomString': {
    id: (_p, name) => name,
    extra: (_p, _id, i) => ({ result: hex('rs', Number(i.length ?? 8)) }),
  },
};

/** `aws:glue/catalogTable:CatalogTable` → `glue`. */
function serviceOf(type: string): string {
  const m = /^aws:([a-zA-Z0-9]+)\//.exec(type);
  return m?.[1]?.toLowerCase() ?? 'mock';
}

/** What the provider would hand back after creating a resource: the inputs echoed plus id, physical name and ARN. */
export function fakeResource(type: string, name: string, inputs: Inputs): { id: string; state: Inputs } {
  const shape = SHAPES[type];
  if (!shape) {
    // Generic AWS resource: `name` when it has one, an ARN in the resource's service.
    const physical = str(inputs.name) ?? autoName(name);
    const arn = type.startsWith('aws:')
      ? regional(serviceOf(type), `${type.split(':').pop()?.toLowerCase() ?? 'resource'}/${physical}`)
      : undefined;
    return { id: physical, state: { ...inputs, ...(arn ? { arn } : {}), id: physical } };
  }
  const field = shape.field;
  const physical = (field && str(inputs[field])) || autoName(name, shape.lower);
  const id = shape.id ? shape.id(physical, name, inputs) : physical;
  const state: Inputs = { ...inputs, id };
  if (field) state[field] = physical;
  if (shape.arn) state.arn = shape.arn(physical, id, inputs);
  Object.assign(state, shape.extra?.(physical, id, inputs));
  return { id, state };
}

/** One statement of `aws.iam.getPolicyDocument`'s `statements` input (the provider's own field names). */
interface PolicyStatementInput {
  sid?: string;
  effect?: string;
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

const one = <T>(xs: T[]): T | T[] => (xs.length === 1 ? (xs[0] as T) : xs);

/** The JSON the AWS provider renders for `getPolicyDocument` (same key order and single-value collapsing). */
export function policyDocumentJson(statements: PolicyStatementInput[]): string {
  const rendered = statements.map((s) => {
    const out: Record<string, unknown> = {};
    if (s.sid) out.Sid = s.sid;
    out.Effect = s.effect ?? 'Allow';
    if (s.actions?.length) out.Action = one(s.actions);
    if (s.notActions?.length) out.NotAction = one(s.notActions);
    if (s.resources?.length) out.Resource = one(s.resources);
    if (s.notResources?.length) out.NotResource = one(s.notResources);
    if (s.principals?.length) {
      const p: Record<string, unknown> = {};
      for (const pr of s.principals) p[pr.type] = one(pr.identifiers);
      out.Principal = p;
    }
    if (s.conditions?.length) {
      const c: Record<string, Record<string, unknown>> = {};
      for (const cond of s.conditions) (c[cond.test] ??= {})[cond.variable] = one(cond.values);
      out.Condition = c;
    }
    return out;
  });
  return JSON.stringify({ Version: '2012-10-17', Statement: rendered }, null, 2);
}

/** Provider functions (`invoke`s) the components call; unknown tokens throw with the token's name. */
export function fakeInvoke(token: string, inputs: Inputs): Inputs {
  switch (token) {
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return {
        accountId: ACCOUNT,
        arn: `arn:${PARTITION}:iam::${ACCOUNT}:user/infra-test`,
        userId: 'AIDAMOCKINFRATEST',
        id: ACCOUNT,
      };
    case 'aws:index/getRegion:getRegion':
      return {
        id: REGION,
        name: REGION,
        region: REGION,
        description: 'US East (N. Virginia)',
        endpoint: `ec2.${REGION}.amazonaws.com`,
      };
    case 'aws:index/getPartition:getPartition':
      return { id: PARTITION, partition: PARTITION, dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws' };
    case 'aws:iam/getPolicyDocument:getPolicyDocument': {
      const statements = (inputs.statements ?? []) as PolicyStatementInput[];
      const json = policyDocumentJson(statements);
      // An empty statement list comes back unset, which is what makes SST skip the inline policy (function.ts createRole).
      return {
        ...inputs,
        statements: statements.length ? statements : undefined,
        json,
        minifiedJson: JSON.stringify(JSON.parse(json)),
        id: hex(json, 10),
      };
    }
    case 'aws:index/getAvailabilityZones:getAvailabilityZones': {
      const names = ['a', 'b', 'c', 'd', 'e', 'f'].map((z) => `${REGION}${z}`);
      return { ...inputs, id: REGION, names, zoneIds: names.map((_n, i) => `use1-az${i + 1}`), groupNames: [REGION] };
    }
    case 'aws:ec2/getAmi:getAmi':
      // The newest Amazon Linux 2023 arm64 image (SST's bastion host).
      return {
        ...inputs,
        id: 'ami-0123456789abcdef0',
        imageId: 'ami-0123456789abcdef0',
        name: 'al2023-ami-2023.0.20260101.0-kernel-6.1-arm64',
        architecture: 'arm64',
      };
    case 'aws:index/getArn:getArn': {
      const arn = String(inputs.arn);
      const [, partition, service, region, account, ...rest] = arn.split(':');
      return { arn, partition, service, region, account, resource: rest.join(':'), id: arn };
    }
    default:
      throw new Error(
        `infra harness: no fake for provider function "${token}" (inputs ${JSON.stringify(inputs)}); add it to fakeInvoke in tests/infra/fakes.ts`,
      );
  }
}

/** What the real `Runtime.Build` is asked (function.ts buildInput). */
export interface RuntimeBuildInput {
  functionID: string;
  handler: string;
  bundle?: string;
  runtime: string;
  links?: Record<string, unknown>;
  copyFiles?: { from: string; to: string; isDir: boolean }[];
  properties?: Record<string, unknown>;
  dev?: boolean;
  isContainer?: boolean;
  [key: string]: unknown;
}

const HANDLER_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx'];

/** What `pkg/runtime/node/build.go` always leaves out of a bundle (and installs when imported). */
const SST_FORCE_EXTERNAL = ['sharp', 'pg-native'];

interface EsbuildSync {
  buildSync(options: Record<string, unknown>): {
    errors: { text: string; location?: { file: string; line: number } | null }[];
  };
}

/**
 * `Runtime.Build` as the CLI runs it for Node (`pkg/runtime/node/build.go`): SST's own esbuild bundles the handler as
 * ESM for Node with `sharp`, `pg-native`, the function's `nodejs.install` and `nodejs.esbuild.external` left out, and
 * returns esbuild's errors. So a function that could not be bundled (a native module pulled in by an import, a
 * missing file) fails the infra tests as it would fail `sst deploy`. Packages to install are not installed here.
 */
export function fakeRuntimeBuild(
  input: RuntimeBuildInput,
  root: string,
  work: string,
  platform: string,
): { handler: string; out: string; errors: string[]; sourcemaps: string[] } {
  if (input.bundle)
    return { handler: input.handler, out: path.resolve(root, input.bundle), errors: [], sourcemaps: [] };
  if (!String(input.runtime).startsWith('nodejs'))
    return {
      handler: input.handler,
      out: '',
      errors: [`infra harness: no fake build for runtime "${input.runtime}"`],
      sourcemaps: [],
    };
  const parsed = path.posix.parse(input.handler);
  const base = path.posix.join(parsed.dir, parsed.name);
  const exportName = parsed.ext.replace(/^\./, '');
  const source = HANDLER_EXTENSIONS.map((ext) => path.join(root, base + ext)).find((file) => fs.existsSync(file));
  if (!source || !exportName) {
    return {
      handler: input.handler,
      out: '',
      errors: [
        `Could not find file for handler "${input.handler}" (function ${input.functionID}; looked for ${base}{${HANDLER_EXTENSIONS.join(',')}} under ${root})`,
      ],
      sourcemaps: [],
    };
  }
  const props = (input.properties ?? {}) as {
    install?: string[] | Record<string, string>;
    esbuild?: { external?: string[] };
  };
  const install = Array.isArray(props.install) ? props.install : Object.keys(props.install ?? {});
  const out = path.join(work, 'artifacts', `${input.functionID}-src`);
  const esbuild = createRequire(path.join(platform, 'package.json'))('esbuild') as EsbuildSync;
  let result: ReturnType<EsbuildSync['buildSync']>;
  try {
    result = esbuild.buildSync({
      entryPoints: [source],
      platform: 'node',
      external: [...SST_FORCE_EXTERNAL, ...install, ...(props.esbuild?.external ?? [])],
      keepNames: true,
      bundle: true,
      format: 'esm',
      target: 'esnext',
      mainFields: ['module', 'main'],
      outfile: path.join(out, `${base}.mjs`),
      write: true,
      logLevel: 'silent',
      banner: {
        js: "import { createRequire as topLevelCreateRequire } from 'module';\nconst require = topLevelCreateRequire(import.meta.url);",
      },
    });
  } catch (err) {
    // buildSync throws when the build has errors; they are on the error.
    result = {
      errors: (err as { errors?: ReturnType<EsbuildSync['buildSync']>['errors'] }).errors ?? [{ text: String(err) }],
    };
  }
  const errors = result.errors.map((e) => `${e.text}${e.location ? ` ${e.location.file}:${e.location.line}` : ''}`);
  return { handler: input.handler, out, errors, sourcemaps: [] };
}

/**
 * What `open-next build` (@opennextjs/aws 3.x) leaves in a Next.js app for sst.aws.Nextjs to deploy: the output
 * manifest, one bundle per function (each with its `index.mjs`), the static assets and ISR cache, and the `.next`
 * files the component reads (BUILD_ID, routes and prerender manifests). The harness writes it into the app root it
 * hands to the program (a shadow of the repository), never into the repository's own `.next`/`.open-next`.
 */
export function writeFakeOpenNextOutput(root: string): void {
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  };
  const fn = (bundle: string) => ({ handler: 'index.handler', bundle });
  const output = {
    edgeFunctions: {},
    origins: {
      s3: {
        type: 's3',
        originPath: '_assets',
        copy: [
          { from: '.open-next/assets', to: '_assets', cached: true, versionedSubDir: '_next' },
          { from: '.open-next/cache', to: '_cache', cached: false },
        ],
      },
      imageOptimizer: {
        type: 'function',
        ...fn('.open-next/image-optimization-function'),
        streaming: false,
        imageLoader: 's3',
      },
      default: {
        type: 'function',
        ...fn('.open-next/server-functions/default'),
        streaming: false,
        wrapper: 'aws-lambda',
        converter: 'aws-apigw-v2',
      },
    },
    behaviors: [
      { pattern: '_next/image*', origin: 'imageOptimizer' },
      { pattern: '_next/data/*', origin: 'default' },
      { pattern: '*', origin: 'default' },
      { pattern: 'BUILD_ID', origin: 's3' },
      { pattern: '_next/*', origin: 's3' },
    ],
    additionalProps: {
      disableIncrementalCache: false,
      disableTagCache: false,
      initializationFunction: fn('.open-next/dynamodb-provider'),
      warmer: fn('.open-next/warmer-function'),
      revalidationFunction: fn('.open-next/revalidation-function'),
    },
  };
  write('.open-next/open-next.output.json', JSON.stringify(output, null, 2));
  for (const dir of [
    'server-functions/default',
    'image-optimization-function',
    'dynamodb-provider',
    'warmer-function',
    'revalidation-function',
  ]) {
    write(
      `.open-next/${dir}/index.mjs`,
      `// stand-in for open-next's ${dir} (infra test)\nexport const handler = async () => ({});\n`,
    );
  }
  write('.open-next/assets/BUILD_ID', 'infra-test-build');
  write('.open-next/assets/_next/static/infra-test-build/_buildManifest.js', 'self.__BUILD_MANIFEST = {};\n');
  write('.open-next/assets/favicon.ico', '');
  write('.open-next/cache/infra-test-build/index.cache', '{}');
  write('.next/BUILD_ID', 'infra-test-build');
  write(
    '.next/routes-manifest.json',
    JSON.stringify({
      version: 3,
      basePath: '',
      pages404: true,
      redirects: [],
      headers: [],
      dynamicRoutes: [],
      staticRoutes: [],
    }),
  );
  write(
    '.next/prerender-manifest.json',
    JSON.stringify({ version: 4, routes: {}, dynamicRoutes: {}, notFoundRoutes: [], preview: {} }),
  );
}

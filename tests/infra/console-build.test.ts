/**
 * The deployed console has what it reads from disk: the console built for real with the command `sst deploy` runs
 * (OpenNext, tests/infra/console-build.ts), and its server function — the directory SST zips into the Lambda, mounted
 * at /var/task — holds schemas/ and queries/ exactly as the repository has them, where the console's environment
 * points lib/registry and lib/query/saved.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleBuildCurrent, consoleSourceFingerprint } from '../../local/console-build.ts';
import { loadSavedQueries } from '../../lib/query/saved.ts';
import { Registry } from '../../lib/registry/registry.ts';
import { consoleBuild, deployed } from './deployed.ts';
import { REPO } from './harness.ts';

const infra = deployed('ci');

/** Every file under `dir`, relative to it, sorted. */
function files(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** The server function's bundle, as OpenNext names it for SST (`origins.default.bundle`). */
function serverDir(): string {
  const build = consoleBuild();
  expect(build.code, `the console build failed; log ${build.logFile}:\n${build.tail}`).toBe(0);
  const output = JSON.parse(fs.readFileSync(path.join(build.outDir, 'open-next.output.json'), 'utf8')) as {
    origins: { default: { bundle: string; handler: string } };
  };
  expect(output.origins.default).toMatchObject({
    bundle: '.open-next/server-functions/default',
    handler: 'index.handler',
  });
  return path.join(REPO, output.origins.default.bundle);
}

describe('console build', () => {
  it('is what SST runs for the console: OpenNext 3.9.14 (pinned in stacks/console.ts), exactly once', () => {
    const builders = infra.byType('command:local:Command').filter((c) => c.name === 'ConsoleBuilder');
    expect(builders.map((c) => c.inputs.create)).toEqual(['npx --yes @opennextjs/aws@3.9.14 build']);
    expect(consoleBuild().command).toBe('npx --yes @opennextjs/aws@3.9.14 build');
  });

  it('leaves a build stamped with the sources it was made of, which tributary dev and the browser tests reuse', () => {
    serverDir();
    expect(consoleBuildCurrent(consoleSourceFingerprint(REPO), REPO)).toBe(true);
  });

  it.each(['schemas', 'tables', 'queries'])(
    'the server function ships %s/ byte for byte as the repository has it',
    (dir) => {
      const shipped = path.join(serverDir(), dir);
      expect(fs.existsSync(shipped), `${shipped} is missing`).toBe(true);
      const want = files(path.join(REPO, dir));
      expect(want.length).toBeGreaterThan(0);
      expect(files(shipped)).toEqual(want);
      for (const f of want)
        expect(fs.readFileSync(path.join(shipped, f)).equals(fs.readFileSync(path.join(REPO, dir, f))), f).toBe(true);
    },
  );

  it('the server function carries DuckDB for linux-arm64 at the locked version (the console guards every query with its parser)', () => {
    const root = serverDir();
    const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const locked = lock.packages['node_modules/@duckdb/node-api']!.version;
    for (const pkg of ['@duckdb/node-api', '@duckdb/node-bindings', '@duckdb/node-bindings-linux-arm64']) {
      const manifest = path.join(root, 'node_modules', pkg, 'package.json');
      expect(fs.existsSync(manifest), `${manifest} is missing`).toBe(true);
      expect((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version, pkg).toBe(locked);
    }
    expect(fs.existsSync(path.join(root, 'node_modules', '@duckdb', 'node-bindings-linux-arm64', 'duckdb.node'))).toBe(
      true,
    );
  });

  it('the deployed console reads them from /var/task, where its server function has them, and they load as locally', () => {
    const env = (infra.lambda(/^ConsoleServer/).inputs.environment as { variables: Record<string, string> }).variables;
    expect({ schemas: env.TRIBUTARY_SCHEMAS_DIR, queries: env.TRIBUTARY_QUERIES_DIR }).toEqual({
      schemas: '/var/task/schemas',
      queries: '/var/task/queries',
    });
    const root = serverDir();
    const built = new Registry(path.join(root, 'schemas'));
    const repo = new Registry(path.join(REPO, 'schemas'));
    expect(built.names()).toEqual(repo.names());
    for (const name of repo.names())
      expect([...built.get(name).versions.keys()], name).toEqual([...repo.get(name).versions.keys()]);
    expect(loadSavedQueries(path.join(root, 'queries'))).toEqual(loadSavedQueries(path.join(REPO, 'queries')));
  });
});

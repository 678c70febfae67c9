/**
 * Only Lambda may assume a function's role. SST 4.17.1 means to add the account root as a second principal under
 * `sst dev` only (so the CLI can run functions locally with their role), but tests a Pulumi Output for that, which is
 * always truthy, so every deployed role trusts the whole account. Outside `sst dev` this puts the intended policy back.
 * Called first in run(), before any function exists.
 */
export const LAMBDA_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

export function restrictFunctionRoles(): void {
  if ($dev) return;
  $transform(sst.aws.Function, (args) => {
    const own = args.transform?.role;
    args.transform = {
      ...args.transform,
      role: (roleArgs, opts, name) => {
        roleArgs.assumeRolePolicy = LAMBDA_TRUST_POLICY;
        if (typeof own === 'function') own(roleArgs, opts, name);
        else if (own) Object.assign(roleArgs, own);
      },
    };
  });
}

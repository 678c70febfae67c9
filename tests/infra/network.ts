/** The network parts of a deployment the infra tests look up: security groups, their rules, VPC endpoints. */
import type { Infra } from './harness.ts';

export function networkOf(infra: Infra) {
  return {
    group: (name: string) => infra.one('aws:ec2/securityGroup:SecurityGroup', name),
    endpoint: (name: string) => infra.one('aws:ec2/vpcEndpoint:VpcEndpoint', name),
    ingressRules: () => [
      ...infra.byType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule'),
      ...infra.byType('aws:ec2/securityGroupRule:SecurityGroupRule'),
    ],
    egressRules: () => [
      ...infra.byType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule'),
      ...infra.byType('aws:ec2/securityGroupRule:SecurityGroupRule'),
    ],
  };
}

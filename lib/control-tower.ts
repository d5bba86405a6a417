/**
 * The AWS Control Tower proactive controls (the cfn-guard rules `@cdklabs/cdk-validator-cfnguard`
 * ships) the notifier does not meet in its default deploy, each with the reason: the one place
 * they are listed. bin/app.ts and the tests disable exactly these, the README's table is checked
 * against this list, and `test/lib/control-tower.test.ts` shows that each one hides a real finding.
 *
 * Everything else the controls ask for is met by the construct itself: X-Ray on the stage and the
 * functions, log groups kept a year and KMS-encrypted, the table and the alarm topic on a
 * customer-managed key, no console test-invoke permission, the source account on the invoke
 * permission, a redrive-allow policy on the dead-letter queue naming the queue.
 */
export interface ControlTowerAcknowledgement {
  /** The rule's file name in the validator's rule set (`ct-<service>-pr-<n>`), as `disabledRules` takes it. */
  readonly rule: string;
  /** The control's id in the Control Tower documentation. */
  readonly control: string;
  /** Why the default deploy does not meet it, and what meets it. */
  readonly reason: string;
}

export const CONTROL_TOWER_DISABLED_RULES: readonly ControlTowerAcknowledgement[] = [
  {
    rule: 'ct-lambda-pr-3',
    control: 'CT.LAMBDA.PR.3',
    reason:
      'Functions in a VPC need subnets with a NAT gateway (to reach Slack) or VPC endpoints for SQS, DynamoDB, ' +
      'Secrets Manager, CloudWatch and X-Ray; the notifier cannot create that network for an account it does not ' +
      'know, and a NAT gateway alone costs about 32 USD a month. Pass `vpc` (and `vpcSubnets`) to run both ' +
      'functions in your VPC, which meets the control.',
  },
];

import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Lets `grantee` read and write items of a DynamoDB table encrypted with `key`: what DynamoDB asks
 * of a caller of a table under a customer-managed key, without the wildcards of
 * `key.grantEncryptDecrypt` (cdk-nag's IAM5 flags `kms:ReEncrypt*` and `kms:GenerateDataKey*`).
 * `Table.grant(...)` grants no key use of its own.
 */
export function grantTableKeyUse(key: kms.IKey, grantee: iam.IGrantable): void {
  key.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo');
}

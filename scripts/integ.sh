#!/usr/bin/env bash
# The integration test on a real AWS account (needs credentials and a bootstrapped environment:
# `npx cdk bootstrap`). Deploys test/integ/integ.notifier.ts: the stack under test (the notifier, a
# Slack stand-in, a signing client) and its assertion stack, whose custom resources set the
# secrets, send a signed and a forged webhook through the real endpoint and wait for one delivery
# and one dead letter; a failed assertion fails the deploy with its message. Then destroys both
# stacks, pass or fail (KEEP=1 keeps them for a look).
# Usage: scripts/integ.sh            (region: AWS_REGION or your profile's; about 10-15 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
export CDK_DISABLE_CLI_TELEMETRY=true
app="npx ts-node --transpile-only test/integ/integ.notifier.ts"
destroy() {
  if [ "${KEEP:-}" = 1 ]; then echo "integ: KEEP=1, stacks left in place; remove them with: npx cdk destroy --app \"$app\" --all --force"; return; fi
  echo "== destroy"
  npx cdk destroy --app "$app" --all --force
}
trap destroy EXIT
echo "== deploy (the assertions run as part of it)"
npx cdk deploy --app "$app" --all --require-approval never
echo "integ: all assertions passed"

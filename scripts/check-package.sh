#!/usr/bin/env bash
# Maintainer check, run by hand before publishing (not part of `npm test`; needs the npm registry):
# packs this repository as npm would publish it, installs the tarball into a fresh CDK app in a
# temporary folder and checks what README.md promises an outside user:
#   - the tarball holds dist/, the handler sources, the samples, and no tests, caches or secrets;
#   - `import { DodoSlackNotifier, Transformation } from 'dodo-slack-notifier'` and
#     `import type { TypedTransform } from 'dodo-slack-notifier'` type-check with tsc (strict, no skipLibCheck);
#   - with esbuild NOT installed and no Docker: a bare `new DodoSlackNotifier(stack, 'Notifier')`,
#     the whole stack and one with routes using Transformation.fromInline / fromFile synthesize from
#     the handlers the package prebundled (dist/handlers), byte for byte, and load in node;
#   - with esbuild installed (the one thing it is needed for): Transformation.fromModule synthesizes;
#   - cdk-nag AwsSolutions reports nothing unacknowledged for the bare construct, and the Control
#     Tower cfn-guard rules nothing but DodoSlackNotifier.controlTowerDisabledRules (README snippet);
#   - `npx dodo-slack preview payment.succeeded` (and with a typed --transform) works from the app.
# Usage: scripts/check-package.sh [work-dir]   (default: a new folder under /tmp; kept on failure)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -gt 0 ]; then work="$1"; created=""; else work="$(mktemp -d /tmp/dodo-check-package.XXXXXX)"; created=1; fi
mkdir -p "$work"
export CDK_DISABLE_CLI_TELEMETRY=true
fail() { echo "check-package: FAIL: $*" >&2; echo "check-package: files kept in $work" >&2; exit 1; }
step() { echo "== $*"; }

version_of() { node -p "require('$repo/package.json').devDependencies['$1']"; }

step "npm pack (prepack builds dist/)"
tarball="$(cd "$repo" && npm pack --pack-destination "$work" --silent | tail -n 1)"
tarball="$work/$tarball"
[ -f "$tarball" ] || fail "npm pack produced no tarball"
tar tzf "$tarball" > "$work/tarball-files.txt"
for needed in package/dist/lib/index.js package/dist/lib/index.d.ts package/dist/bin/dodo-slack.js \
  package/bin/dodo-slack.js package/lambda/receiver/handler.ts package/lambda/transformer/handler.ts \
  package/dist/lambda/receiver/handler.js package/dist/lambda/transformer/handler.js \
  package/dist/handlers/receiver/index.js package/dist/handlers/transformer/index.js \
  package/dist/handlers/summaries/index.js package/samples/payment.succeeded.json; do
  grep -qx "$needed" "$work/tarball-files.txt" || fail "the tarball lacks $needed"
done
if grep -E '^package/(test|cdk\.out|node_modules|\.bench|coverage)/|\.env$|dead-letters\.jsonl$|\.tgz$' "$work/tarball-files.txt"; then
  fail "the tarball holds files an app does not need (above)"
fi
size_kb=$(( $(stat -c %s "$tarball") / 1024 ))
[ "$size_kb" -lt 2048 ] || fail "the tarball is ${size_kb} KB"
echo "$(wc -l < "$work/tarball-files.txt") files, ${size_kb} KB"

app="$work/user-app"
rm -rf "$app" && mkdir -p "$app/src" "$app/transforms"
cd "$app"
cat > package.json <<'EOF'
{ "name": "check-package-user-app", "version": "1.0.0", "private": true }
EOF
step "npm install the tarball into a fresh app"
# No esbuild: the built-in path must not need it (it is an optional peer dependency).
npm install --no-audit --no-fund --silent \
  "aws-cdk-lib@$(version_of aws-cdk-lib)" "constructs@$(version_of constructs)" \
  "typescript@$(version_of typescript)" "@types/node@$(version_of @types/node)" "cdk-nag@$(version_of cdk-nag)" "$tarball"
if node -e "require.resolve('esbuild')" 2>/dev/null; then fail "esbuild got installed with the package"; fi
echo "esbuild is not installed"

cat > tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022", "module": "commonjs", "strict": true, "esModuleInterop": true,
    "skipLibCheck": false, "outDir": "build", "rootDir": ".", "types": ["node"]
  },
  "include": ["src/**/*.ts", "transforms/**/*.ts"]
}
EOF
cat > transforms/dashboard.js <<'EOF'
function handler(webhook) {
  webhook.payload = { text: 'Dispute ' + webhook.payload.data.dispute_id };
  return webhook;
}
EOF
cat > transforms/helper.ts <<'EOF'
export function label(type: string): string {
  return `[${type}]`;
}
EOF
cat > transforms/typed.ts <<'EOF'
import type { DodoWebhookEvent, SlackMessage, TypedTransform } from 'dodo-slack-notifier';
import { label } from './helper';

export const transform: TypedTransform = (event: DodoWebhookEvent, context) => {
  const message: SlackMessage = { text: `${label(event.type)} typed ${context.webhookId}` };
  return message;
};
EOF
cat > src/app.ts <<'EOF'
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DodoSlackNotifier, DodoSlackNotifierStack, Transformation } from 'dodo-slack-notifier';
import type { DodoSlackNotifierProps } from 'dodo-slack-notifier';

const transforms = path.join(__dirname, '..', '..', 'transforms');
const app = new App({ outdir: process.argv[2] });

const bare = new Stack(app, 'BareStack');
new DodoSlackNotifier(bare, 'Notifier');

// The summaries' function comes prebundled too.
new DodoSlackNotifier(new Stack(app, 'SummariesStack'), 'Notifier', { summaries: { timeZone: 'Europe/Berlin', daily: { hour: 9 } } });

const routed = new Stack(app, 'RoutesStack');
const props: DodoSlackNotifierProps = {
  slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(routed, 'Main', 'slack/main'),
  events: ['payment.*'],
  transformation: Transformation.fromInline(
    'function handler(webhook) { webhook.payload = { text: "inline " + webhook.payload.type }; return webhook; }',
  ),
  routes: [
    {
      id: 'Risk',
      events: ['dispute.*'],
      slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(routed, 'Risk', 'slack/risk'),
      transformation: Transformation.fromFile(path.join(transforms, 'dashboard.js')),
    },
  ],
};
new DodoSlackNotifier(routed, 'Notifier', props);
new DodoSlackNotifierStack(app, 'WholeStack');
app.synth();
EOF
cat > src/app-typed.ts <<'EOF'
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DodoSlackNotifier, Transformation } from 'dodo-slack-notifier';

const transforms = path.join(__dirname, '..', '..', 'transforms');
const app = new App({ outdir: process.argv[2] });
const typed = new Stack(app, 'TypedStack');
new DodoSlackNotifier(typed, 'Notifier', {
  routes: [
    {
      id: 'Subscriptions',
      events: ['subscription.*'],
      slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(typed, 'Subs', 'slack/subs'),
      transformation: Transformation.fromModule(path.join(transforms, 'typed.ts'), { timeout: Duration.millis(500) }),
    },
  ],
});
app.synth();
EOF

step "tsc over the app and its typed transformation (types from dist/lib/index.d.ts)"
npx tsc -p . || fail "the app does not type-check against the package's types"

step "the installed construct uses the handlers the package prebundled"
node -e "
const { locatePrebundledHandler } = require('dodo-slack-notifier/dist/lib/lambda-entry');
for (const name of ['receiver', 'transformer']) {
  const dir = locatePrebundledHandler(name);
  console.log(name, dir);
  if (!dir || !dir.endsWith('/node_modules/dodo-slack-notifier/dist/handlers/' + name)) process.exit(1);
}" || fail "locatePrebundledHandler does not find the package's bundles"

step "synth without esbuild and without Docker"
out="$app/cdk.out"
DOCKER_HOST=unix:///nonexistent PATH="$(dirname "$(command -v node)")" node build/src/app.js "$out" > "$work/synth.txt" 2>&1 \
  || { cat "$work/synth.txt"; fail "synth without esbuild"; }
if grep -Ei 'Bundling asset|docker' "$work/synth.txt"; then fail "the synth bundled (above) instead of using the prebundled handlers"; fi
for stack in BareStack SummariesStack RoutesStack WholeStack; do
  [ -f "$out/$stack.template.json" ] || fail "no template for $stack"
done
pkg="$app/node_modules/dodo-slack-notifier/dist/handlers"
receivers=0
summaries=0
for bundle in $(find "$out" -name index.js -path '*asset.*'); do
  node -e "const m = require('$bundle'); if (typeof m.handler !== 'function') process.exit(1)" || fail "$bundle exports no handler"
  if cmp -s "$bundle" "$pkg/receiver/index.js"; then receivers=$((receivers + 1));
  elif cmp -s "$bundle" "$pkg/summaries/index.js"; then summaries=$((summaries + 1));
  elif ! cmp -s "$bundle" "$pkg/transformer/index.js"; then fail "$bundle is not one of the package's prebundled handlers"; fi
  echo "$(( $(stat -c %s "$bundle") / 1024 )) KB  $bundle"
done
[ "$receivers" -ge 1 ] || fail "no receiver asset is the prebundled receiver"
[ "$summaries" -ge 1 ] || fail "no summaries asset is the prebundled summary function"
user_code=$(find "$out" -name dodo-slack-user-code.json -path '*asset.*')
[ -n "$user_code" ] || fail "the routes' transformer asset has no user code file"
grep -l 'Dispute ' $user_code > /dev/null || fail "the fromFile code is not beside the transformer"
grep -l 'inline ' $user_code > /dev/null || fail "the fromInline code is not beside the transformer"

step "with esbuild installed: Transformation.fromModule"
npm install --no-audit --no-fund --silent "esbuild@$(version_of esbuild)"
DOCKER_HOST=unix:///nonexistent node build/src/app-typed.js "$app/cdk.typed.out" > "$work/synth-typed.txt" 2>&1 \
  || { cat "$work/synth-typed.txt"; fail "synth with fromModule"; }
grep -l 'typed ' $(find "$app/cdk.typed.out" -name dodo-slack-user-code.json -path '*asset.*') > /dev/null \
  || fail "the fromModule code is not beside the transformer"

step "cdk-nag AwsSolutions on the bare construct"
node -e "
const { App, Stack } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { DodoSlackNotifier } = require('dodo-slack-notifier');
const app = new App({ outdir: '$work/nag.out' });
new DodoSlackNotifier(new Stack(app, 'NagStack'), 'Notifier');
app.synth();
const findings = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
console.log('unacknowledged findings:', JSON.stringify(findings));
process.exit(findings.length === 0 ? 0 : 1);" > "$work/nag.txt" 2>&1 || { cat "$work/nag.txt"; fail "cdk-nag findings"; }
grep 'unacknowledged' "$work/nag.txt"

step "Control Tower rules (cfn-guard) on the bare construct, as the README shows"
npm install --no-audit --no-fund --silent "@cdklabs/cdk-validator-cfnguard@$(version_of @cdklabs/cdk-validator-cfnguard)"
node -e "
const { App, Stack } = require('aws-cdk-lib');
const { CfnGuardValidator } = require('@cdklabs/cdk-validator-cfnguard');
const { DodoSlackNotifier } = require('dodo-slack-notifier');
const app = new App({
  outdir: '$work/guard.out',
  policyValidationBeta1: [new CfnGuardValidator({ disabledRules: [...DodoSlackNotifier.controlTowerDisabledRules] })],
});
new DodoSlackNotifier(new Stack(app, 'GuardStack', { env: { account: '111122223333', region: 'eu-west-1' } }), 'Notifier');
app.synth();
console.log('cfn-guard: no finding but', JSON.stringify(DodoSlackNotifier.controlTowerDisabledRules));" > "$work/guard.txt" 2>&1 || { cat "$work/guard.txt"; fail "Control Tower findings"; }
grep 'cfn-guard:' "$work/guard.txt"

step "npx dodo-slack from the app"
npx dodo-slack preview payment.succeeded > "$work/preview.json" || fail "preview payment.succeeded"
node -e "const m = require('$work/preview.json'); if (!/Payment succeeded/.test(m.text)) process.exit(1)" || fail "unexpected preview"
head -n 2 "$work/preview.json"
npx dodo-slack preview subscription.active --transform transforms/typed.ts --format text | grep -q '\[subscription.active\] typed' \
  || fail "preview with a typed --transform"

echo "check-package: OK"
if [ -n "$created" ]; then cd / && rm -rf "$work"; fi

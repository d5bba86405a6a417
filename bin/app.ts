#!/usr/bin/env node
/**
 * The deployable app: `npx cdk deploy` with optional context, e.g.
 *   npx cdk deploy -c slackWebhookSecretName=dodo/slack -c events='payment.*,dispute.*' -c alarmEmail=ops@example.com
 * Context keys: slackWebhookSecretArn | slackWebhookSecretName, signingSecretArn | signingSecretName,
 * events (comma-separated globs), alarmEmail, stackName (default DodoSlackNotifier).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../lib/app-config';

const app = new App();
buildApp(app);
// Every AwsSolutions finding fails the synth unless the construct acknowledged it with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

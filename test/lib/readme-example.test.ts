/**
 * The README's "Embed the construct" example, taken from README.md itself, runs as written: a user
 * who copies it gets a valid notifier (the example once set default-route props without the
 * default route's Slack secret, which the construct's validation refuses).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { functionEnv, renderCfnString, testApp } from './helpers';

function embedExample(): string {
  const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Embed the construct'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README has no ```ts block under "## Embed the construct"');
  return match[1];
}

test('the README embed example synthesizes a notifier with its routes', () => {
  const source = embedExample().replace(/'dodo-slack-notifier'/g, JSON.stringify(path.join(__dirname, '../../lib')));
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const stack = new Stack(testApp(), 'UserStack');
  // The example is the body of a Stack constructor: `this` is the stack.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the README's example code is what this test checks
  new Function('require', 'exports', outputText).call(stack, require, {});
  // Synthesizes (the constructor validated the props; this runs the rest of the synthesis).
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::SQS::Queue', 2);
  const routes = JSON.parse(renderCfnString(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.Routes])) as RouteConfig[];
  expect(routes.map((route) => [route.id, route.events])).toEqual([
    ['default', ['payment.*', 'refund.*', 'dispute.*', 'subscription.*']],
    ['Risk', ['dispute.*']],
  ]);
});
